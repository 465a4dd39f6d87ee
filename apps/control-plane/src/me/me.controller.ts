import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ConnectionEndpoints, Me } from '@portcullis/api';
import { CurrentUser, type AuthenticatedUser } from '../auth/decorators.js';
import { zodDto } from '../common/zod-dto.js';
import { MeService } from './me.service.js';

class MeDto extends zodDto(Me, 'output') {}
class ConnectionEndpointsDto extends zodDto(ConnectionEndpoints, 'output') {}

/** Routes for any authenticated identity (people, CI jobs): about the caller's own access. */
@ApiTags('me')
@Controller()
export class MeController {
  constructor(private readonly me: MeService) {}

  @Get('me')
  @ApiOkResponse({ type: MeDto })
  get(@CurrentUser() user: AuthenticatedUser): Promise<Me> {
    return this.me.me(user);
  }

  /** Where to connect: the online agents serving a connection the caller may use. */
  @Get('connections/:name/endpoints')
  @ApiOkResponse({ type: ConnectionEndpointsDto })
  @ApiNotFoundResponse({ description: 'No such connection, or the caller holds no grant on it.' })
  endpoints(@Param('name') name: string, @CurrentUser() user: AuthenticatedUser): Promise<ConnectionEndpoints> {
    return this.me.endpoints(name, user);
  }
}
