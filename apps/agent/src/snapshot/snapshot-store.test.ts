import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Connection } from '@portcullis/proto';
import { pino } from 'pino';
import { CredentialError, resolveCredential } from './credentials.js';
import { SnapshotPolicy } from '../policy/active-policy.js';
import { SnapshotStore } from './snapshot-store.js';
import { PASSWORD, snapshotFixture } from './testing/fixtures.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-snapshot-'));
  dirs.push(dir);
  return dir;
}

describe('snapshot store', () => {
  it('applies, persists with the credential sealed, and serves it again after a restart', async () => {
    const dir = dataDir();
    const store = new SnapshotStore({ dataDir: dir, agentToken: 'agent-token-1', offlineMode: 'serve', log });
    await store.load();
    assert.equal(store.current(), undefined);
    const seen: number[] = [];
    store.onApplied((next) => seen.push(next.version));
    assert.deepEqual(await store.apply(snapshotFixture(3)), { ok: true, applied: true });
    assert.equal(store.current()?.version, 3);
    assert.deepEqual(seen, [3]);

    const onDisk = readFileSync(join(dir, 'snapshot.json'), 'utf8');
    assert.ok(onDisk.includes('demo-pg'));
    assert.ok(!onDisk.includes(PASSWORD), 'the credential value is on disk in clear');
    assert.ok(!onDisk.includes(Buffer.from(PASSWORD).toString('base64')), 'the credential value is on disk, merely encoded');

    const restarted = new SnapshotStore({ dataDir: dir, agentToken: 'agent-token-1', offlineMode: 'serve', log });
    await restarted.load();
    const served = restarted.current();
    assert.equal(served?.version, 3);
    assert.equal(resolveCredential(served!.connections[0]!), PASSWORD);
    assert.deepEqual(served?.connections[0]?.options, { profile: 'readonly' });
    assert.deepEqual(served?.generatedAt, new Date('2026-11-25T20:00:00Z'));

    // Another agent's token cannot open the credentials: that file is ignored, not half-used.
    const stranger = new SnapshotStore({ dataDir: dir, agentToken: 'other-token', offlineMode: 'serve', log });
    await stranger.load();
    assert.equal(stranger.current(), undefined);
  });

  it('rejects a bad snapshot or an older version and keeps the previous one', async () => {
    const store = new SnapshotStore({ dataDir: dataDir(), agentToken: 't', offlineMode: 'serve', log });
    await store.apply(snapshotFixture(5));
    const bad = snapshotFixture(6, ['a', 'a']);
    bad.connections[1]!.id = 'other';
    bad.grants[0]!.connectionId = 'missing';
    const result = await store.apply(bad);
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, /duplicate connection name "a"/);
    assert.match((result as { error: string }).error, /unknown connection missing/);
    assert.equal(store.current()?.version, 5);

    const badRef = snapshotFixture(7, ['x', 'y']);
    badRef.connections[1]!.credential = { source: { $case: 'secretRef', value: 'vault:whatever' } };
    assert.equal((await store.apply(badRef)).ok, false);

    const older = await store.apply(snapshotFixture(4));
    assert.deepEqual(older, { ok: false, error: 'version 4 is older than the applied version 5' });
    assert.deepEqual(await store.apply(snapshotFixture(5)), { ok: true, applied: false });
    assert.equal(store.current()?.version, 5);
  });

  it('compiles the policy with the snapshot: one that does not compile rejects the snapshot, the previous stays', async () => {
    const dir = dataDir();
    const policy = new SnapshotPolicy();
    const store = new SnapshotStore({ dataDir: dir, agentToken: 't', offlineMode: 'serve', log, policy });
    const hashKey = 'c0ffee'.repeat(10);
    const good = { ...snapshotFixture(5), policy: { version: 3, document: { defaultAction: 'allow', masking: { entities: ['EMAIL'] } }, hashKey } };
    assert.deepEqual(await store.apply(good), { ok: true, applied: true });
    assert.equal(policy.current().version, 3);
    assert.equal(policy.current().compiled.policy.defaultAction, 'allow');

    const bad = { ...snapshotFixture(6), policy: { version: 4, document: { rules: [{ id: 'x', action: 'mask', mask: { entities: ['PASSPORT'] } }] }, hashKey } };
    const result = await store.apply(bad);
    assert.equal(result.ok, false);
    assert.match((result as { error: string }).error, /policy 4: .*rules\[0\]\.mask\.entities\[0\]: unknown entity "PASSPORT"/);
    assert.equal(store.current()?.version, 5);
    assert.equal(policy.current().version, 3);

    // On disk the masking hash key is sealed like credentials; a restart serves the same policy.
    const onDisk = readFileSync(join(dir, 'snapshot.json'), 'utf8');
    assert.ok(!onDisk.includes(hashKey), 'the hash key is on disk in clear');
    const restartedPolicy = new SnapshotPolicy();
    await new SnapshotStore({ dataDir: dir, agentToken: 't', offlineMode: 'serve', log, policy: restartedPolicy }).load();
    assert.equal(restartedPolicy.current().version, 3);
    assert.equal(restartedPolicy.current().hashKey, hashKey);
  });

  it('hands out frozen snapshots, swapped whole', async () => {
    const store = new SnapshotStore({ dataDir: dataDir(), agentToken: 't', offlineMode: 'serve', log });
    await store.apply(snapshotFixture(1, ['a']));
    const before = store.current()!;
    assert.throws(() => (before.connections as Connection[]).push(before.connections[0]!));
    await store.apply(snapshotFixture(2, ['a', 'b']));
    assert.equal(before.connections.length, 1, 'a reader holding the old snapshot sees it unchanged');
    assert.equal(store.current()!.connections.length, 2);
  });

  it('in offline mode refuse, serves nothing while the control plane is away', async () => {
    const store = new SnapshotStore({ dataDir: dataDir(), agentToken: 't', offlineMode: 'refuse', log });
    await store.apply(snapshotFixture(1));
    assert.equal(store.current(), undefined);
    store.setControlPlaneConnected(true);
    assert.equal(store.current()?.version, 1);
    store.setControlPlaneConnected(false);
    assert.equal(store.current(), undefined);
    assert.equal(store.lastApplied()?.version, 1);
  });
});

describe('resolveCredential', () => {
  const connection = (ref: string): Connection => ({
    id: 'c', name: 'warehouse', kind: 'postgres', target: 'postgresql://h/db', networkLabels: [], options: undefined,
    credential: { source: { $case: 'secretRef', value: ref } },
  });

  it('reads env: and file: references at use, trimmed', () => {
    assert.equal(resolveCredential(connection('env:WAREHOUSE_PW'), { WAREHOUSE_PW: ' s3cret\n' }), 's3cret');
    const file = join(dataDir(), 'pw');
    writeFileSync(file, 'from-file\n');
    assert.equal(resolveCredential(connection(`file:${file}`)), 'from-file');
    writeFileSync(file, 'rotated\n');
    assert.equal(resolveCredential(connection(`file:${file}`)), 'rotated');
    assert.equal(resolveCredential({ ...connection('env:X'), credential: undefined }), undefined);
  });

  it('fails clearly, naming the reference and never a value', () => {
    assert.throws(() => resolveCredential(connection('env:NOPE'), {}), (err: Error) => err instanceof CredentialError && /warehouse.*NOPE is not set/.test(err.message));
    assert.throws(() => resolveCredential(connection('file:/nonexistent/pw')), /cannot read secret file \/nonexistent\/pw \(ENOENT\)/);
  });
});
