// `pnpm bench:session`: the agent's own CPU per statement on the PostgreSQL path, without sockets.
// One PostgresSession is fed pgbench -S's frames (a client Query or Bind/Describe/Execute/Sync,
// then the server's answer) in memory, with the recorder writing its real spool, under the
// default masking policy and under a pass-through one. `pnpm bench:pg` measures the whole agent
// through the network; this isolates what the session itself adds to each statement, so the two
// together tell the agent's work apart from Node.js's socket path. Reports; never fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { readMaskedColumns } from '../../apps/agent/dist/engines/postgres/masked-columns.js';
import { cstring, int32, message } from '../../apps/agent/dist/engines/postgres/protocol.js';
import { PostgresSession } from '../../apps/agent/dist/engines/postgres/session.js';
import { Spool } from '../../apps/agent/dist/recorder/spool.js';
import { DEFAULT_POLICY } from '../../apps/control-plane/dist/policies/default-policy.js';
import { compilePolicy } from '../../packages/policy/dist/index.js';

const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 200_000);
const WARMUP = 20_000;
const SQL = 'SELECT abalance FROM pgbench_accounts WHERE aid = ';

/** A socket end that takes everything written to it. */
class Sink extends Duplex {
  override _read(): void {}
  override _write(_chunk: Buffer, _encoding: string, done: () => void): void {
    done();
  }
  override _writev(_chunks: unknown[], done: () => void): void {
    done();
  }
}

const int16 = (value: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
};
const READY = message(0x5a, Buffer.from('I'));
// abalance: int4, column 3 of pgbench_accounts.
const ROW_DESCRIPTION = message(0x54, int16(1), cstring('abalance'), int32(16397), int16(3), int32(23), int16(4), int32(-1), int16(0));
const ANSWER = Buffer.concat([message(0x44, int16(1), int32(1), Buffer.from('0')), message(0x43, cstring('SELECT 1')), READY]);

async function measure(mode: 'simple' | 'prepared', policyName: 'masking' | 'pass-through'): Promise<number> {
  const document = policyName === 'masking' ? DEFAULT_POLICY : { version: 1, defaultAction: 'allow', rules: [] };
  const inForce = { compiled: compilePolicy(document as never), version: 1, hashKey: '' };
  const dir = mkdtempSync(join(tmpdir(), 'bench-spool-'));
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const spool = await Spool.open({ dir, maxBytes: 1 << 30, failureMode: 'refuse', log: silent as never });
  const client = new Sink();
  const upstream = new Sink();
  const session = new PostgresSession(
    {
      id: 'bench',
      identity: { subject: 'ci-bot', groups: ['ci'], expiresAt: new Date(Date.now() + 3_600_000) } as never,
      connectionName: 'bench-pg',
      traceId: '',
      maxClientMessageBytes: 1 << 30,
      limits: { previewRows: 100, previewBytes: 64 * 1024, textBytes: 64 * 1024 },
      recorder: spool,
      policy: { current: () => inForce },
      maskedColumns: readMaskedColumns([], []),
      events: { statement: () => undefined, ended: () => undefined },
    },
    client,
    upstream,
  );
  session.start(Buffer.alloc(0), Buffer.alloc(0));
  if (mode === 'prepared') {
    client.emit('data', Buffer.concat([message(0x50, cstring('P0_1'), cstring(`${SQL}$1`), int16(0)), message(0x53)]));
    upstream.emit('data', Buffer.concat([message(0x31), READY]));
  }
  const statement = (i: number): void => {
    const aid = String(1 + ((i * 7919) % 1_000_000));
    if (mode === 'simple') {
      client.emit('data', message(0x51, cstring(`${SQL}${aid}`)));
      upstream.emit('data', Buffer.concat([ROW_DESCRIPTION, ANSWER]));
    } else {
      const bind = message(0x42, cstring(''), cstring('P0_1'), int16(0), int16(1), int32(aid.length), Buffer.from(aid), int16(0));
      client.emit('data', Buffer.concat([bind, message(0x44, Buffer.from('P'), cstring('')), message(0x45, cstring(''), int32(0)), message(0x53)]));
      upstream.emit('data', Buffer.concat([message(0x32), ROW_DESCRIPTION, ANSWER]));
    }
  };
  // Timers (the spool's group commit) run between slices, as they would between reads.
  const slice = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      statement(i);
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await slice(0, WARMUP);
  const before = process.cpuUsage();
  await slice(WARMUP, WARMUP + STATEMENTS);
  const used = process.cpuUsage(before);
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / STATEMENTS;
}

const lines = ['| mode | policy | agent CPU µs per statement (session only) |', '| --- | --- | ---: |'];
for (const mode of ['simple', 'prepared'] as const) {
  for (const policy of ['masking', 'pass-through'] as const) {
    const us = await measure(mode, policy);
    console.log(`  ${mode.padEnd(9)} ${policy.padEnd(13)} ${us.toFixed(1)} µs CPU per statement`);
    lines.push(`| ${mode} | ${policy} | ${us.toFixed(1)} |`);
  }
}
console.log(`\n${lines.join('\n')}\n`);
