import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ConnectionList, ConnectionView, CreateConnection, UpdateConnection } from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { ConnectionsService } from './connections.service.js';

class CreateConnectionDto extends zodDto(CreateConnection) {}
class UpdateConnectionDto extends zodDto(UpdateConnection) {}
class ConnectionViewDto extends zodDto(ConnectionView, 'output') {}
class ConnectionListDto extends zodDto(ConnectionList, 'output') {}

@ApiTags('connections')
@Controller('connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: ConnectionViewDto })
  create(@Body() body: CreateConnectionDto, @CurrentUser() user: AuthenticatedUser): Promise<ConnectionView> {
    return this.connections.create(body, user);
  }

  @Get()
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: ConnectionListDto })
  async list(): Promise<ConnectionList> {
    return { items: await this.connections.list() };
  }

  @Get(':idOrName')
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: ConnectionViewDto })
  get(@Param('idOrName') idOrName: string): Promise<ConnectionView> {
    return this.connections.get(idOrName);
  }

  @Patch(':idOrName')
  @Roles('admin')
  @ApiOkResponse({ type: ConnectionViewDto })
  update(
    @Param('idOrName') idOrName: string,
    @Body() body: UpdateConnectionDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ConnectionView> {
    return this.connections.update(idOrName, body, user);
  }

  @Delete(':idOrName')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse()
  delete(@Param('idOrName') idOrName: string, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.connections.delete(idOrName, user);
  }
}
