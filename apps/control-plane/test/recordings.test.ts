// Recording ingestion over the real Connect stream: exactly once in storage whatever the wire
// repeats, acked only after commit, and intact across a control plane killed mid-stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { RecordingBatch, RecordingEvent } from '@portcullis/proto';
import type pg from 'pg';
import {
  createDatabase,
  FakeAgent,
  insertAgent,
  noIdp,
  pgClient,
  startControlPlane,
  type ControlPlane,
} from './agent-support.js';

function sessionStart(seq: number, sessionId: string): RecordingEvent {
  return {
    seq,
    time: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, seq)),
    sessionId,
    body: {
      $case: 'sessionStart',
      value: {
        subject: 'sub-carol',
        username: 'carol',
        groups: ['analysts'],
        connection: 'demo-pg',
        protocol: 'postgres',
        clientAddress: '10.1.2.3:50000',
        applicationName: 'psql',
        traceId: 'trace-1',
      },
    },
  };
}

function statement(seq: number, sessionId: string, index: number, action = 'mask'): RecordingEvent {
  return {
    seq,
    time: new Date(Date.UTC(2026, 10, 25, 10, 0, 1, seq)),
    sessionId,
    body: {
      $case: 'statement',
      value: {
        index,
        kind: 'select',
        text: `SELECT email FROM customers LIMIT ${index}`,
        parameters: [],
        commandTag: 'SELECT 1',
        rowCount: 1,
        errorCode: '',
        errorMessage: '',
        durationMs: 1.5,
        resultJson: JSON.stringify({ rows: [{ email: '***@example.com' }] }),
        result: undefined,
        decision: { action, ruleIds: ['mask-email'], policyVersion: 3, reason: '', maskedCounts: { email: 1 } },
        traceId: '',
      },
    },
  };
}

function sessionEnd(seq: number, sessionId: string): RecordingEvent {
  return {
    seq,
    time: new Date(Date.UTC(2026, 10, 25, 10, 0, 2, seq)),
    sessionId,
    body: { $case: 'sessionEnd', value: { outcome: 'closed', error: '', bytesFromClient: 1234, bytesToClient: 56789 } },
  };
}

function batch(events: RecordingEvent[]): RecordingBatch {
  return { firstSeq: events[0]!.seq, lastSeq: events.at(-1)!.seq, events };
}

