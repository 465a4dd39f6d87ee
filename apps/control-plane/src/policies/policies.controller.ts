import { Body, Controller, ForbiddenException, Get, HttpCode, Param, ParseIntPipe, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  PolicyDocument,
  PolicyPreview,
  PolicyVersionList,
  PolicyView,
  PreviewPolicy,
  RollbackPolicy,
} from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { PoliciesService } from './policies.service.js';

class PolicyDocumentDto extends zodDto(PolicyDocument) {}
class RollbackPolicyDto extends zodDto(RollbackPolicy) {}
class PreviewPolicyDto extends zodDto(PreviewPolicy) {}
class PolicyViewDto extends zodDto(PolicyView, 'output') {}
class PolicyVersionListDto extends zodDto(PolicyVersionList, 'output') {}
class PolicyPreviewDto extends zodDto(PolicyPreview, 'output') {}

@ApiTags('policies')
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get()
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: PolicyViewDto })
  current(): Promise<PolicyView> {
    return this.policies.current();
  }

  @Put()
  @Roles('admin')
  @ApiOkResponse({ type: PolicyViewDto })
  update(@Body() body: PolicyDocumentDto, @CurrentUser() user: AuthenticatedUser): Promise<PolicyView> {
    return this.policies.update(body, user);
  }

  @Get('versions')
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: PolicyVersionListDto })
  async versions(): Promise<PolicyVersionList> {
    return { items: await this.policies.versions() };
  }

  @Get('versions/:version')
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: PolicyViewDto })
  version(@Param('version', ParseIntPipe) version: number): Promise<PolicyView> {
    return this.policies.version(version);
  }

  @Post('rollback')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: PolicyViewDto })
  rollback(@Body() body: RollbackPolicyDto, @CurrentUser() user: AuthenticatedUser): Promise<PolicyView> {
    return this.policies.rollback(body.version, user);
  }

  @Post('preview')
  @HttpCode(200)
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: PolicyPreviewDto })
  preview(@Body() body: PreviewPolicyDto, @CurrentUser() user: AuthenticatedUser): Promise<PolicyPreview> {
    // A draft is an author's tool, and its custom detectors are regular expressions run here.
    if (body.policy && !user.roles.includes('admin')) {
      throw new ForbiddenException('only admins may preview a draft policy; leave out "policy" to preview the one in force');
    }
    return this.policies.preview(body);
  }
}
