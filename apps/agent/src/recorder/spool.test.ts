import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentMessage, type Statement } from '@portcullis/proto';
import { pino } from 'pino';
import { encodeBatchMessage } from './shipper.js';
import { Spool, type SpoolOptions } from './spool.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-spool-'));
  dirs.push(dir);
  return dir;
}

function statement(text: string): Statement {
  return {
    index: 1, kind: 'select', text, parameters: [], commandTag: 'SELECT 1', rowCount: 1, errorCode: '', errorMessage: '',
    durationMs: 0.4, resultJson: '{"rows":[[1]]}', result: undefined, decision: undefined, traceId: '',
  };
}

const open = (dir: string, extra: Partial<SpoolOptions> = {}): Promise<Spool> =>
  Spool.open({ dir, maxBytes: 64 * 1024 * 1024, failureMode: 'refuse', log, ...extra });

/** Every event on disk after `afterSeq`, decoded the way the control plane decodes a batch. */
async function shipAll(spool: Spool, afterSeq = 0): Promise<Array<{ seq: number; text: string }>> {
  const out: Array<{ seq: number; text: string }> = [];
  let cursor = spool.start();
  let sent = afterSeq;
  for (;;) {
    const read = await spool.read(cursor, sent, 500, 64 * 1024);
    if (!read) return out;
    const batch = AgentMessage.decode(encodeBatchMessage(read)).body;
    assert.equal(batch?.$case, 'recordingBatch');
    if (batch?.$case !== 'recordingBatch') throw new Error('unreachable');
    assert.equal(batch.value.firstSeq, read.firstSeq);
    assert.equal(batch.value.lastSeq, read.lastSeq);
    for (const event of batch.value.events) {
      out.push({ seq: event.seq, text: event.body?.$case === 'statement' ? event.body.value.text : event.body?.$case ?? '' });
    }
    cursor = read.next;
    sent = read.lastSeq;
  }
}

