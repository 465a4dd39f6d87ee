import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { Harness, refusal } from './testing/harness.js';
import { PrivateCluster } from './testing/private-cluster.js';

const run = promisify(execFile);
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

/**
 * Volume and TLS through the agent, against a private server that asks for SCRAM passwords and
 * allows 400 connections (the shared one trusts loopback and allows 100).
 */
describe('PostgreSQL engine under load, over TLS, with SCRAM upstream', () => {
  let cluster: PrivateCluster;
  let h: Harness;
  before(async () => {
    cluster = await PrivateCluster.start();
    h = await Harness.start(
      { tls: { cert: readFileSync(cluster.certFile), key: readFileSync(cluster.keyFile) }, requireTls: false },
      { target: `postgresql://scram_user@127.0.0.1:${cluster.port}/postgres`, password: cluster.passwords.scram },
    );
  });
  after(async () => {
    await h.close();
    await cluster.stop();
  });

  it('round-trips a 64 MiB field both ways', async () => {
    const client = await h.client();
    const big = 'abcdefgh'.repeat(8 * 1024 * 1024);
    const echoed = (await client.query('select $1::text as v', [big])).rows[0].v as string;
    assert.equal(echoed.length, big.length);
    assert.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(big).digest('hex'));
    const generated = (await client.query("select repeat('z', 64 * 1024 * 1024) as v")).rows[0].v as string;
    assert.equal(generated.length, 64 * 1024 * 1024);
    await client.end();
    const statements = h.recorder.statements();
    const recorded = statements.find((s) => s.parameters.length === 1)!;
    assert.ok(recorded.parameters[0]!.length < 70 * 1024, 'the recorded parameter is capped');
  });

  it('serves 300 concurrent sessions', async () => {
    const token = await h.token('carol');
    const clients = Array.from({ length: 300 }, () =>
      new pg.Client({ host: '127.0.0.1', port: h.port, database: 'sales', user: 'carol', password: token }));
    await Promise.all(clients.map((c) => c.connect()));
    assert.equal(h.engine.liveSessions(), 300);
    const results = await Promise.all(clients.map((c, i) => c.query('select $1::int * 2 as n, pg_backend_pid() as pid', [i])));
    assert.deepEqual(results.map((r) => r.rows[0].n), clients.map((_, i) => i * 2));
    assert.equal(new Set(results.map((r) => r.rows[0].pid)).size, 300, 'one upstream session each');
    await Promise.all(clients.map((c) => c.end()));
    await h.recorder.waitFor(() => h.engine.liveSessions() === 0);
  });

  it('speaks TLS to clients when configured (psql sslmode=require), and can require it', async () => {
    const { stdout } = await run('/usr/bin/psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', '-d', 'sales',
      '-c', 'select 42'], { env: { ...process.env, PGPASSWORD: await h.token(), PGSSLMODE: 'require' } });
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
        await refusal({ host: '127.0.0.1', port: strict.port, user: 'carol', database: 'sales', password: await strict.token() }),
        { code: '28000', message: 'TLS is required to connect to this agent' },
      );
      const secure = await strict.client('carol', { ssl: { rejectUnauthorized: false } });
      assert.equal((await secure.query('select 1 as one')).rows[0].one, 1);
      await secure.end();
    } finally {
      await strict.close();
    }
  });

  it('pgbench -S through the agent vs direct (reported, not asserted)', async () => {
    const env = { ...process.env, PGPASSWORD: cluster.passwords.scram };
    const direct = ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'scram_user', 'postgres'];
    await run(PGBENCH, ['-i', '-q', '-s', '1', ...direct], { env });
    const bench = async (args: string[], password: string) => {
      const { stdout } = await run(PGBENCH, ['-S', '-n', '-c', '16', '-j', '2', '-T', '4', ...args], { env: { ...env, PGPASSWORD: password } });
      return Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    };
    const directTps = await bench(direct, cluster.passwords.scram);
    const agentTps = await bench(['-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', 'sales'], await h.token('carol', { expiresIn: 600 }));
    console.log(`pgbench -S -c 16 -j 2 -T 4: direct ${directTps.toFixed(0)} tps, through the agent ${agentTps.toFixed(0)} tps (${(agentTps / directTps).toFixed(2)})`);
    assert.ok(agentTps > 0);
  });
});
