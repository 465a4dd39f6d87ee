import { migrate } from '../src/db/migrate.ts';
const url = `postgresql://postgres@127.0.0.1:5432/cp_probe_${process.pid}`;
console.log(await migrate(url), await migrate(url));
console.log(await Promise.all([migrate(url+'x'), migrate(url+'x')]));
