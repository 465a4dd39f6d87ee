import { Module } from '@nestjs/common';
import { IdentitiesController } from './identities.controller.js';
import { IdentitiesRepository } from './identities.repository.js';
import { IdentitiesService } from './identities.service.js';

@Module({
  controllers: [IdentitiesController],
  providers: [IdentitiesRepository, IdentitiesService],
})
export class IdentitiesModule {}
