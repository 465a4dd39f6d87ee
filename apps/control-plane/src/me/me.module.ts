import { Module } from '@nestjs/common';
import { AgentGatewayModule } from '../agent-gateway/agent-gateway.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { GrantsModule } from '../grants/grants.module.js';
import { MeController } from './me.controller.js';
import { MeService } from './me.service.js';

/** The caller's own access: who it is, what it may use, and where to connect. */
@Module({
  imports: [AgentGatewayModule, ConnectionsModule, GrantsModule],
  controllers: [MeController],
  providers: [MeService],
})
export class MeModule {}
