import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreateGrant, GrantList, GrantQuery, GrantView } from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { GrantsService } from './grants.service.js';

class CreateGrantDto extends zodDto(CreateGrant) {}
class GrantQueryDto extends zodDto(GrantQuery) {}
class GrantViewDto extends zodDto(GrantView, 'output') {}
class GrantListDto extends zodDto(GrantList, 'output') {}

@ApiTags('grants')
@Controller('grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: GrantViewDto })
  create(@Body() body: CreateGrantDto, @CurrentUser() user: AuthenticatedUser): Promise<GrantView> {
    return this.grants.create(body, user);
  }

  @Get()
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: GrantListDto })
  async list(@Query() query: GrantQueryDto): Promise<GrantList> {
    return { items: await this.grants.list(query) };
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse()
  revoke(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.grants.revoke(id, user);
  }
}
