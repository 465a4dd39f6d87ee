import { Module, type DynamicModule } from '@nestjs/common';
import { AgentGatewayModule } from './agent-gateway/agent-gateway.module.js';
import { AgentsModule } from './agents/agents.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CommonModule } from './common/common.module.js';
import { AppConfig } from './config/app-config.js';
import { ConfigStreamModule } from './config-stream/config-stream.module.js';
import { ConnectionsModule } from './connections/connections.module.js';
import { GrantsModule } from './grants/grants.module.js';
import { DiscoveryModule } from './discovery/discovery.module.js';
import { OverviewModule } from './overview/overview.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentitiesModule } from './identities/identities.module.js';
import { MeModule } from './me/me.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { TracesModule } from './traces/traces.module.js';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(config),
        AuthModule,
        AuditModule,
        ConfigStreamModule,
        HealthModule,
        DiscoveryModule,
        AgentsModule,
        ConnectionsModule,
        GrantsModule,
        PoliciesModule,
        IdentitiesModule,
        MeModule,
        AgentGatewayModule,
        SessionsModule,
        OverviewModule,
        TracesModule,
      ],
    };
  }
}
