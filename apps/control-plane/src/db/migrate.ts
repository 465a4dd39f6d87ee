import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine, type MigrationList } from '@prisma/schema-engine-wasm';

/** prisma/ at the repository root, seen from src/db or dist/db. */
export const PRISMA_DIR = fileURLToPath(new URL('../../../../prisma/', import.meta.url));
export const DEFAULT_MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

const LOCKFILE = 'migration_lock.toml';
// Any fixed 64-bit key of our own: replicas starting together apply migrations one after another.
// Not Prisma's own key (72707369), which its engine may take on another connection.
const MIGRATE_LOCK_KEY = 0x706f7274_6d696772n;

export interface MigrateOptions {
  migrationsDir?: string;
  log?: (line: string) => void;
}

/**
 * Applies pending migrations from prisma/migrations, exactly as `prisma migrate deploy` would
 * (same folder layout, same `_prisma_migrations` table), using Prisma's schema engine compiled to
 * WASM because the native engine cannot be downloaded everywhere. Creates the database if missing.
 * Returns the names of the migrations it applied.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  await createDatabaseIfMissing(databaseUrl);
  const migrationsList = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);

  const lock = new pg.Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK_KEY.toString()]);
    const applied = await withSchemaEngine(databaseUrl, [DATASOURCE_ONLY], (engine) =>
      engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
    );
    for (const name of applied.appliedMigrationNames) options.log?.(`applied migration ${name}`);
    return applied.appliedMigrationNames;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY.toString()]).catch(() => undefined);
    await lock.end();
  }
}

/**
 * The SQL that takes a database from the state the existing migrations produce to the state the
 * schema describes, or '' when they agree. The engine replays the migrations on the database it is
 * connected to, so this runs them in a throwaway database on the server of `serverUrl`.
 */
export async function diffMigrationsToSchema(
  serverUrl: string,
  schemaPath: string,
  migrationsDir = DEFAULT_MIGRATIONS_DIR,
): Promise<string> {
  const schema = await readFile(schemaPath, 'utf8');
  const migrationsList = await readMigrations(migrationsDir);
  const from =
    migrationsList.migrationDirectories.length === 0
      ? ({ tag: 'empty' } as const)
      : ({ tag: 'migrations', ...migrationsList } as const);
  const shadowUrl = new URL(serverUrl);
  shadowUrl.pathname = `/portcullis_shadow_${randomBytes(6).toString('hex')}`;
  await createDatabaseIfMissing(shadowUrl.toString());
  try {
    const result = await withSchemaEngine(shadowUrl.toString(), [[schemaPath, schema]], (engine) =>
      engine.diff({
        from,
        to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
        script: true,
        exitCode: null,
        filters: NO_FILTERS,
      }),
    );
    const sql = result.stdout ?? '';
    return /^\s*(-- This is an empty migration\.\s*)?$/.test(sql) ? '' : sql;
  } finally {
    await dropDatabase(shadowUrl.toString());
  }
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };
// Applying migrations needs no models, but the engine insists on a schema naming the provider.
const DATASOURCE_ONLY: [string, string] = ['schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n'];

async function withSchemaEngine<T>(
  databaseUrl: string,
  datamodels: [string, string][],
  run: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  // The WASM engine speaks the driver-adapter calling convention of Result values
  // ({ok, value} / {ok, error}); Prisma's binder wraps the pg adapter into exactly that.
  // Our own pool, ended afterwards: the engine holds Prisma's advisory lock on one of its
  // connections until that connection closes, and freeing the engine does not close it.
  const pool = new pg.Pool({ connectionString: databaseUrl, Client: CatalogClient as unknown as typeof pg.Client });
  panicMessage = undefined;
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool as unknown as ConstructorParameters<typeof PrismaPg>[0]));
  try {
    const engine = await SchemaEngine.new({ datamodels }, () => undefined, adapter);
    try {
      return await run(engine);
    } finally {
      engine.free();
    }
  } catch (error) {
    throw engineError(panicMessage ?? error);
  } finally {
    await pool.end();
  }
}

// The engine reports a Rust panic through this global before it throws an opaque RuntimeError.
let panicMessage: string | undefined;
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message(message: string) {
    panicMessage = `schema engine panicked: ${message}`;
  },
};

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/**
 * The engine reads the catalog (pg_class.relkind and friends are of type "char"), which the pg
 * adapter refuses as an unsupported column type; "char" values arrive as text, so call them text.
 */
class CatalogClient extends pg.Client {
  // @ts-expect-error pg's overloads; both forms the pool and the adapter use are handled
  override query(...args: unknown[]): unknown {
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: Error | null, result: pg.QueryResult) => last(error, result && asText(result));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    return ((super.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args)).then(asText);
  }
}

function asText(result: pg.QueryResult): pg.QueryResult {
  for (const field of result.fields ?? []) {
    if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  }
  return result;
}

/** The engine rejects with a JSON string or an object; make it a readable Error. */
function engineError(error: unknown): Error {
  if (error instanceof Error) return error;
  let text = typeof error === 'string' ? error : JSON.stringify(error);
  try {
    const parsed = JSON.parse(text) as { message?: string; error?: string };
    text = parsed.message ?? parsed.error ?? text;
  } catch {
    // not JSON: keep the text as it came
  }
  return new Error(`migration failed: ${text}`);
}

export async function readMigrations(migrationsDir: string): Promise<MigrationList> {
  const lockPath = path.join(migrationsDir, LOCKFILE);
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  const migrationDirectories = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()
      .map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
  );
  return {
    baseDir: migrationsDir,
    lockfile: { path: LOCKFILE, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

async function createDatabaseIfMissing(databaseUrl: string): Promise<void> {
  await withMaintenanceConnection(databaseUrl, async (admin, database) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return;
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
      // Another replica created it between our check and our CREATE (a race shows as either code).
      if (error.code !== '42P04' && error.code !== '23505') throw error;
    });
  });
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  await withMaintenanceConnection(databaseUrl, async (admin, database) => {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  });
}

/** Runs `work` on the server's `postgres` database, for statements about the database in the URL. */
async function withMaintenanceConnection(
  databaseUrl: string,
  work: (admin: pg.Client, database: string) => Promise<void>,
): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await work(admin, database);
  } finally {
    await admin.end();
  }
}
