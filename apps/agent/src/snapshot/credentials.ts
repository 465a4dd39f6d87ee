import { readFileSync } from 'node:fs';
import type { Connection } from '@portcullis/proto';

/** A credential could not be resolved. The message names the reference, never a value. */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

/**
 * The upstream password of a connection, resolved at each use so that a rotated secret (a new
 * file mounted, a restarted sidecar) applies to the next upstream connection without a reload.
 * `env:NAME` reads the agent's environment, `file:/path` a mounted file (trimmed). Undefined when
 * the connection carries no credential (e.g. trust auth upstream). Throws CredentialError.
 */
export function resolveCredential(connection: Connection, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const source = connection.credential?.source;
  if (!source) return undefined;
  if (source.$case === 'value') return source.value;
  const ref = source.value;
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    const value = env[name]?.trim();
    if (!value) throw new CredentialError(`connection "${connection.name}": environment variable ${name} is not set on the agent`);
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length);
    let value: string;
    try {
      value = readFileSync(path, 'utf8').trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new CredentialError(`connection "${connection.name}": cannot read secret file ${path} (${code})`);
    }
    if (!value) throw new CredentialError(`connection "${connection.name}": secret file ${path} is empty`);
    return value;
  }
  throw new CredentialError(`connection "${connection.name}": unsupported secret reference (expected env:NAME or file:/path)`);
}