describe('recording spool', () => {
  it('numbers events 1.. in order and ships them as decodable RecordingBatches', async () => {
    const spool = await open(spoolDir(), { segmentBytes: 4096 });
    spool.sessionStart('s1', { subject: 'u1', username: 'carol', groups: ['analysts'], connection: 'demo-pg', protocol: 'postgres', clientAddress: '127.0.0.1', applicationName: 'psql', traceId: '' });
    for (let i = 0; i < 300; i++) {
      spool.statement('s1', statement(`select ${i}`));
      if (i % 50 === 0) await spool.flush(); // several writes, so segments rotate
    }
    spool.sessionEnd('s1', { outcome: 'client_closed', error: '', bytesFromClient: 10, bytesToClient: 20 });
    await spool.flush();
    const events = await shipAll(spool);
    assert.equal(events.length, 302);
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 302 }, (_, i) => i + 1));
    assert.equal(events[0]!.text, 'sessionStart');
    assert.equal(events[150]!.text, 'select 149');
    assert.ok(readdirSync(join(spool['options'].dir)).length > 2, 'small segments rotate');
    await spool.close();
  });

  it('keeps the seq across restarts and cuts off a torn record', async () => {
    const dir = spoolDir();
    let spool = await open(dir);
    for (let i = 0; i < 10; i++) spool.statement('s', statement(`q${i}`));
    await spool.close();
    const [segment] = readdirSync(dir);
    appendFileSync(join(dir, segment!), Buffer.from([0x1a, 0x40, 0x08, 0x0b])); // a crash mid-write

    spool = await open(dir);
    spool.statement('s', statement('after restart'));
    await spool.flush();
    const events = await shipAll(spool);
    assert.deepEqual(events.at(-1), { seq: 11, text: 'after restart' });
    assert.equal(events.length, 11);
    await spool.close();
  });

  it('never numbers below what the control plane already stores', async () => {
    const spool = await open(spoolDir());
    spool.raiseSeqFloor(5000);
    spool.statement('s', statement('x'));
    await spool.flush();
    assert.deepEqual(await shipAll(spool), [{ seq: 5000, text: 'x' }]);
    await spool.close();
  });

  it('deletes segments once acknowledged and resends only what is not', async () => {
    const dir = spoolDir();
    const spool = await open(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 200; i++) {
      spool.statement('s', statement(`select ${i}`));
      if (i % 20 === 19) await spool.flush();
    }
    const segmentsBefore = readdirSync(dir).length;
    const bytesBefore = spool.stats().bytes;
    assert.ok(segmentsBefore > 3);
    assert.equal(spool.stats().backlog, 200);

    spool.acknowledge(150);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(readdirSync(dir).length < segmentsBefore, 'acknowledged segments are deleted');
    assert.ok(spool.stats().bytes < bytesBefore);
    assert.equal(spool.stats().backlog, 50);
    const rest = await shipAll(spool, spool.acknowledgedSeq());
    assert.deepEqual(rest.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => 151 + i));
    await spool.close();
  });

  it('stops accepting when full (refuse) but keeps serving in serve mode', async () => {
    const refusing = await open(spoolDir(), { maxBytes: 64 * 1024 });
    const serving = await open(spoolDir(), { maxBytes: 64 * 1024, failureMode: 'serve' });
    assert.ok(refusing.accepting());
    for (let i = 0; i < 2000; i++) {
      refusing.statement('s', statement(`select ${i} -- some padding to fill the spool quickly`));
      serving.statement('s', statement(`select ${i} -- some padding to fill the spool quickly`));
    }
    assert.equal(refusing.accepting(), false);
    assert.equal(serving.accepting(), true);
    await refusing.flush();
    assert.ok(refusing.stats().bytes <= 64 * 1024, 'the spool never grows past its limit');

    // Acknowledging frees room again, even when everything sat in the one active segment.
    refusing.acknowledge(refusing.stats().backlog);
    await refusing.flush();
    assert.ok(refusing.accepting(), 'still refusing after everything was acknowledged');
    refusing.statement('s', statement('fits again'));
    await refusing.flush();
    assert.equal(refusing.stats().backlog, 1);
    await refusing.close();
    await serving.close();
  });

  it('stops accepting when the disk fails (refuse), and counts the failure', async () => {
    const { AgentMetrics } = await import('../status/metrics.js');
    for (const failureMode of ['refuse', 'serve'] as const) {
      const dir = spoolDir();
      symlinkSync('/dev/full', join(dir, `${'1'.padStart(20, '0')}.seg`)); // every write: ENOSPC
      const metrics = new AgentMetrics('test');
      const spool = await open(dir, { failureMode, metrics });
      spool.statement('s', statement('select 1'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(spool.accepting(), failureMode === 'serve');
      assert.match(await metrics.registry.metrics(), /portcullis_agent_recording_failures_total\{reason="write_error"\} [1-9]/);
      assert.equal(spool.stats().backlog, 1, 'the event is kept for the retry');
      await spool.close(); // gives up on the write instead of waiting for a disk that never recovers
    }
  });

  it('records 40k statements per second on half a core at most', async () => {
    const spool = await open(spoolDir());
    const events = 100_000;
    // CPU time, not wall time: other processes on the machine must not make this flaky.
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < events; i++) spool.statement('session-1', statement(`select * from customers where id = ${i}`));
    await spool.flush();
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMicrosPerEvent = (cpu.user + cpu.system) / events;
    console.log(`spool: ${events} events on disk in ${wallMs.toFixed(0)} ms wall, ${cpuMicrosPerEvent.toFixed(2)} µs CPU per event`);
    assert.ok(cpuMicrosPerEvent * 40_000 < 500_000, `${cpuMicrosPerEvent.toFixed(2)} µs per event is more than half a core at 40k/s`);
    assert.equal((await shipAll(spool)).length, events);
    await spool.close();
  });
});
