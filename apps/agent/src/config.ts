import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * The agent's settings come from the environment (Helm, systemd) and, for local runs, from flags
 * that mirror it: `--control-plane 127.0.0.1:8090` is PORTCULLIS_CONTROL_PLANE. Flags win.
 * The agent token is the one exception: it is read from the environment only, because a command
 * line is visible to every local user (`ps`).
 */

export interface HostPort {
  host: string;
  port: number;
}

export interface AdvertisedAddress {
  protocol: string;
  address: string;
}

export interface AgentConfig {
  controlPlane: string;
  agentToken: string;
  controlPlaneInsecure: boolean;
  controlPlaneCaFile: string | undefined;
  dataDir: string;
  labels: string[];
  pgListen: HostPort;
  httpListen: HostPort;
  statusListen: HostPort;
  /** Undefined: derived from the listeners once they are bound. */
  advertise: AdvertisedAddress[] | undefined;
  spoolMaxBytes: number;
  /** refuse: statements that cannot be recorded are refused; serve: served, the failure counted. */
  recordingFailure: 'refuse' | 'serve';
  /** serve: keep serving from the last snapshot while the control plane is away; refuse: fail closed. */
  offlineMode: 'serve' | 'refuse';
  /** PEM files for TLS to PostgreSQL clients (sslmode=require / verify-full). */
  pgTls: { certFile: string; keyFile: string } | undefined;
  /** Seconds a session may outlive the token it was opened with. */
  sessionExpiryGraceSeconds: number;
  logLevel: string;
}

const flagToEnv = {
  'control-plane': 'PORTCULLIS_CONTROL_PLANE',
  'control-plane-insecure': 'PORTCULLIS_CONTROL_PLANE_INSECURE',
  'control-plane-ca': 'PORTCULLIS_CONTROL_PLANE_CA',
  'data-dir': 'PORTCULLIS_DATA_DIR',
  labels: 'PORTCULLIS_LABELS',
  'pg-listen': 'PORTCULLIS_PG_LISTEN',
  'http-listen': 'PORTCULLIS_HTTP_LISTEN',
  'status-listen': 'PORTCULLIS_STATUS_LISTEN',
  advertise: 'PORTCULLIS_ADVERTISE',
  'spool-max-bytes': 'PORTCULLIS_SPOOL_MAX_BYTES',
  'recording-failure': 'PORTCULLIS_RECORDING_FAILURE',
  'offline-mode': 'PORTCULLIS_OFFLINE_MODE',
  'pg-tls-cert': 'PORTCULLIS_PG_TLS_CERT',
  'pg-tls-key': 'PORTCULLIS_PG_TLS_KEY',
  'session-expiry-grace': 'PORTCULLIS_SESSION_EXPIRY_GRACE_SECONDS',
  'log-level': 'LOG_LEVEL',
} as const;

const hostPort = z.string().trim().transform((value, ctx): HostPort => {
  const parsed = parseHostPort(value);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `expected host:port, got "${value}"` });
    return z.NEVER;
  }
  return parsed;
});

const commaList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const advertiseList = commaList.transform((items, ctx): AdvertisedAddress[] => {
  const out: AdvertisedAddress[] = [];
  for (const item of items) {
    const match = /^([a-z]+)=(.+)$/.exec(item);
    if (!match || !parseHostPort(match[2]!)) {
      ctx.addIssue({ code: 'custom', message: `expected protocol=host:port, got "${item}"` });
      return z.NEVER;
    }
    out.push({ protocol: match[1]!, address: match[2]! });
  }
  return out;
});

