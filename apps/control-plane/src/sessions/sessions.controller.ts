import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EventPage, SessionEventQuery, SessionPage, SessionQuery, SessionView } from '@portcullis/api';
import { Roles } from '../auth/index.js';
import { zodDto } from '../common/zod-dto.js';
import { SessionsService } from './sessions.service.js';

class SessionQueryDto extends zodDto(SessionQuery) {}
class SessionEventQueryDto extends zodDto(SessionEventQuery) {}
class SessionViewDto extends zodDto(SessionView, 'output') {}
class SessionPageDto extends zodDto(SessionPage, 'output') {}
class EventPageDto extends zodDto(EventPage, 'output') {}

/** Recorded sessions: who used which connection through which agent, and every statement. */
@ApiTags('sessions')
@Roles('admin', 'auditor')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOkResponse({ type: SessionPageDto })
  list(@Query() query: SessionQueryDto): Promise<SessionPage> {
    return this.sessions.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: SessionViewDto })
  get(@Param('id') id: string): Promise<SessionView> {
    return this.sessions.get(id);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: EventPageDto })
  events(@Param('id') id: string, @Query() query: SessionEventQueryDto): Promise<EventPage> {
    return this.sessions.events(id, query);
  }
}
