import { Global, Module } from '@nestjs/common';
import { ChangeBus } from './change-bus.js';
import { ConfigChangesService } from './config-changes.service.js';
import { SnapshotBuilder } from './snapshot-builder.js';

@Global()
@Module({
  providers: [ChangeBus, ConfigChangesService, SnapshotBuilder],
  exports: [ChangeBus, ConfigChangesService, SnapshotBuilder],
})
export class ConfigStreamModule {}
