import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.js';

/** What `portcullis config set` remembers. */
export const Settings = z.object({
  controlPlane: z.url().optional(),
  issuer: z.url().optional(),
});
export type Settings = z.infer<typeof Settings>;

/** The user's names for the settings (`portcullis config set control-plane ...`). */
export const SETTING_KEYS = { 'control-plane': 'controlPlane', issuer: 'issuer' } as const satisfies Record<
  string,
  keyof Settings
>;

/** ~/.config/portcullis, or $XDG_CONFIG_HOME/portcullis. Holds settings now and cached tokens later. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'portcullis');
}

const configFile = () => join(configDir(), 'config.json');

export async function readSettings(): Promise<Settings> {
  let raw: string;
  try {
    raw = await readFile(configFile(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${configFile()}: ${(err as Error).message}`);
  }
  let parsed;
  try {
    parsed = Settings.safeParse(JSON.parse(raw));
  } catch {
    throw new CliError(`${configFile()} is not valid JSON; fix or delete it`);
  }
  if (!parsed.success) throw new CliError(`${configFile()} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Writes a file only the user can read, in a folder only the user can enter; replaced atomically. */
export async function writePrivateFile(name: string, content: string): Promise<void> {
  const dir = configDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = join(dir, name);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, file);
}

export async function writeSettings(settings: Settings): Promise<void> {
  await writePrivateFile('config.json', `${JSON.stringify(settings, null, 2)}\n`);
}
