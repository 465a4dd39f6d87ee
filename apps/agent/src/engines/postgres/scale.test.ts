import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { Harness, refusal } from './testing/harness.js';
import { PrivateCluster } from './testing/private-cluster.js';

const run = promisify(execFile);

/**
 * Against a private server that asks for SCRAM passwords, speaks TLS and allows 400 connections
 * (the shared one trusts loopback and allows 100).
 */
describe('PostgreSQL engine: 300 sessions, TLS, SCRAM upstream', () => {
  let cluster: PrivateCluster;
  let h: Harness;
  before(async () => {
    cluster = await PrivateCluster.start();
    // Logins as the trusted superuser, so 300 logins do not each pay for SCRAM (tested below).
    h = await Harness.start(
      { tls: { cert: readFileSync(cluster.certFile), key: readFileSync(cluster.keyFile) }, requireTls: false },
      { target: `postgresql://postgres@127.0.0.1:${cluster.port}/postgres`, password: 'unused' },
    );
  });
  after(async () => {
    await h.close();
    await cluster.stop();
  });

  it('logs into a SCRAM-SHA-256 upstream with the connection credential', async () => {
    const scram = await Harness.start(
      {},
      { target: `postgresql://scram_user@127.0.0.1:${cluster.port}/postgres`, password: cluster.passwords.scram },
    );
    try {
      const client = await scram.client();
      assert.equal((await client.query('select current_user as u')).rows[0].u, 'scram_user');
      await client.end();
      scram.password = 'wrong';
      const refused = await refusal({
        host: '127.0.0.1',
        port: scram.port,
        user: 'carol',
        database: 'sales',
        password: await scram.token(),
      });
      assert.equal(refused.code, '08006');
      assert.match(refused.message, /password authentication failed for user "scram_user"/);
    } finally {
      await scram.close();
    }
  });

  it('serves 300 concurrent sessions', async () => {
    const token = await h.token('carol');
    const clients = Array.from(
      { length: 300 },
      () => new pg.Client({ host: '127.0.0.1', port: h.port, database: 'sales', user: 'carol', password: token }),
    );
    await Promise.all(clients.map((c) => c.connect()));
    assert.equal(h.engine.liveSessions(), 300);
    const results = await Promise.all(
      clients.map((c, i) => c.query('select $1::int * 2 as n, pg_backend_pid() as pid', [i])),
    );
    assert.deepEqual(
      results.map((r) => r.rows[0].n),
      clients.map((_, i) => i * 2),
    );
    assert.equal(new Set(results.map((r) => r.rows[0].pid)).size, 300, 'one upstream session each');
    await Promise.all(clients.map((c) => c.end()));
    await h.recorder.waitFor(() => h.engine.liveSessions() === 0);
  });

  it('speaks TLS to clients when configured (psql sslmode=require), and can require it', async () => {
    const { stdout } = await run(
      '/usr/bin/psql',
      ['-X', '-At', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', '-d', 'sales', '-c', 'select 42'],
      { env: { ...process.env, PGPASSWORD: await h.token(), PGSSLMODE: 'require' } },
    );
    assert.equal(stdout.trim(), '42');
    const tlsClient = await h.client('carol', { ssl: { ca: readFileSync(cluster.certFile), servername: 'localhost' } });
    assert.equal((await tlsClient.query('select 1 as one')).rows[0].one, 1);
    await tlsClient.end();

    const strict = await Harness.start(
      { tls: { cert: readFileSync(cluster.certFile), key: readFileSync(cluster.keyFile) }, requireTls: true },
      { target: h.target, password: h.password },
    );
    try {
      assert.deepEqual(
        await refusal({
          host: '127.0.0.1',
          port: strict.port,
          user: 'carol',
          database: 'sales',
          password: await strict.token(),
        }),
        { code: '28000', message: 'TLS is required to connect to this agent' },
      );
      const secure = await strict.client('carol', { ssl: { rejectUnauthorized: false } });
      assert.equal((await secure.query('select 1 as one')).rows[0].one, 1);
      await secure.end();
    } finally {
      await strict.close();
    }
  });
});
