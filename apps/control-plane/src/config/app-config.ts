import { z } from 'zod';

const Env = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  /** PEM files for the AgentService port; plaintext only with GRPC_INSECURE=true (local development). */
  GRPC_TLS_CERT: z.string().optional(),
  GRPC_TLS_KEY: z.string().optional(),
  GRPC_INSECURE: z.stringbool().default(false),
  DATABASE_URL: z.string().default('postgresql://postgres:postgres@127.0.0.1:5432/portcullis'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Keycloak base URL (without /realms) and realm; the dev IdP serves the same layout. */
  KEYCLOAK_URL: z.string().default('http://127.0.0.1:8180'),
  KEYCLOAK_REALM: z.string().default('portcullis'),
  /** Audience agents require in access tokens. */
  OIDC_AUDIENCE: z.string().default('portcullis'),
  /** 32 bytes, base64: seals connection credentials at rest (AES-256-GCM). */
  PORTCULLIS_SECRET_KEY: z.string().optional(),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().positive().default(2000),
  /** An agent with no heartbeat for this long is shown offline. */
  AGENT_OFFLINE_AFTER_MS: z.coerce.number().int().positive().default(6000),
  /** Built console to serve at /, when present. */
  CONSOLE_DIR: z.string().optional(),
  LOG_LEVEL: z.string().default('info'),
  /** prisma/migrations, when the process does not run from the repository layout (containers). */
  MIGRATIONS_DIR: z.string().optional(),
});

/**
 * Configuration from the environment, read once at start and injected, never read at import time.
 * Everything has a development default except secrets.
 */
export class AppConfig {
  readonly host: string;
  readonly port: number;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly grpcTls: { cert: string; key: string } | undefined;
  readonly grpcInsecure: boolean;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly keycloakUrl: string;
  readonly realm: string;
  readonly issuer: string;
  readonly audience: string;
  readonly secretKey: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly agentOfflineAfterMs: number;
  readonly consoleDir: string | undefined;
  readonly logLevel: string;
  readonly migrationsDir: string | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const e = Env.parse(env);
    this.host = e.HOST;
    this.port = e.PORT;
    this.grpcHost = e.GRPC_HOST;
    this.grpcPort = e.GRPC_PORT;
    this.grpcTls = e.GRPC_TLS_CERT && e.GRPC_TLS_KEY ? { cert: e.GRPC_TLS_CERT, key: e.GRPC_TLS_KEY } : undefined;
    this.grpcInsecure = e.GRPC_INSECURE;
    this.databaseUrl = e.DATABASE_URL;
    this.redisUrl = e.REDIS_URL;
    this.keycloakUrl = e.KEYCLOAK_URL.replace(/\/+$/, '');
    this.realm = e.KEYCLOAK_REALM;
    this.issuer = `${this.keycloakUrl}/realms/${this.realm}`;
    this.audience = e.OIDC_AUDIENCE;
    this.secretKey = e.PORTCULLIS_SECRET_KEY;
    this.heartbeatIntervalMs = e.HEARTBEAT_INTERVAL_MS;
    this.agentOfflineAfterMs = e.AGENT_OFFLINE_AFTER_MS;
    this.consoleDir = e.CONSOLE_DIR;
    this.logLevel = e.LOG_LEVEL;
    this.migrationsDir = e.MIGRATIONS_DIR;
  }
}
