// Issue 6 acceptance: LLM and vector HTTP services through a real agent, with the official
// OpenAI SDK, tokens from the real dev IdP, recordings shipped to a real control plane, and one
// trace spanning a PostgreSQL query and an LLM call.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import pg from 'pg';
import { ANSWER_PII, MOCK_PROVIDER_KEY, startMockLlm, type MockLlm } from '../fixtures/mock-llm.js';
import { startMockQdrant, type MockQdrant } from '../fixtures/mock-qdrant.js';
import { eventually } from '../lib/process.js';
import {
  api,
  createDatabase,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  userToken,
  type Agent,
  type ControlPlane,
  type Idp,
} from '../lib/stack.js';

const run = promisify(execFile);
const CARD_PROMPT = 'Refund the order paid with card 5500 0000 0000 0004 today';

describe('LLM and vector HTTP services through the agent', () => {
  let idp: Idp;
  let store: Awaited<ReturnType<typeof createDatabase>>;
  let cp: ControlPlane;
  let agent: Agent;
  let llm: MockLlm;
  let qdrant: MockQdrant;
  let alice: string;
  let carol: string;
  let base = '';

  before(async () => {
    idp = await startIdp();
    store = await createDatabase('e2e_httppath_store');
    llm = await startMockLlm();
    qdrant = await startMockQdrant({ seed: { documents: [{ id: 1, vector: [1, 0], payload: { text: 'refund policy' } }] } });
    cp = await startControlPlane({ idp, databaseUrl: store.url });
    alice = await userToken(idp, 'alice');
    carol = await userToken(idp, 'carol');
    const reg = await registerAgent(cp, alice, 'http-agent');
    const connections = [
      { name: 'demo-llm', kind: 'llm', target: `${llm.url}/v1`, credential: { secretRef: 'env:MOCK_PROVIDER_KEY' }, options: { profile: 'openai-compatible', maxRequestBytes: 8192 } },
      { name: 'docs-vectors', kind: 'vector-http', target: qdrant.url, credential: { value: 'qdrant-secret' }, options: { profile: 'qdrant' } },
      { name: 'llm-down', kind: 'llm', target: 'http://127.0.0.1:1/v1', options: {} },
      { name: 'trace-pg', kind: 'postgres', target: `postgresql://postgres@127.0.0.1:5432/${store.name}` },
    ];
    for (const c of connections) {
      const created = await api(cp, alice, 'POST', '/api/v1/connections', c);
      assert.equal(created.status, 201, created.text);
      assert.equal((await api(cp, alice, 'POST', '/api/v1/grants', { connection: c.name, group: 'analysts' })).status, 201);
    }
    agent = await startAgent({ controlPlane: cp, token: reg.token, env: { MOCK_PROVIDER_KEY } });
    await eventually(async () => (await agent.status()).connections.length === connections.length, { what: 'connections on the agent' });
    base = `http://127.0.0.1:${agent.httpPort}`;
  });

  after(async () => {
    await agent?.stop();
    await cp?.stop();
    await idp?.stop();
    await llm?.stop();
    await qdrant?.stop();
    await store?.drop();
  });

  const sdk = () => new OpenAI({ apiKey: carol, baseURL: `${base}/c/demo-llm/v1`, maxRetries: 0 });

  test('the OpenAI SDK gets non-streamed and streamed answers with PII masked; the prompt reaches the model masked', async () => {
    const completion = await sdk().chat.completions.create({ model: 'mock-1', messages: [{ role: 'user', content: CARD_PROMPT }] });
    const answer = completion.choices[0]!.message.content!;
    for (const value of Object.values(ANSWER_PII)) assert.ok(!answer.includes(value), `${value} reached the client`);
    assert.match(answer, /\[CREDIT_CARD\]/);
    const seen = llm.received.at(-1)!;
    assert.equal(seen.body.messages[0].content, 'Refund the order paid with card [CREDIT_CARD] today');
    assert.equal(seen.headers.authorization, `Bearer ${MOCK_PROVIDER_KEY}`);

    const stream = await sdk().chat.completions.create({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hello' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    for (const value of Object.values(ANSWER_PII)) assert.ok(!text.includes(value), `${value} reached the client`);
    assert.match(text, /^You said: hello\. The customer's card is \[CREDIT_CARD\], reach them at \[EMAIL\]/);
  });

  test('the Responses API streamed through the SDK: values split across delta events never reach the client', async () => {
    const stream = await sdk().responses.create({ model: 'mock-1', input: CARD_PROMPT, stream: true });
    let text = '';
    let done: string | undefined;
    let completed: any;
    const sequence: number[] = [];
    for await (const event of stream) {
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.output_text.done') done = event.text;
      if (event.type === 'response.completed') completed = event.response;
    }
    for (const value of Object.values(ANSWER_PII)) {
      assert.ok(!text.includes(value) && !JSON.stringify(completed).includes(value), `${value} reached the client`);
    }
    assert.match(text, /^You said: Refund the order paid with card \[CREDIT_CARD\] today\. The customer's card is \[CREDIT_CARD\], reach them at \[EMAIL\] or \[PHONE\]; SSN on file \[US_SSN\]\.$/);
    assert.equal(done, text, 'output_text.done repeats what the deltas said');
    assert.equal(completed.output[0].content[0].text, text, 'response.completed repeats it too');
    assert.ok(completed.usage.total_tokens > 0);
    assert.deepEqual(sequence, sequence.map((_, i) => i), 'sequence numbers stay gapless and in order');
    assert.equal(llm.received.at(-1)!.body.input, 'Refund the order paid with card [CREDIT_CARD] today');
  });

  test('the provider key never reaches the client', async () => {
    const res = await fetch(`${base}/c/demo-llm/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    let raw = await res.text();
    res.headers.forEach((value, name) => (raw += `\n${name}: ${value}`));
    assert.ok(!raw.includes(MOCK_PROVIDER_KEY));
    const noToken = await fetch(`${base}/c/demo-llm/v1/models`, { headers: { authorization: `Bearer ${MOCK_PROVIDER_KEY}` } });
    assert.equal(noToken.status, 401, 'the provider key is not a token');
  });

  test('curl DELETE /collections/documents is blocked, recorded as blocked, and never reaches Qdrant', async () => {
    const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'DELETE', '-H', `Authorization: Bearer ${carol}`, `${base}/c/docs-vectors/collections/documents`]);
    const [body, status] = stdout.split('\n');
    assert.equal(status, '403');
    assert.match(JSON.parse(body!).status.error, /guardrail:vector-delete-collection/);
    assert.ok(!qdrant.received.some((r) => r.method === 'DELETE'));
    assert.ok(qdrant.collections.has('documents'));
    const search = await fetch(`${base}/c/docs-vectors/collections/documents/points/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
      body: JSON.stringify({ vector: [1, 0], limit: 1 }),
    });
    assert.equal(search.status, 200);
    const event = await eventually(async () => {
      const sessions = (await api(cp, alice, 'GET', '/api/v1/sessions?connection=docs-vectors&limit=20')).body.items;
      for (const s of sessions) {
        const events = (await api(cp, alice, 'GET', `/api/v1/sessions/${s.id}/events`)).body.items;
        const hit = events.find((e: any) => e.text === 'DELETE /collections/documents');
        if (hit) return hit;
      }
      return undefined;
    }, { what: 'the blocked delete recorded' });
    assert.equal(event.action, 'block');
  });

  test('refusals: 401 with WWW-Authenticate, 404, 502, 413, malformed SSE ends the stream and the agent serves on', async () => {
    const bad = await fetch(`${base}/c/demo-llm/v1/models`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
    assert.equal((await bad.json()).error.code, 'invalid_token');

    const auth = { authorization: `Bearer ${carol}`, 'content-type': 'application/json' };
    assert.equal((await fetch(`${base}/c/no-such-thing/v1/models`, { headers: auth })).status, 404);
    const down = await fetch(`${base}/c/llm-down/v1/models`, { headers: auth });
    assert.equal(down.status, 502);
    assert.match((await down.json()).error.message, /could not reach the upstream of connection "llm-down"/);
    const big = await fetch(`${base}/c/demo-llm/v1/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }) });
    assert.equal(big.status, 413);

    const broken = await fetch(`${base}/c/demo-llm/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth, 'x-mock-malformed': '1' },
      body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await broken.text();
    assert.match(text, /data: \{"error":\{"message":"the upstream sent a malformed event/);
    assert.ok(!text.includes('never seen'));
    const again = await sdk().chat.completions.create({ model: 'mock-1', messages: [{ role: 'user', content: 'still there?' }] });
    assert.match(again.choices[0]!.message.content!, /still there/);
  });

  test('a trace with a PostgreSQL query and an LLM call comes back in order from /api/v1/traces/:id', async () => {
    const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const client = new pg.Client({
      host: '127.0.0.1',
      port: agent.pgPort,
      database: 'trace-pg',
      user: 'carol',
      password: carol,
      options: `-c portcullis.trace_id=${traceId}`,
    });
    await client.connect();
    await client.query('select 1 as vector_query');
    await client.end();
    const res = await fetch(`${base}/c/demo-llm/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'summarise' }] }),
    });
    assert.equal(res.status, 200);
    await res.text();
    const trace = await eventually(async () => {
      const r = await api(cp, alice, 'GET', `/api/v1/traces/${traceId}`);
      const statements = r.status === 200 ? r.body.events.filter((e: any) => e.type === 'statement') : [];
      return statements.length >= 2 ? r.body : undefined;
    }, { what: 'both statements of the trace', timeoutMs: 15_000 });
    const statements = trace.events.filter((e: any) => e.type === 'statement');
    assert.deepEqual(statements.map((e: any) => [e.protocol, e.text]), [
      ['postgres', 'select 1 as vector_query'],
      ['http', 'POST /v1/chat/completions'],
    ]);
    assert.deepEqual(new Set(trace.sessions.map((s: any) => s.protocol)), new Set(['postgres', 'http']));
    assert.equal((await api(cp, carol, 'GET', `/api/v1/traces/${traceId}`)).status, 403, 'analysts do not read traces');
  });

  // Last: it puts a policy with body rules in force.
  test('body rules: a keyword and a JSON-path condition block with a 403 naming the rule, recorded as blocked', async () => {
    const rules = [
      {
        id: 'no-drop-table',
        match: { connections: ['demo-llm'], keywords: ['drop table', 'truncate'] },
        action: 'block',
        reason: 'prompts must not ask for destructive SQL',
      },
      { id: 'no-expensive-model', match: { connections: ['demo-llm'], httpBody: [{ path: '$.model', in: ['gpt-4-expensive'] }] }, action: 'block' },
    ];
    const current = (await api(cp, alice, 'GET', '/api/v1/policies')).body.policy;
    const bad = await api(cp, alice, 'PUT', '/api/v1/policies', {
      ...current,
      rules: [{ id: 'bad', match: { httpBody: [{ path: '$.messages[?(@.role)]', matches: '(a+)+' }] }, action: 'block' }],
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.issues.map((i: any) => i.path), ['rules[0].match.httpBody[0].path', 'rules[0].match.httpBody[0].matches']);
    assert.match(bad.body.issues[0].message, /invalid JSON path: filters \(\[\?\.\.\.\]\) are not supported/);

    const before = (await agent.status()).configVersion;
    const put = await api(cp, alice, 'PUT', '/api/v1/policies', { ...current, rules: [...rules, ...(current.rules ?? [])] });
    assert.equal(put.status, 200, put.text);
    await eventually(async () => (await agent.status()).configVersion !== before, { what: 'the new policy on the agent' });

    const traceId = `body-rules-${Date.now()}`;
    const options = { headers: { 'x-portcullis-trace': traceId } };
    const received = llm.received.length;
    const refused = async (body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming) => {
      const error = await sdk().chat.completions.create(body, options).then(
        () => assert.fail('the request was not blocked'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
      return error;
    };
    const keyword = await refused({ model: 'mock-1', messages: [{ role: 'user', content: 'Now please DROP   TABLE customers;' }] });
    assert.equal(keyword.code, 'blocked_by_policy');
    assert.equal(keyword.type, 'permission_error');
    assert.equal(keyword.message, '403 blocked by no-drop-table: prompts must not ask for destructive SQL');
    const model = await refused({ model: 'gpt-4-expensive', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(model.message, '403 blocked by no-expensive-model: blocked by rule no-expensive-model');
    assert.equal(llm.received.length, received, 'blocked requests never reach the model');

    // Word-bounded: "backdrop tables" is not the keyword; a cheap model passes the JSON-path rule.
    const allowed = await sdk().chat.completions.create({ model: 'mock-1', messages: [{ role: 'user', content: 'the backdrop tables' }] }, options);
    assert.match(allowed.choices[0]!.message.content!, /backdrop tables/);

    const statements = await eventually(async () => {
      const r = await api(cp, alice, 'GET', `/api/v1/traces/${traceId}`);
      const found = r.status === 200 ? r.body.events.filter((e: any) => e.type === 'statement') : [];
      return found.length >= 3 ? found : undefined;
    }, { what: 'the three requests recorded', timeoutMs: 15_000 });
    assert.deepEqual(
      statements.map((e: any) => [e.text, e.action, e.data.statement?.decision?.ruleIds?.[0]]),
      [
        ['POST /v1/chat/completions', 'block', 'no-drop-table'],
        ['POST /v1/chat/completions', 'block', 'no-expensive-model'],
        ['POST /v1/chat/completions', 'mask', 'mask-pii'],
      ],
      JSON.stringify(statements.map((e: any) => e.data)),
    );

    // The policy preview judges a sample HTTP request with the same engine.
    const preview = await api(cp, alice, 'POST', '/api/v1/policies/preview', {
      connection: 'demo-llm',
      subject: 'carol',
      groups: ['analysts'],
      http: { method: 'post', path: '/v1/chat/completions', body: { model: 'gpt-4-expensive', messages: [{ role: 'user', content: 'hi' }] } },
    });
    assert.equal(preview.status, 200, preview.text);
    assert.deepEqual([preview.body.decision.action, preview.body.decision.ruleId], ['block', 'no-expensive-model']);
    assert.deepEqual(preview.body.explanation.slice(0, 2).map((c: any) => [c.ruleId, c.matched, c.why]), [
      ['no-drop-table', false, 'the body contains none of the keywords'],
      ['no-expensive-model', true, 'all conditions hold'],
    ]);
    const both = await api(cp, alice, 'POST', '/api/v1/policies/preview', { sql: 'select 1', http: { method: 'GET', path: '/v1/models' } });
    assert.equal(both.status, 400, both.text);
  });
});
