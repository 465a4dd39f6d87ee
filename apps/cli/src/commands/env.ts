import { spawn } from 'node:child_process';
import { ConnectionEndpoints } from '@portcullis/api';
import type { Command } from 'commander';
import { claimsOf } from '../auth/saved-login.js';
import { ControlPlane, seg } from '../control-plane.js';
import { contextOf, type Context } from '../context.js';
import { CliError } from '../errors.js';
import { printJson } from '../output.js';
import { isLoopback, rankAgents, type Candidate, type HostPort } from '../nearest-agent.js';

interface ConnectionEnvironment {
  connection: string;
  kind: string;
  agent: string;
  address: string;
  connectMs: number;
  env: Record<string, string>;
}

export function registerEnvCommands(program: Command): void {
  program
    .command('env <connection>')
    .description('find the nearest agent serving a connection and print `export` lines to reach it with a fresh token')
    .action(async (connection: string, _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const found = await connectionEnvironment(ctx, connection);
      if (ctx.json) return printJson(found);
      process.stderr.write(
        `# ${found.connection} through agent ${found.agent} at ${found.address} (${found.connectMs.toFixed(1)} ms)\n`,
      );
      for (const [name, value] of Object.entries(found.env))
        process.stdout.write(`export ${name}=${shellQuote(value)}\n`);
    });

  program
    .command('run <connection> <command...>')
    // Everything after `--` is the command's, options included.
    .description(
      'run a command with the environment of `portcullis env` (e.g. portcullis run demo-pg -- psql -c "select 1")',
    )
    .action(async (connection: string, command: string[], _opts, cmd: Command) => {
      const ctx = await contextOf(cmd);
      const found = await connectionEnvironment(ctx, connection);
      process.exitCode = await runWith(command, { ...process.env, ...found.env });
    });
}

/** The nearest reachable agent for the connection, and the variables a client needs to use it. */
async function connectionEnvironment(ctx: Context, connection: string): Promise<ConnectionEnvironment> {
  // One fresh token serves both the lookup and the program: it has its whole lifetime ahead.
  const token = await ctx.freshToken();
  const api = new ControlPlane(ctx.controlPlane, async () => token);
  const endpoints = await api.get(`/connections/${seg(connection)}/endpoints`, ConnectionEndpoints);
  const { name, kind } = endpoints.connection;
  if (endpoints.agents.length === 0) throw new CliError(`no agent serving ${name} is online`);
  const [nearest] = await rankAgents(endpoints, kind);
  if (!nearest) {
    const tried = endpoints.agents.map(
      (a) =>
        `${a.name} (${
          a.addresses
            .filter((x) => x.protocol === kind)
            .map((x) => x.address)
            .join(', ') || `no ${kind} address`
        })`,
    );
    throw new CliError(`no agent serving ${name} answers from here; tried ${tried.join('; ')}`);
  }
  return {
    connection: name,
    kind,
    agent: nearest.agent,
    address: hostPortText(nearest.address),
    connectMs: nearest.connectMs,
    env: kind === 'postgres' ? postgresEnv(name, nearest, token, userName(ctx, token)) : httpEnv(name, nearest, token),
  };
}

function postgresEnv(connection: string, at: Candidate, token: string, user: string): Record<string, string> {
  return {
    PGHOST: at.address.host,
    PGPORT: String(at.address.port),
    PGDATABASE: connection,
    PGUSER: user,
    PGPASSWORD: token,
    // Off the machine the token crosses a network: never in clear text.
    PGSSLMODE: isLoopback(at.address.host) ? 'prefer' : 'require',
  };
}

function httpEnv(connection: string, at: Candidate, token: string): Record<string, string> {
  const prefix = envName(connection);
  return {
    [`${prefix}_BASE_URL`]: `http://${hostPortText(at.address)}/c/${connection}`,
    [`${prefix}_TOKEN`]: token,
  };
}

/** demo-llm -> DEMO_LLM; a name starting with a digit gets a leading underscore. */
export function envName(connection: string): string {
  const upper = connection.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return /^[0-9]/.test(upper) ? `_${upper}` : upper;
}

/** The client id for a service account, else the username in the token. */
function userName(ctx: Context, token: string): string {
  if (ctx.credentials.clientId) return ctx.credentials.clientId;
  const claims = claimsOf(token);
  const name = claims.preferred_username ?? claims.azp ?? claims.sub;
  return typeof name === 'string' ? name : 'portcullis';
}

function hostPortText({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Single quotes for the shell; a quote inside becomes '\''. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runs the command with inherited stdio, forwarding signals; resolves with its exit code (128+n for a signal). */
function runWith(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...args] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { stdio: 'inherit', env });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of signals) process.on(s, forward);
    const stop = () => {
      for (const s of signals) process.off(s, forward);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      stop();
      reject(
        new CliError(err.code === 'ENOENT' ? `command not found: ${file}` : `cannot run ${file}: ${err.message}`, 127),
      );
    });
    child.once('exit', (code, signal) => {
      stop();
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}