describe('recording ingestion', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let sql: pg.Client;
  const streams: FakeAgent[] = [];
  const open = (token: string) => {
    const a = new FakeAgent(cp.grpcAddress, token);
    streams.push(a);
    a.hello();
    return a;
  };

  before(async () => {
    db = await createDatabase('cp_recordings');
    cp = await startControlPlane({ idp: noIdp as never, databaseUrl: db.url });
    sql = await pgClient(db.url);
  });

  after(async () => {
    for (const a of streams) a.close();
    await sql?.end();
    await cp?.stop();
    await db?.drop();
  });

  test('stores a batch once, acks it after commit, and acks a duplicate without storing it again', async () => {
    const agent = await insertAgent(sql, 'rec-agent', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    const b = batch([sessionStart(1, sid), statement(2, sid, 1), statement(3, sid, 2, 'block'), sessionEnd(4, sid)]);

    a.send({ $case: 'recordingBatch', value: b });
    const ack = await a.next('recordingAck');
    assert.equal(ack.value.upToSeq, 4);
    // Read at once on the ack: everything it covers is already committed.
    const events = (await sql.query('SELECT * FROM events WHERE agent_id = $1 ORDER BY seq', [agent.id])).rows;
    assert.deepEqual(
      events.map((e) => [Number(e.seq), e.type, e.kind, e.action, e.trace_id]),
      [
        [1, 'session_start', null, null, 'trace-1'],
        [2, 'statement', 'select', 'mask', null],
        [3, 'statement', 'select', 'block', null],
        [4, 'session_end', null, null, null],
      ],
    );
    assert.equal(events[1].text, 'SELECT email FROM customers LIMIT 1');
    assert.deepEqual(events[1].data.statement.result, { rows: [{ email: '***@example.com' }] });
    assert.deepEqual(events[1].data.statement.decision.maskedCounts, { email: 1 });

    a.send({ $case: 'recordingBatch', value: b });
    const again = await a.next('recordingAck', { from: ack.index + 1 });
    assert.equal(again.value.upToSeq, 4);

    assert.equal(
      Number((await sql.query('SELECT count(*) FROM events WHERE agent_id = $1', [agent.id])).rows[0].count),
      4,
    );
    const session = (await sql.query('SELECT * FROM sessions WHERE id = $1', [sid])).rows[0];
    assert.equal(session.statement_count, 2, 'statements counted once');
    assert.equal(session.subject, 'sub-carol');
    assert.deepEqual(session.groups, ['analysts']);
    assert.equal(session.outcome, 'closed');
    assert.equal(Number(session.bytes_to_client), 56789);
    assert.ok(session.ended_at > session.started_at);
    assert.equal(
      Number(
        (await sql.query('SELECT next_recording_seq FROM agents WHERE id = $1', [agent.id])).rows[0].next_recording_seq,
      ),
      5,
    );

    a.close();
    const b2 = open(agent.token);
    assert.equal(
      (await b2.next('welcome')).value.nextRecordingSeq,
      5,
      'Welcome tells a reconnecting agent where to resume',
    );
  });

  test("an agent cannot end or count statements of another agent's session", async () => {
    const owner = await insertAgent(sql, 'rec-owner', ['default']);
    const other = await insertAgent(sql, 'rec-other', ['default']);
    const a = open(owner.token);
    await a.next('welcome');
    const sid = randomUUID();
    a.send({ $case: 'recordingBatch', value: batch([sessionStart(1, sid), statement(2, sid, 1)]) });
    await a.next('recordingAck');

    // The other agent learned the session id somehow and sends events for it.
    const b = open(other.token);
    await b.next('welcome');
    const refused = { ...sessionEnd(2, sid), body: { $case: 'sessionEnd' as const, value: { outcome: 'refused', error: 'forged', bytesFromClient: 1, bytesToClient: 1 } } };
    b.send({ $case: 'recordingBatch', value: batch([statement(1, sid, 9), refused]) });
    await b.next('recordingAck');

    const session = (await sql.query('SELECT * FROM sessions WHERE id = $1', [sid])).rows[0];
    assert.equal(session.agent_id, owner.id);
    assert.equal(session.statement_count, 1);
    assert.equal(session.ended_at, null);
    assert.equal(session.outcome, null);
    const audit = await sql.query(`SELECT actor FROM audit_entries WHERE action = 'access.refused' AND details->>'sessionId' = $1`, [sid]);
    assert.deepEqual(audit.rows, [{ actor: 'unknown' }], "the refusal is not put in the owner's user's name");
  });

  test('stores a 2,500-event batch in one transaction', async () => {
    const agent = await insertAgent(sql, 'rec-large', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    const events = [sessionStart(1, sid)];
    for (let seq = 2; seq <= 2500; seq++) events.push(statement(seq, sid, seq - 1));
    a.send({ $case: 'recordingBatch', value: batch(events) });
    assert.equal((await a.next('recordingAck')).value.upToSeq, 2500);
    const count = await sql.query('SELECT count(*) FROM events WHERE agent_id = $1', [agent.id]);
    assert.equal(Number(count.rows[0].count), 2500);
    const session = await sql.query('SELECT statement_count FROM sessions WHERE id = $1', [sid]);
    assert.equal(session.rows[0].statement_count, 2499);
  });

  test('an agent that half-closes right after a batch still gets its ack', async () => {
    const agent = await insertAgent(sql, 'rec-halfclose', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    a.send({ $case: 'recordingBatch', value: batch([sessionStart(1, sid), statement(2, sid, 1)]) });
    a.end();
    assert.equal((await a.next('recordingAck')).value.upToSeq, 2);
    assert.equal((await a.ended).code, status.OK);
  });

  test('refuses a malformed batch and stores nothing of it', async () => {
    const agent = await insertAgent(sql, 'rec-bad', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    a.send({
      $case: 'recordingBatch',
      value: { firstSeq: 1, lastSeq: 2, events: [statement(2, sid, 1), statement(1, sid, 2)] },
    });
    const end = await a.ended;
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.details, /out of order/);
    assert.equal(
      Number((await sql.query('SELECT count(*) FROM events WHERE agent_id = $1', [agent.id])).rows[0].count),
      0,
    );
  });

  test('stores what jsonb refuses (NUL, unpaired surrogates) and results that are not JSON, rather than refusing the batch', async () => {
    const agent = await insertAgent(sql, 'rec-odd-text', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    const odd = statement(2, sid, 1);
    const broken = statement(3, sid, 2);
    if (odd.body?.$case === 'statement') {
      odd.body.value.text = 'SELECT 1 -- nul\u0000 and a cut emoji \ud83d';
      odd.body.value.resultJson = JSON.stringify({ rows: [['a\u0000b', '\ud83d', '\\u0000 is text', '😀']] });
    }
    if (broken.body?.$case === 'statement') broken.body.value.resultJson = '{"rows": [';
    a.send({ $case: 'recordingBatch', value: batch([sessionStart(1, sid), odd, broken]) });
    assert.equal((await a.next('recordingAck')).value.upToSeq, 3);
    const { rows } = await sql.query('SELECT seq, text, data FROM events WHERE agent_id = $1 ORDER BY seq', [agent.id]);
    assert.equal(rows.length, 3);
    assert.equal(rows[1].text, 'SELECT 1 -- nul\ufffd and a cut emoji \ufffd');
    assert.deepEqual(rows[1].data.statement.result, { rows: [['a\ufffdb', '\ufffd', '\\u0000 is text', '😀']] });
    assert.deepEqual(rows[2].data.statement.result, { unreadable: '{"rows": [' });
  });

  test('reads the result of agents from before result_json (a Struct)', async () => {
    const agent = await insertAgent(sql, 'rec-old-agent', ['default']);
    const a = open(agent.token);
    await a.next('welcome');
    const sid = randomUUID();
    const old = statement(2, sid, 1);
    if (old.body?.$case === 'statement') {
      old.body.value.resultJson = '';
      old.body.value.result = { columns: ['email'], rows: [['***@example.com']], truncated: false };
    }
    a.send({ $case: 'recordingBatch', value: batch([sessionStart(1, sid), old]) });
    assert.equal((await a.next('recordingAck')).value.upToSeq, 2);
    const { rows } = await sql.query('SELECT data FROM events WHERE agent_id = $1 AND seq = 2', [agent.id]);
    assert.deepEqual(rows[0].data.statement.result, { columns: ['email'], rows: [['***@example.com']], truncated: false });
  });

  test('after kill -9 mid-stream, acked events are stored and resent ones are stored once', async () => {
    const agent = await insertAgent(sql, 'rec-crash', ['default']);
    const sid = randomUUID();
    const batches: RecordingBatch[] = [batch([sessionStart(1, sid)])];
    for (let i = 0; i < 80; i++) {
      const seq = 2 + i * 2;
      batches.push(batch([statement(seq, sid, i * 2 + 1), statement(seq + 1, sid, i * 2 + 2)]));
    }
    const total = batches.at(-1)!.lastSeq;

    const a = open(agent.token);
    await a.next('welcome');
    let acked = 0;
    for (const b of batches) a.send({ $case: 'recordingBatch', value: b });
    // Some batches are committed and acked, some committed without ack, some never arrive.
    for (let from = 0; ;) {
      const ack = await a.next('recordingAck', { from });
      if (ack.value.upToSeq >= total / 3) break;
      from = ack.index + 1;
    }
    await cp.kill();
    for (const m of a.received) if (m.body?.$case === 'recordingAck') acked = Math.max(acked, m.body.value.upToSeq);
    assert.ok(acked >= 1 && acked < total, `killed mid-stream (acked ${acked} of ${total})`);
    await a.ended;

    await cp.restart();
    const stored = (await sql.query('SELECT seq FROM events WHERE agent_id = $1 ORDER BY seq', [agent.id])).rows.map(
      (r) => Number(r.seq),
    );
    console.log(
      `kill -9 with ${acked} of ${total} acked: ${stored.length} stored (${stored.length - acked} committed but never acked)`,
    );
    for (let seq = 1; seq <= acked; seq++) assert.ok(stored.includes(seq), `acked event ${seq} survived the crash`);

    // The agent resends from its spool everything past the last ack it processed. Acks still in
    // flight when the process died are lost, so the resend overlaps what is stored already.
    const b = open(agent.token);
    const resume = (await b.next('welcome')).value.nextRecordingSeq;
    assert.ok(resume > acked, 'the control plane knows every acked event is stored');
    const unacked = batches.filter((x) => x.lastSeq > acked / 2);
    for (const x of unacked) b.send({ $case: 'recordingBatch', value: x });
    for (let from = 0; ;) {
      const ack = await b.next('recordingAck', { from });
      if (ack.value.upToSeq === total) break;
      from = ack.index + 1;
    }

    const after = (await sql.query('SELECT seq FROM events WHERE agent_id = $1 ORDER BY seq', [agent.id])).rows.map(
      (r) => Number(r.seq),
    );
    assert.deepEqual(
      after,
      Array.from({ length: total }, (_, i) => i + 1),
      'every event exactly once',
    );
    const session = (await sql.query('SELECT statement_count FROM sessions WHERE id = $1', [sid])).rows[0];
    assert.equal(session.statement_count, total - 1, 'each statement counted exactly once');
  });
});
