import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { startAgent, type EngineName } from './agent.js';
import { ConfigError, formatHostPort, loadConfig, type AgentConfig } from './config.js';
import type { EngineFactory } from './engines/engine.js';
import { HttpEngine } from './engines/http/http-engine.js';
import { PostgresEngine } from './engines/postgres/postgres-engine.js';
import { TokenVerifier } from './identity/token-verifier.js';

/** The engines, by protocol name; each gets EngineDeps (engines/engine.ts). */
function engineFactories(config: AgentConfig): Partial<Record<EngineName, EngineFactory>> {
  return {
    postgres: (deps) =>
      new PostgresEngine({
        host: deps.listen.host,
        port: deps.listen.port,
        snapshots: deps.snapshots,
        policy: deps.policy,
        verifier: new TokenVerifier(deps.snapshots),
        recorder: deps.recorder,
        resolveCredential: deps.resolveCredential,
        tls: config.pgTls && { cert: readFileSync(config.pgTls.certFile), key: readFileSync(config.pgTls.keyFile) },
        expiryGraceMs: config.sessionExpiryGraceSeconds * 1000,
        metrics: deps.metrics,
        logger: deps.log,
      }),
    http: (deps) =>
      new HttpEngine({
        host: deps.listen.host,
        port: deps.listen.port,
        snapshots: deps.snapshots,
        policy: deps.policy,
        verifier: new TokenVerifier(deps.snapshots),
        recorder: deps.recorder,
        resolveCredential: deps.resolveCredential,
        expiryGraceMs: config.sessionExpiryGraceSeconds * 1000,
        metrics: deps.metrics,
        logger: deps.log,
      }),
  };
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`portcullis agent: ${err.message}\n`);
    process.exit(2);
  }
  const log = pino({ level: config.logLevel, base: { service: 'portcullis-agent' }, redact: ['agentToken', '*.agentToken'] });
  const agent = await startAgent(config, log, engineFactories(config));

  const listening = Object.entries(agent.listening.engines).map(([name, address]) => `${name}=${formatHostPort(address)}`);
  log.info(`agent listening: ${[...listening, `status=${formatHostPort(agent.listening.status)}`].join(' ')}`);
  if (listening.length === 0) log.warn('no engine registered: the agent serves no protocol (see main.ts)');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new sessions, flushing the recording spool');
    agent.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`portcullis agent failed to start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
