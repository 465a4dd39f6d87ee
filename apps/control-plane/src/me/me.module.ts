import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { GrantsModule } from '../grants/grants.module.js';
import { MeController } from './me.controller.js';
import { MeRepository } from './me.repository.js';
import { MeService } from './me.service.js';

/** The caller's own access: who it is, what it may use, and where to connect. */
@Module({
  imports: [ConnectionsModule, GrantsModule],
  controllers: [MeController],
  providers: [MeRepository, MeService],
})
export class MeModule {}
