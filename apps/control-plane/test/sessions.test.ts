// Sessions REST API over recordings ingested through the real AgentService stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RecordingEvent } from '@portcullis/proto';
import type pg from 'pg';
import {
  createDatabase,
  FakeAgent,
  insertAgent,
  pgClient,
  startControlPlane,
  type ControlPlane,
} from './agent-support.js';
import { api, startIssuer, type TestIssuer } from './support.js';

interface Recorded {
  id: string;
  subject: string;
  username: string;
  connection: string;
  outcome: string;
  startedAt: Date;
  statements: number;
}

/** Events of one whole session, seqs from `seq` on. */
function sessionEvents(s: Recorded, seq: number): RecordingEvent[] {
  const at = (ms: number) => new Date(s.startedAt.getTime() + ms);
  const events: RecordingEvent[] = [
    {
      seq: seq++,
      time: at(0),
      sessionId: s.id,
      body: {
        $case: 'sessionStart',
        value: {
          subject: s.subject,
          username: s.username,
          groups: ['g'],
          connection: s.connection,
          protocol: 'postgres',
          clientAddress: '',
          applicationName: '',
          traceId: '',
        },
      },
    },
  ];
  for (let i = 1; i <= s.statements; i++) {
    events.push({
      seq: seq++,
      time: at(i),
      sessionId: s.id,
      body: {
        $case: 'statement',
        value: {
          index: i,
          kind: 'select',
          text: `SELECT ${i}`,
          parameters: [],
          commandTag: 'SELECT 1',
          rowCount: 1,
          errorCode: '',
          errorMessage: '',
          durationMs: 0.4,
          resultJson: JSON.stringify({ rows: [{ n: i }] }),
          result: undefined,
          decision: { action: 'allow', ruleIds: [], policyVersion: 1, reason: '', maskedCounts: {} },
          traceId: `t-${i}`,
        },
      },
    });
  }
  events.push({
    seq: seq++,
    time: at(1000),
    sessionId: s.id,
    body: {
      $case: 'sessionEnd',
      value: { outcome: s.outcome, error: '', bytesFromClient: 10, bytesToClient: 2 ** 40 },
    },
  });
  return events;
}

