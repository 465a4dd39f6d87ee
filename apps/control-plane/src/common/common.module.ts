import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { PrismaService } from '../db/prisma.service.js';
import { SecretBox } from './secret-box.js';

/** What every module may inject: configuration (read once in main), the store, the secret box. */
@Global()
@Module({})
export class CommonModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CommonModule,
      providers: [{ provide: AppConfig, useValue: config }, PrismaService, SecretBox],
      exports: [AppConfig, PrismaService, SecretBox],
    };
  }
}
