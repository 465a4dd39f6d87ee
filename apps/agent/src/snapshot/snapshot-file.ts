import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigSnapshot, type Connection } from '@portcullis/proto';

/**
 * The last applied snapshot on disk, so that an agent restarted while the control plane is away
 * serves its last known config. Credential values are sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from the agent token: reading the disk alone does not reveal upstream passwords.
 * Each value is bound to its connection id (GCM additional data), so values cannot be swapped.
 */

const FORMAT = 'portcullis-agent-snapshot/1';
const SEALED = 'sealed:v1:';

interface SnapshotFileBody {
  format: string;
  /** HKDF salt, fresh for each write. */
  salt: string;
  snapshot: unknown;
}

export class SnapshotFileError extends Error {}

function keyFor(agentToken: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', agentToken, salt, 'portcullis agent snapshot credentials', 32));
}

function mapCredentialValues(snapshot: ConfigSnapshot, map: (value: string, connection: Connection) => string): ConfigSnapshot {
  return {
    ...snapshot,
    connections: snapshot.connections.map((connection) => {
      const source = connection.credential?.source;
      if (source?.$case !== 'value') return connection;
      return { ...connection, credential: { ...connection.credential, source: { $case: 'value', value: map(source.value, connection) } } };
    }),
  };
}

/** The policy's masking hash key is sealed like credential values, bound to "policy". */
const POLICY_AAD = 'policy';

function mapPolicyHashKey(snapshot: ConfigSnapshot, map: (value: string) => string): ConfigSnapshot {
  if (!snapshot.policy) return snapshot;
  return { ...snapshot, policy: { ...snapshot.policy, hashKey: map(snapshot.policy.hashKey) } };
}

function seal(key: Buffer, value: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return SEALED + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

function unseal(key: Buffer, value: string, aad: string, what: string): string {
  if (!value.startsWith(SEALED)) throw new SnapshotFileError(`${what} is not sealed`);
  const raw = Buffer.from(value.slice(SEALED.length), 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SnapshotFileError(`${what} was sealed with another agent token`);
  }
}

export function sealSnapshot(snapshot: ConfigSnapshot, agentToken: string): string {
  const salt = randomBytes(16);
  const key = keyFor(agentToken, salt);
  const sealed = mapPolicyHashKey(
    mapCredentialValues(snapshot, (value, connection) => seal(key, value, connection.id)),
    (value) => seal(key, value, POLICY_AAD),
  );
  const body: SnapshotFileBody = { format: FORMAT, salt: salt.toString('base64'), snapshot: ConfigSnapshot.toJSON(sealed) };
  return JSON.stringify(body, null, 1);
}

export function unsealSnapshot(text: string, agentToken: string): ConfigSnapshot {
  let body: SnapshotFileBody;
  try {
    body = JSON.parse(text) as SnapshotFileBody;
  } catch {
    throw new SnapshotFileError('not JSON');
  }
  if (body?.format !== FORMAT || typeof body.salt !== 'string') throw new SnapshotFileError(`not a ${FORMAT} file`);
  const key = keyFor(agentToken, Buffer.from(body.salt, 'base64'));
  return mapPolicyHashKey(
    mapCredentialValues(ConfigSnapshot.fromJSON(body.snapshot), (value, connection) =>
      unseal(key, value, connection.id, `credential of connection "${connection.name}"`),
    ),
    (value) => unseal(key, value, POLICY_AAD, 'the policy hash key'),
  );
}

/** Write to a temporary file, fsync, rename over the old one, fsync the folder: all or nothing. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Undefined when there is no file yet. */
export async function readSnapshotFile(path: string, agentToken: string): Promise<ConfigSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return unsealSnapshot(text, agentToken);
}
