// Helpers for the CLI's process tests (not part of the build). The command runs from dist/, as
// users run it: `pnpm --filter @portcullis/cli run build` first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const devIdpMain = fileURLToPath(new URL('../../dev-idp/src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Run>;
}

/** Starts the real `portcullis` command in a clean environment whose home (and config folder) is `home`. */
export function startPortcullis(home: string, args: string[], env: Record<string, string> = {}): RunningCli {
  if (!existsSync(cliMain)) throw new Error(`${cliMain} is missing: build the CLI first`);
  const child = spawn(process.execPath, [cliMain, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
  };
}

export function portcullis(home: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return startPortcullis(home, args, env).done;
}

/** The dev IdP as the e2e harness runs it: its own process, port 0, waiting for "listening on". */
export async function startDevIdp(dataDir: string): Promise<{ issuer: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', devIdpMain], {
    cwd,
    env: { PATH: process.env.PATH, IDP_PORT: '0', IDP_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const issuer = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      const match = /listening on (\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`dev-idp exited with ${code}: ${stderr}`)));
  });
  return { issuer, process: child };
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
