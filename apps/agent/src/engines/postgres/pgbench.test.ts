import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Harness } from './testing/harness.js';

const run = promisify(execFile);
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

/** A throughput number for the report; timing is not asserted (shared, noisy machines). */
describe('pgbench through the agent', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  it('runs pgbench -S (simple and prepared) through the agent and directly', async () => {
    await run(PGBENCH, ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-U', h.role, h.database]);
    const bench = async (target: string[], password: string, mode: string) => {
      const { stdout } = await run(PGBENCH, ['-S', '-n', '-M', mode, '-c', '16', '-j', '2', '-T', '4', ...target], {
        env: { ...process.env, PGPASSWORD: password },
      });
      return Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    };
    const token = await h.token('carol', { expiresIn: 600 });
    for (const mode of ['simple', 'prepared']) {
      const direct = await bench(['-h', '127.0.0.1', '-U', h.role, h.database], '', mode);
      const agent = await bench(['-h', '127.0.0.1', '-p', String(h.port), '-U', 'carol', 'sales'], token, mode);
      console.log(
        `pgbench -S -M ${mode} -c 16 -j 2 -T 4: direct ${direct.toFixed(0)} tps, agent ${agent.toFixed(0)} tps (ratio ${(agent / direct).toFixed(2)})`,
      );
      assert.ok(agent > 0);
    }
    // Every transaction was recorded.
    assert.ok(h.recorder.statements().filter((s) => s.text.includes('pgbench_accounts')).length > 1000);
  });
});
