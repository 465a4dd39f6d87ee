import { AppConfig } from '../config/app-config.js';
import { migrate } from './migrate.js';

// `pnpm db:migrate`: apply pending migrations to DATABASE_URL (the control plane also does this on start).
const config = new AppConfig();
try {
  const applied = await migrate(config.databaseUrl, { migrationsDir: config.migrationsDir, log: (line) => console.log(line) });
  console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
// The WASM engine leaves a timer behind; nothing else is pending once migrate() has settled.
process.exit();
