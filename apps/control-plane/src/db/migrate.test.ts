import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { PRISMA_DIR, diffMigrationsToSchema, migrate } from './migrate.js';

const SERVER = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';

async function withFreshDatabaseName(run: (url: string, query: (sql: string) => Promise<pg.QueryResult>) => Promise<void>) {
  const name = `cp_migrate_${randomBytes(6).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  const clients: pg.Client[] = [];
  try {
    await run(url, async (sql) => {
      const client = new pg.Client({ connectionString: url });
      clients.push(client);
      await client.connect();
      return client.query(sql);
    });
  } finally {
    await Promise.all(clients.map((c) => c.end()));
    const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

test('creates a missing database, applies every migration, and is idempotent', async () => {
  await withFreshDatabaseName(async (url, query) => {
    const applied = await migrate(url);
    assert.ok(applied.length >= 1);
    assert.deepEqual(await migrate(url), []);
    const rows = (await query('SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY 1')).rows;
    assert.deepEqual(rows.map((r) => r.migration_name), applied);
    assert.ok(rows.every((r) => r.finished_at !== null && r.rolled_back_at === null));
    const tables = (await query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
    for (const t of ['agents', 'connections', 'grants', 'identities', 'sessions', 'events', 'audit_entries', 'config_state']) {
      assert.ok(tables.includes(t), `${t} exists`);
    }
  });
});

test('two replicas starting together apply each migration once', async () => {
  await withFreshDatabaseName(async (url, query) => {
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    assert.equal(a.length + b.length, (await query('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0].n);
    assert.ok(a.length === 0 || b.length === 0);
  });
});

test('the migrations produce exactly what schema.prisma describes', async () => {
  // Fails when schema.prisma changed without `pnpm db:diff <name>`.
  const sql = await diffMigrationsToSchema(`${SERVER}/postgres`, path.join(PRISMA_DIR, 'schema.prisma'));
  assert.equal(sql, '');
});