const envSchema = z.object({
  PORTCULLIS_CONTROL_PLANE: z
    .string()
    .trim()
    .default('127.0.0.1:8090')
    .refine((value) => parseHostPort(value) !== undefined, 'expected host:port'),
  PORTCULLIS_AGENT_TOKEN: z
    .string({ error: 'is required (the token shown when the agent was registered)' })
    .trim()
    .min(1, 'is required (the token shown when the agent was registered)'),
  PORTCULLIS_CONTROL_PLANE_INSECURE: z.enum(['true', 'false', '1', '0', '']).default('false'),
  PORTCULLIS_CONTROL_PLANE_CA: z.string().trim().min(1).optional(),
  PORTCULLIS_DATA_DIR: z.string().trim().min(1).default('./.data/agent'),
  PORTCULLIS_LABELS: commaList.default(['default']).pipe(z.array(z.string()).min(1, 'needs at least one label')),
  PORTCULLIS_PG_LISTEN: hostPort.default({ host: '127.0.0.1', port: 15432 }),
  PORTCULLIS_HTTP_LISTEN: hostPort.default({ host: '127.0.0.1', port: 18080 }),
  PORTCULLIS_STATUS_LISTEN: hostPort.default({ host: '127.0.0.1', port: 9464 }),
  PORTCULLIS_ADVERTISE: advertiseList.optional(),
  PORTCULLIS_SPOOL_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(256 * 1024 * 1024),
  PORTCULLIS_RECORDING_FAILURE: z.enum(['refuse', 'serve']).default('refuse'),
  PORTCULLIS_OFFLINE_MODE: z.enum(['serve', 'refuse']).default('serve'),
  PORTCULLIS_PG_TLS_CERT: z.string().trim().min(1).optional(),
  PORTCULLIS_PG_TLS_KEY: z.string().trim().min(1).optional(),
  PORTCULLIS_SESSION_EXPIRY_GRACE_SECONDS: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export class ConfigError extends Error {}

/** Reads flags and environment; throws ConfigError naming every bad setting (never its value for the token). */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let flags: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(flagToEnv).map((name) => [name, { type: 'string' as const }]));
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (flags: ${Object.keys(flagToEnv).map((f) => `--${f}`).join(', ')})`);
  }
  const merged: Record<string, string | undefined> = {};
  for (const name of Object.values(flagToEnv)) merged[name] = env[name];
  merged.PORTCULLIS_AGENT_TOKEN = env.PORTCULLIS_AGENT_TOKEN;
  for (const [flag, name] of Object.entries(flagToEnv)) {
    if (flags[flag] !== undefined) merged[name] = flags[flag];
  }
  // An empty variable means "not set" (Helm renders unset values as "").
  for (const [key, value] of Object.entries(merged)) if (value === '') delete merged[key];

  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid agent configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if ((e.PORTCULLIS_PG_TLS_CERT === undefined) !== (e.PORTCULLIS_PG_TLS_KEY === undefined)) {
    throw new ConfigError('invalid agent configuration:\n  PORTCULLIS_PG_TLS_CERT and PORTCULLIS_PG_TLS_KEY go together');
  }
  return {
    controlPlane: e.PORTCULLIS_CONTROL_PLANE,
    agentToken: e.PORTCULLIS_AGENT_TOKEN,
    controlPlaneInsecure: e.PORTCULLIS_CONTROL_PLANE_INSECURE === 'true' || e.PORTCULLIS_CONTROL_PLANE_INSECURE === '1',
    controlPlaneCaFile: e.PORTCULLIS_CONTROL_PLANE_CA,
    dataDir: e.PORTCULLIS_DATA_DIR,
    labels: e.PORTCULLIS_LABELS,
    pgListen: e.PORTCULLIS_PG_LISTEN,
    httpListen: e.PORTCULLIS_HTTP_LISTEN,
    statusListen: e.PORTCULLIS_STATUS_LISTEN,
    advertise: e.PORTCULLIS_ADVERTISE,
    spoolMaxBytes: e.PORTCULLIS_SPOOL_MAX_BYTES,
    recordingFailure: e.PORTCULLIS_RECORDING_FAILURE,
    offlineMode: e.PORTCULLIS_OFFLINE_MODE,
    pgTls:
      e.PORTCULLIS_PG_TLS_CERT && e.PORTCULLIS_PG_TLS_KEY
        ? { certFile: e.PORTCULLIS_PG_TLS_CERT, keyFile: e.PORTCULLIS_PG_TLS_KEY }
        : undefined,
    sessionExpiryGraceSeconds: e.PORTCULLIS_SESSION_EXPIRY_GRACE_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}

/** "host:port", "[::1]:port"; port 0 asks the OS for a free one. */
export function parseHostPort(value: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
