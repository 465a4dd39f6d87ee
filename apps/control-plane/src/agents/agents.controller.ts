import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AgentList, AgentView, RegisterAgent, RegisteredAgent } from '@portcullis/api';
import { CurrentUser, Roles, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { AgentsService } from './agents.service.js';

class RegisterAgentDto extends zodDto(RegisterAgent) {}
class RegisteredAgentDto extends zodDto(RegisteredAgent, 'output') {}
class AgentViewDto extends zodDto(AgentView, 'output') {}
class AgentListDto extends zodDto(AgentList, 'output') {}

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: RegisteredAgentDto, description: 'The token is shown only in this response.' })
  register(@Body() body: RegisterAgentDto, @CurrentUser() user: AuthenticatedUser): Promise<RegisteredAgent> {
    return this.agents.register(body, user);
  }

  @Get()
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: AgentListDto })
  async list(): Promise<AgentList> {
    return { items: await this.agents.list() };
  }

  @Get(':id')
  @Roles('admin', 'auditor', 'steward')
  @ApiOkResponse({ type: AgentViewDto })
  get(@Param('id') id: string): Promise<AgentView> {
    return this.agents.get(id);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: AgentViewDto })
  revoke(@Param('id') id: string, @CurrentUser() user: AuthenticatedUser): Promise<AgentView> {
    return this.agents.revoke(id, user);
  }
}
