// Preloaded with `--import` (NODE_OPTIONS refuses `--cpu-prof`): samples this process's CPU from
// start to exit and writes a .cpuprofile (Chrome DevTools, speedscope) into $BENCH_PROFILE.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
// An in-process session answers synchronously, so the profile can still be written on 'exit'.
process.on('exit', () => {
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    const name = `${basename(process.argv[1] ?? 'node', '.js')}-${process.pid}.cpuprofile`;
    writeFileSync(join(process.env.BENCH_PROFILE ?? '.', name), JSON.stringify(result.profile));
  });
});
