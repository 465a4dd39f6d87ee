import { loadModule, parseSync, parsePlPgSQLSync } from 'libpg-query';
await loadModule();
const qs = process.argv.slice(2);
for (const q of qs) {
  try { console.log(q, '=>', JSON.stringify(parseSync(q))); } catch (e) { console.log('ERR', e.message, JSON.stringify(e.sqlDetails)); }
}