describe('sessions API', () => {
  let issuer: TestIssuer;
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let sql: pg.Client;
  let auditor: string;
  let agentId: string;
  const sessions: Recorded[] = [];
  const get = (path: string, token = auditor) => api(cp.url, 'GET', `/api/v1${path}`, { token });

  before(async () => {
    issuer = await startIssuer();
    db = await createDatabase('cp_sessions');
    cp = await startControlPlane({ idp: { url: issuer.keycloakUrl } as never, databaseUrl: db.url });
    sql = await pgClient(db.url);
    auditor = await issuer.token({ sub: 'audit-sub', username: 'audrey', roles: ['auditor'] });

    const agent = await insertAgent(sql, 'rec-agent', ['default']);
    agentId = agent.id;
    const base = Date.UTC(2026, 10, 20, 8, 0, 0);
    const plan: Array<[string, string, string, string]> = [
      ['sub-carol', 'carol', 'demo-pg', 'closed'],
      ['sub-dave', 'dave', 'demo-pg', 'refused'],
      ['sub-carol', 'carol', 'demo-llm', 'closed'],
      ['sub-carol', 'carol', 'demo-pg', 'error'],
      ['sub-erin', 'erin', 'demo-vectors', 'closed'],
    ];
    plan.forEach(([subject, username, connection, outcome], i) =>
      sessions.push({
        id: randomUUID(),
        subject,
        username,
        connection,
        outcome,
        startedAt: new Date(base + i * 60_000),
        statements: i + 1,
      }),
    );
    const stream = new FakeAgent(cp.grpcAddress, agent.token);
    stream.hello();
    await stream.next('welcome');
    let seq = 1;
    const events = sessions.flatMap((s) => {
      const e = sessionEvents(s, seq);
      seq += e.length;
      return e;
    });
    stream.send({ $case: 'recordingBatch', value: { firstSeq: 1, lastSeq: seq - 1, events } });
    assert.equal((await stream.next('recordingAck')).value.upToSeq, seq - 1);
    stream.close();
  });

  after(async () => {
    await sql?.end();
    await cp?.stop();
    await db?.drop();
    await issuer?.close();
  });

  test('needs a token, and the admin or auditor role', async () => {
    assert.equal((await api(cp.url, 'GET', '/api/v1/sessions')).status, 401);
    const steward = await issuer.token({ roles: ['steward'] });
    assert.equal((await get('/sessions', steward)).status, 403);
    const admin = await issuer.token({ roles: ['admin'] });
    assert.equal((await get('/sessions', admin)).status, 200);
  });

  test('lists sessions newest first, with their recorded facts', async () => {
    const res = await get('/sessions');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      res.body.items.map((s: { id: string }) => s.id),
      sessions.map((s) => s.id).reverse(),
    );
    assert.equal(res.body.nextCursor, null);
    const newest = res.body.items[0];
    assert.deepEqual(newest, {
      id: sessions[4]!.id,
      agentId,
      agentName: 'rec-agent',
      subject: 'sub-erin',
      username: 'erin',
      groups: ['g'],
      connection: 'demo-vectors',
      protocol: 'postgres',
      clientAddress: null,
      applicationName: null,
      traceId: null,
      startedAt: sessions[4]!.startedAt.toISOString(),
      endedAt: new Date(sessions[4]!.startedAt.getTime() + 1000).toISOString(),
      outcome: 'closed',
      error: null,
      bytesFromClient: 10,
      bytesToClient: 2 ** 40,
      statementCount: 5,
    });
  });

  test('filters by subject, username, connection, agent, outcome and time', async () => {
    const ids = async (query: string) => {
      const res = await get(`/sessions?${query}`);
      assert.equal(res.status, 200, res.text);
      return res.body.items.map((s: { id: string }) => sessions.findIndex((x) => x.id === s.id));
    };
    assert.deepEqual(await ids('subject=sub-carol'), [3, 2, 0]);
    assert.deepEqual(await ids('username=dave'), [1]);
    assert.deepEqual(await ids('connection=demo-pg'), [3, 1, 0]);
    assert.deepEqual(await ids('subject=sub-carol&connection=demo-pg&outcome=closed'), [0]);
    assert.deepEqual(await ids('agent=rec-agent'), [4, 3, 2, 1, 0]);
    assert.deepEqual(await ids(`agent=${agentId}`), [4, 3, 2, 1, 0]);
    assert.deepEqual(await ids('agent=no-such-agent'), []);
    const from = sessions[1]!.startedAt.toISOString();
    const to = sessions[3]!.startedAt.toISOString();
    assert.deepEqual(await ids(`from=${from}&to=${to}`), [2, 1], 'from inclusive, to exclusive');
  });

  test('pages with limit and cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/sessions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((s: { id: string }) => s.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, sessions.map((s) => s.id).reverse());
  });

  test('refuses bad queries with a clear 400 and changes nothing', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['from=yesterday', 'from'],
      ['from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z', 'to'],
      ['colour=red', ''],
    ]) {
      const res = await get(`/sessions?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.statusCode, 400);
      if (field) assert.match(res.body.message, new RegExp(`^${field}: `), res.body.message);
    }
    const bad = await get('/sessions?cursor=bm9wZQ');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /cursor is not valid/);
  });

  test('reads one session; unknown ids are 404', async () => {
    const res = await get(`/sessions/${sessions[1]!.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.outcome, 'refused');
    assert.equal(res.body.statementCount, 2);
    assert.equal((await get(`/sessions/${randomUUID()}`)).status, 404);
    assert.equal((await get('/sessions/not-a-uuid')).status, 404);
  });

  test('lists a session’s events in order, paged with after', async () => {
    const s = sessions[4]!;
    const all = await get(`/sessions/${s.id}/events`);
    assert.equal(all.status, 200, all.text);
    const types = all.body.items.map((e: { type: string }) => e.type);
    assert.deepEqual(types, ['session_start', ...Array(5).fill('statement'), 'session_end']);
    const seqs = all.body.items.map((e: { seq: number }) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    const third = all.body.items[2];
    assert.equal(third.text, 'SELECT 2');
    assert.equal(
      third.time,
      new Date(s.startedAt.getTime() + 2).toISOString(),
      'event time kept to the millisecond, in UTC',
    );
    assert.equal(third.statementIndex, 2);
    assert.equal(third.traceId, 't-2');
    assert.equal(third.action, 'allow');
    assert.deepEqual(third.data.statement.result, { rows: [{ n: 2 }] });

    const page1 = await get(`/sessions/${s.id}/events?limit=3`);
    assert.deepEqual(
      page1.body.items.map((e: { seq: number }) => e.seq),
      seqs.slice(0, 3),
    );
    const page2 = await get(`/sessions/${s.id}/events?limit=3&after=${page1.body.nextCursor}`);
    assert.deepEqual(
      page2.body.items.map((e: { seq: number }) => e.seq),
      seqs.slice(3, 6),
    );
    const page3 = await get(`/sessions/${s.id}/events?limit=3&after=${page2.body.nextCursor}`);
    assert.deepEqual(
      page3.body.items.map((e: { seq: number }) => e.seq),
      seqs.slice(6),
    );
    assert.equal(page3.body.nextCursor, null);
    assert.equal((await get(`/sessions/${randomUUID()}/events`)).status, 404);
  });
});
