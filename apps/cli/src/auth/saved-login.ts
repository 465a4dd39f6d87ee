import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { configDir, writePrivateFile } from '../config.js';
import { CliError } from '../errors.js';
import type { TokenResponse } from './oidc.js';

const FILE = 'credentials.json';

/** What `portcullis login` leaves behind: a refresh token, and the last access token until it is nearly spent. */
export const SavedLogin = z.object({
  issuer: z.string(),
  clientId: z.string(),
  username: z.string().optional(),
  refreshToken: z.string().min(1),
  accessToken: z.string().optional(),
  /** ISO time; the cached access token is used until 30 s before it. */
  accessTokenExpiresAt: z.string().optional(),
});
export type SavedLogin = z.infer<typeof SavedLogin>;

export const credentialsFile = (): string => join(configDir(), FILE);

export async function readSavedLogin(): Promise<SavedLogin | undefined> {
  let raw: string;
  try {
    raw = await readFile(credentialsFile(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${credentialsFile()}: ${(err as Error).message}`);
  }
  try {
    return SavedLogin.parse(JSON.parse(raw));
  } catch {
    throw new CliError(`${credentialsFile()} is damaged; run \`portcullis logout\` and \`portcullis login\``);
  }
}

/** Mode 0600 in a 0700 folder: the refresh token is a credential. */
export async function saveLogin(login: SavedLogin): Promise<void> {
  await writePrivateFile(FILE, `${JSON.stringify(login, null, 2)}\n`);
}

export async function removeSavedLogin(): Promise<void> {
  await rm(credentialsFile(), { force: true });
}

/** The login to keep after a token response: a rotated refresh token replaces the old one. */
export function loginFrom(
  issuer: string,
  clientId: string,
  token: TokenResponse,
  previous?: SavedLogin,
  now = Date.now(),
): SavedLogin {
  const refreshToken = token.refresh_token ?? previous?.refreshToken;
  if (!refreshToken) throw new CliError('the identity provider issued no refresh token; the login cannot be kept');
  const expiresIn = token.expires_in ?? secondsLeft(token.access_token, now);
  return {
    issuer,
    clientId,
    username: usernameOf(token.access_token) ?? previous?.username,
    refreshToken,
    accessToken: token.access_token,
    accessTokenExpiresAt: expiresIn === undefined ? undefined : new Date(now + expiresIn * 1000).toISOString(),
  };
}

/** Claims are read only to name things for the user; the control plane and agents verify tokens. */
export function claimsOf(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function usernameOf(jwt: string): string | undefined {
  const name = claimsOf(jwt).preferred_username;
  return typeof name === 'string' ? name : undefined;
}

function secondsLeft(jwt: string, now: number): number | undefined {
  const exp = claimsOf(jwt).exp;
  return typeof exp === 'number' ? Math.max(0, exp - Math.floor(now / 1000)) : undefined;
}
