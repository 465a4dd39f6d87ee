import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DisableIdentity, EnableIdentity, IdentityPage, IdentityQuery, IdentityView } from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { IdentitiesService } from './identities.service.js';

class IdentityQueryDto extends zodDto(IdentityQuery) {}
class DisableIdentityDto extends zodDto(DisableIdentity) {}
class EnableIdentityDto extends zodDto(EnableIdentity) {}
class IdentityViewDto extends zodDto(IdentityView, 'output') {}
class IdentityPageDto extends zodDto(IdentityPage, 'output') {}

@ApiTags('identities')
@Controller('identities')
export class IdentitiesController {
  constructor(private readonly identities: IdentitiesService) {}

  @Get()
  @Roles('admin', 'auditor')
  @ApiOkResponse({ type: IdentityPageDto })
  list(@Query() query: IdentityQueryDto): Promise<IdentityPage> {
    return this.identities.list(query);
  }

  @Get(':subject')
  @Roles('admin', 'auditor')
  @ApiOkResponse({ type: IdentityViewDto })
  @ApiNotFoundResponse({ description: 'No token with this subject has been seen.' })
  get(@Param('subject') subject: string): Promise<IdentityView> {
    return this.identities.get(subject);
  }

  @Post(':subject/disable')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({
    type: IdentityViewDto,
    description: 'Agents refuse the subject and end its sessions with the next snapshot.',
  })
  @ApiNotFoundResponse({ description: 'No token with this subject has been seen.' })
  @ApiConflictResponse({ description: 'The identity is the last enabled admin.' })
  disable(
    @Param('subject') subject: string,
    @Body() body: DisableIdentityDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<IdentityView> {
    return this.identities.disable(subject, body.reason, user);
  }

  @Post(':subject/enable')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: IdentityViewDto })
  @ApiNotFoundResponse({ description: 'No token with this subject has been seen.' })
  enable(
    @Param('subject') subject: string,
    @Body() body: EnableIdentityDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<IdentityView> {
    return this.identities.enable(subject, body.reason, user);
  }
}
