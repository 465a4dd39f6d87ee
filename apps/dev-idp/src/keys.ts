import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface ProviderKeys {
  /** Private signing keys (RS256), published as public keys at the certs endpoint. */
  jwks: { keys: JWK[] };
  /** Keys that sign the provider's session and interaction cookies. */
  cookieKeys: string[];
}

/**
 * Loads the signing keys from the data directory, creating them on first start. Keeping them
 * across restarts keeps tokens issued before a restart verifiable.
 */
export async function loadOrCreateKeys(dataDir: string): Promise<ProviderKeys> {
  const file = join(dataDir, 'keys.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ProviderKeys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read signing keys from ${file}: ${(err as Error).message}`);
    }
  }
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  const keys: ProviderKeys = { jwks: { keys: [jwk] }, cookieKeys: [randomBytes(32).toString('base64url')] };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // 'wx' so that two instances starting at once cannot overwrite each other's keys.
  try {
    await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKeys(dataDir);
    throw err;
  }
  return keys;
}
