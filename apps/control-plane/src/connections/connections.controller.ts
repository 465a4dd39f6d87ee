import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiGatewayTimeoutResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  ConnectionList,
  ConnectionTestResult,
  ConnectionView,
  CreateConnection,
  UpdateConnection,
} from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { ConnectionsService } from './connections.service.js';

class CreateConnectionDto extends zodDto(CreateConnection) {}
class UpdateConnectionDto extends zodDto(UpdateConnection) {}
class ConnectionViewDto extends zodDto(ConnectionView, 'output') {}
class ConnectionListDto extends zodDto(ConnectionList, 'output') {}
class ConnectionTestResultDto extends zodDto(ConnectionTestResult, 'output') {}

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

  @Post(':idOrName/test')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary: "Have an agent that serves the connection open its upstream; the upstream's answer or error",
  })
  @ApiOkResponse({
    type: ConnectionTestResultDto,
    description: 'The agent answered; `ok` says whether the upstream did',
  })
  @ApiServiceUnavailableResponse({ description: 'No online agent serves the connection' })
  @ApiGatewayTimeoutResponse({ description: 'The agent did not answer in time' })
  test(@Param('idOrName') idOrName: string, @CurrentUser() user: AuthenticatedUser): Promise<ConnectionTestResult> {
    return this.connections.test(idOrName, user);
  }

  @Delete(':idOrName')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse()
  delete(@Param('idOrName') idOrName: string, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.connections.delete(idOrName, user);
  }
}
