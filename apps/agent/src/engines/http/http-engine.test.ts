import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { ConfigSnapshot, Connection } from '@portcullis/proto';
import { TokenVerifier } from '../../identity/token-verifier.js';
import { MemorySnapshots } from '../../identity/testing/memory-snapshots.js';
import { TestIdp } from '../../identity/testing/test-idp.js';
import { CollectingRecorder } from '../postgres/testing/harness.js';
import { ANSWER_PII, MOCK_PROVIDER_KEY, startMockLlm, type MockLlm } from '../../../../../e2e/fixtures/mock-llm.js';
import { startMockQdrant, type MockQdrant } from '../../../../../e2e/fixtures/mock-qdrant.js';
import { HttpEngine } from './http-engine.js';

describe('HTTP engine', () => {
  let idp: TestIdp;
  let llm: MockLlm;
  let qdrant: MockQdrant;
  let snapshots: MemorySnapshots;
  /** An upstream that never answers; it resolves `closed` when the agent gives up its request. */
  let silent: { server: Server; url: string; received: Promise<void>; closed: Promise<void> };
  let files: { server: Server; url: string; uploads: Buffer[] };
  let engine: HttpEngine;
  let base = '';
  const recorder = new CollectingRecorder();

  const connection = (id: string, name: string, kind: string, target: string, options: object, key?: string): Connection => ({
    id,
    name,
    kind,
    target,
    credential: key ? { source: { $case: 'value', value: key } } : undefined,
    networkLabels: [],
    options: options as Connection['options'],
  });
  const snapshot = (patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot => ({
    version: 1,
    connections: [
      connection('c-llm', 'demo-llm', 'llm', `${llm.url}/v1`, { maxRequestBytes: 4096, maxTokens: 1000 }, MOCK_PROVIDER_KEY),
      connection('c-claude', 'claude', 'llm', `${llm.url}/v1`, { profile: 'anthropic', upstreamAuth: { header: 'authorization', prefix: 'Bearer ' } }, MOCK_PROVIDER_KEY),
      connection('c-vec', 'vectors', 'vector-http', qdrant.url, {}, 'qdrant-key'),
      connection('c-down', 'down', 'llm', 'http://127.0.0.1:1/v1', {}, MOCK_PROVIDER_KEY),
      connection('c-tight', 'tight', 'llm', `${llm.url}/v1`, { allowedModels: ['mock-1'], budgets: { windowSeconds: 60, requests: 2 } }, MOCK_PROVIDER_KEY),
      connection('c-silent', 'silent', 'http', silent.url, {}),
      connection('c-files', 'files', 'http', files.url, {}),
      connection('c-uploads', 'uploads', 'http', files.url, { maskRequests: true }),
      connection('c-metered', 'metered', 'llm', `${llm.url}/v1`, { budgets: { windowSeconds: 60, tokens: 20 } }, MOCK_PROVIDER_KEY),
    ],
    grants: ['c-llm', 'c-claude', 'c-vec', 'c-down', 'c-tight', 'c-silent', 'c-files', 'c-uploads', 'c-metered'].map((c, i) => ({ id: `g${i}`, connectionId: c, group: 'analysts', subject: '', expiresAt: undefined })),
    identity: idp.settings(),
    disabledIdentities: [],
    generatedAt: new Date(),
    ...patch,
  });
  const token = (user = 'carol', options: Parameters<TestIdp['token']>[1] = {}) => idp.token(user, { groups: ['analysts'], ...options });
  async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
    const t = init.token === undefined ? await token() : init.token;
    const headers = new Headers(init.headers);
    if (t) headers.set('authorization', `Bearer ${t}`);
    if (init.body) headers.set('content-type', 'application/json');
    return fetch(`${base}${path}`, { ...init, headers });
  }

  before(async () => {
    idp = await TestIdp.start();
    llm = await startMockLlm();
    qdrant = await startMockQdrant({ seed: { documents: [{ id: 1, vector: [1, 0], payload: { text: 'hello' } }] } });
    silent = await startSilentUpstream();
    files = await startFileUpstream();
    snapshots = new MemorySnapshots(snapshot());
    engine = new HttpEngine({ host: '127.0.0.1', port: 0, snapshots, verifier: new TokenVerifier(snapshots), recorder, resolveCredential: (c) => (c.credential?.source?.$case === 'value' ? c.credential.source.value : undefined) });
    base = `http://127.0.0.1:${(await engine.listen()).port}`;
  });
  after(async () => {
    await engine.close();
    await Promise.all([idp.close(), llm.stop(), qdrant.stop()]);
    silent.server.closeAllConnections();
    await new Promise((resolve) => silent.server.close(resolve));
    files.server.closeAllConnections();
    await new Promise((resolve) => files.server.close(resolve));
  });

  it('gives up the upstream request when the client leaves, and records it as closed by the client', async () => {
    const leaving = new AbortController();
    const call_ = call('/c/silent/slow', { signal: leaving.signal });
    await silent.received;
    leaving.abort();
    await assert.rejects(call_);
    await silent.closed;
    const statement = await recorder.waitFor(() => recorder.statements().find((s) => s.text === 'GET /slow'));
    assert.equal(statement.commandTag, '499');
    assert.equal(statement.errorMessage, 'client closed the request');
  });

  it('masks the prompt before the model and the answer before the client; injects the provider key', async () => {
    const res = await call('/c/demo-llm/v1/chat/completions', {
      method: 'POST',
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      body: JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'charge card 5500 0000 0000 0004 please' }] }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const value of Object.values(ANSWER_PII)) assert.ok(!text.includes(value), `${value} reached the client`);
    assert.ok(!text.includes('5500 0000 0000 0004'));
    assert.ok(!text.includes(MOCK_PROVIDER_KEY));
    const seen = llm.received.at(-1)!;
    assert.equal(seen.headers.authorization, `Bearer ${MOCK_PROVIDER_KEY}`);
    assert.match(seen.body.messages[0].content, /charge card \[CREDIT_CARD\] please/);
    const statement = await recorder.waitFor(() => recorder.statements().find((s) => s.text === 'POST /v1/chat/completions'));
    assert.equal(statement.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(statement.decision?.action, 'mask');
    const result = JSON.parse(statement.resultJson);
    assert.equal(result.status, 200);
    assert.ok(result.usage.totalTokens > 0);
  });

  it('reads a JSON body as JSON whatever its content type says, so the rules see what goes up', async () => {
    const res = await fetch(`${base}/c/demo-llm/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ model: 'mock-1', max_tokens: 5000, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 403);
  });

  it('drops log probabilities from a masked answer: their tokens would spell the values piece by piece', async () => {
    const res = await call('/c/demo-llm/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'mock-1', logprobs: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string }; logprobs: unknown }> };
    assert.equal(body.choices[0]!.logprobs, null);
    for (const value of Object.values(ANSWER_PII)) assert.ok(!JSON.stringify(body).includes(value), `${value} reached the client`);
  });

  it('masks a streamed answer split adversarially and keeps it a valid SSE stream', async () => {
    const res = await call('/c/demo-llm/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const body = await res.text();
    for (const value of Object.values(ANSWER_PII)) assert.ok(!body.includes(value), `${value} reached the client`);
    const events = body.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    const text = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)).choices.map((c: any) => c.delta.content ?? '').join('')).join('');
    assert.match(text, /card is \[CREDIT_CARD\], reach them at \[EMAIL\]/);
  });

  it('masks an Anthropic messages stream', async () => {
    const res = await call('/c/claude/v1/messages', {
      method: 'POST',
      body: JSON.stringify({ model: 'claude', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = await res.text();
    for (const value of Object.values(ANSWER_PII)) assert.ok(!body.includes(value), `${value} reached the client`);
    assert.match(body, /event: message_stop/);
  });

  it('refuses in the API shape: 401 with WWW-Authenticate, 404, 403, 413, 502', async () => {
    const bad = await call('/c/demo-llm/v1/models', { token: 'not-a-jwt' });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate')!, /^Bearer error="invalid_token", error_description="malformed token"/);
    assert.equal((await bad.json()).error.code, 'invalid_token');
    const expired = await call('/c/demo-llm/v1/models', { token: await token('carol', { issuedAt: Math.floor(Date.now() / 1000) - 600, expiresIn: 60 }) });
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate')!, /token expired/);

    assert.equal((await call('/c/nope/v1/models')).status, 404);
    const outsider = await call('/c/demo-llm/v1/models', { token: await idp.token('mallory', { groups: ['guests'] }) });
    assert.equal(outsider.status, 403);

    const big = await call('/c/demo-llm/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }) });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, 'request_too_large');

    const down = await call('/c/down/v1/models');
    assert.equal(down.status, 502);
    assert.match((await down.json()).error.message, /could not reach the upstream of connection "down" \(ECONNREFUSED\)/);
  });

  it('blocks collection deletes and unfiltered point deletes on vector-http, before the upstream', async () => {
    const before = qdrant.received.length;
    const drop = await call('/c/vectors/collections/documents', { method: 'DELETE' });
    assert.equal(drop.status, 403);
    assert.match((await drop.json()).status.error, /guardrail:vector-delete-collection/);
    const mass = await call('/c/vectors/collections/documents/points/delete', { method: 'POST', body: JSON.stringify({ filter: {} }) });
    assert.equal(mass.status, 403);
    assert.equal(qdrant.received.length, before, 'the upstream saw a blocked request');
    const one = await call('/c/vectors/collections/documents/points/delete', { method: 'POST', body: JSON.stringify({ points: [1] }) });
    assert.equal(one.status, 200);
    assert.equal(qdrant.received.at(-1)!.path, '/collections/documents/points/delete');
    const blocked = recorder.statements().find((s) => s.text === 'DELETE /collections/documents')!;
    assert.equal(blocked.decision?.action, 'block');
    assert.deepEqual(blocked.decision?.ruleIds, ['guardrail:vector-delete-collection']);
  });

  it('judges the path as the upstream routes it: percent-escapes and doubled slashes do not slip past the guardrails', async () => {
    const before = qdrant.received.length;
    for (const spelling of ['/c/vectors/%63ollections/documents', '/c/vectors//collections/documents', '/c/vectors/collections/%64ocuments']) {
      const drop = await call(spelling, { method: 'DELETE' });
      assert.equal(drop.status, 403, spelling);
      assert.match((await drop.json()).status.error, /guardrail:vector-delete-collection/);
    }
    const mass = await call('/c/vectors/collections/documents/points/%64elete', { method: 'POST', body: JSON.stringify({ filter: {} }) });
    assert.equal(mass.status, 403);
    assert.equal(qdrant.received.length, before, 'the upstream saw a blocked request');
  });

  it('refuses TRACE, which would echo the injected credential back', async () => {
    const before = qdrant.received.length;
    const authorization = `Bearer ${await token()}`;
    // fetch will not send TRACE: node:http does.
    const status = await new Promise<number>((resolve, reject) => {
      request(`${base}/c/vectors/collections`, { method: 'TRACE', headers: { authorization } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 405);
    assert.equal(qdrant.received.length, before);
  });

  it('masks answers of any text type, passes pictures and sound, and refuses other binary answers it cannot mask', async () => {
    const jsonl = await call('/c/files/export.jsonl');
    assert.equal(jsonl.status, 200);
    assert.equal(await jsonl.text(), '{"email":"[EMAIL]"}\n{"email":"[EMAIL]"}\n');
    const audio = await call('/c/files/voice.mp3');
    assert.deepEqual(Buffer.from(await audio.arrayBuffer()), SOUND);
    const archive = await call('/c/files/archive.bin');
    assert.equal(archive.status, 502);
    assert.match(await archive.text(), /binary answer \(application\/octet-stream\) that the agent cannot mask/);
  });

  it('reads every request body it forwards: text is masked, binary and compressed bodies are refused', async () => {
    const send = async (path: string, body: Uint8Array | string, headers: Record<string, string>) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${await token()}`, ...headers }, body });
    const before = files.uploads.length;
    const text = await send('/c/uploads/upload', 'id,email\n7,jane@example.com\n', { 'content-type': 'text/csv' });
    assert.equal(text.status, 204);
    assert.equal(files.uploads.at(-1)!.toString(), 'id,email\n7,[EMAIL]\n');
    const recorded = await recorder.waitFor(() => recorder.statements().find((s) => s.text === 'POST /upload' && s.commandTag === '204'));
    assert.equal(JSON.parse(recorded.resultJson).requestBody, 'id,email\n7,[EMAIL]\n', 'the recording holds what went up');

    const binary = await send('/c/uploads/upload', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe]), { 'content-type': 'application/zip' });
    assert.equal(binary.status, 415);
    assert.match(await binary.text(), /binary and cannot be masked/);
    const gzipped = await send('/c/uploads/upload', gzipSync('{"email":"jane@example.com"}'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(gzipped.status, 415);
    assert.match(await gzipped.text(), /gzip-encoded; the agent reads every body it forwards/);
    assert.equal(files.uploads.length, before + 1, 'neither refused body reached the service');

    // A multipart form names its model where the allow-list does not look.
    const form = new FormData();
    form.set('model', 'gpt-4o');
    form.set('file', new Blob(['hello']), 'a.txt');
    const multipart = await fetch(`${base}/c/tight/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${await token()}` }, body: form });
    assert.equal(multipart.status, 403);
    assert.match((await multipart.json()).error.message, /llm:model-allow-list: the request body is not a JSON object/);
  });

  it('enforces the max-tokens cap in the OpenAI error shape', async () => {
    const res = await call('/c/demo-llm/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', max_tokens: 5000, messages: [] }) });
    assert.equal(res.status, 403);
    const body = await res.json();
    assert.equal(body.error.type, 'permission_error');
    assert.match(body.error.message, /llm:max-tokens/);
  });

  it('applies the model allow-list and the per-identity request budget', async () => {
    const ask = (model: string, t?: string) =>
      call('/c/tight/v1/chat/completions', { method: 'POST', token: t, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
    const other = await call('/c/tight/v1/chat/completions', {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }] }),
    });
    assert.equal(other.status, 403);
    assert.match((await other.json()).error.message, /llm:model-allow-list/);
    const blocked = await recorder.waitFor(() => recorder.statements().find((s) => s.resultJson.includes('my card is')));
    assert.doesNotMatch(blocked.resultJson, /4111 1111/, 'a blocked request is recorded masked');
    assert.match(blocked.resultJson, /my card is \[CREDIT_CARD\]/);
    const erin = await token('erin');
    assert.equal((await ask('mock-1', erin)).status, 200);
    assert.equal((await ask('mock-1', erin)).status, 200);
    const third = await ask('mock-1', erin);
    assert.equal(third.status, 403);
    assert.match((await third.json()).error.message, /budget:requests/);
    assert.equal((await ask('mock-1', await token('frank'))).status, 200, 'budgets are per identity');
  });

  it('counts the tokens of a stream whose client did not ask for usage against the token budget', async () => {
    const ask = async (t: string) =>
      call('/c/metered/v1/chat/completions', { method: 'POST', token: t, body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hello there' }] }) });
    const grace = await token('grace');
    const first = await ask(grace);
    assert.equal(first.status, 200);
    const events = (await first.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
    const last = JSON.parse(events.at(-1)!.slice('data: '.length));
    assert.ok(last.usage.total_tokens > 20, 'the agent asked for usage; the client sees it as the last chunk');
    assert.deepEqual(last.choices, []);
    const second = await ask(grace);
    assert.equal(second.status, 403);
    assert.match((await second.json()).error.message, /budget:tokens: token budget of 20 per 60 s used up/);

    // A stream that breaks before its usage chunk is charged by size instead.
    const heidi = await token('heidi');
    const broken = await call('/c/metered/v1/chat/completions', {
      method: 'POST',
      token: heidi,
      headers: { 'x-mock-malformed': '1' },
      body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'a prompt long enough to weigh more than twenty tokens by itself, at four bytes a token' }] }),
    });
    assert.match(await broken.text(), /malformed_sse/);
    assert.equal((await ask(heidi)).status, 403);
  });

  it('ends a malformed stream with an error event and keeps serving', async () => {
    const res = await call('/c/demo-llm/v1/chat/completions', {
      method: 'POST',
      headers: { 'x-mock-malformed': '1' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = await res.text();
    assert.match(body, /"code":"malformed_sse"/);
    assert.ok(!body.includes('never seen'));
    assert.equal((await call('/c/demo-llm/v1/models')).status, 200);
  });

  it('one session per client connection; a disabled identity loses its sockets', async () => {
    const t = await token('dave');
    const agent = await import('undici');
    const pool = new agent.Pool(base, { connections: 1 });
    const get = () => pool.request({ path: '/c/demo-llm/v1/models', method: 'GET', headers: { authorization: `Bearer ${t}` } }).then(async (r) => (await r.body.text(), r.statusCode));
    assert.equal(await get(), 200);
    assert.equal(await get(), 200);
    const starts = recorder.starts().filter((s) => s.start.username === 'dave');
    assert.equal(starts.length, 1);
    assert.equal(engine.endSessionsOf(starts[0]!.start.subject, 'disabled'), 1);
    await recorder.waitFor(() => recorder.ends().find((e) => e.sessionId === starts[0]!.sessionId));
    await pool.close();
  });

  it('ends a keep-alive session when the token used on it expires', async () => {
    const t = await token('gwen', { expiresIn: 2 });
    const { Pool } = await import('undici');
    const pool = new Pool(base, { connections: 1 });
    const get = () => pool.request({ path: '/c/demo-llm/v1/models', method: 'GET', headers: { authorization: `Bearer ${t}` } }).then(async (r) => (await r.body.text(), r.statusCode));
    assert.equal(await get(), 200);
    assert.equal(await get(), 200);
    const starts = recorder.starts().filter((s) => s.start.username === 'gwen');
    assert.equal(starts.length, 1);
    const end = await recorder.waitFor(() => recorder.ends().find((e) => e.sessionId === starts[0]!.sessionId));
    assert.equal(end.end.outcome, 'killed');
    assert.match(end.end.error, /token expired/);
    await pool.close();
  });

  it('a token verified before is refused as soon as its identity is disabled or its grant removed', async () => {
    const t = await token('erin');
    const { Client } = await import('undici');
    // A new connection per call: a snapshot that refuses erin also closes her open sockets.
    const models = async () => {
      const client = new Client(base);
      try {
        const res = await client.request({ path: '/c/demo-llm/v1/models', method: 'GET', headers: { authorization: `Bearer ${t}` } });
        return { status: res.statusCode, text: await res.body.text() };
      } finally {
        await client.close();
      }
    };
    assert.equal((await models()).status, 200);
    try {
      snapshots.apply(snapshot({ disabledIdentities: [{ subject: 'sub-erin', username: 'erin', reason: 'left' }] }));
      const disabled = await models();
      assert.equal(disabled.status, 403);
      assert.match(disabled.text, /identity erin is disabled/);
      snapshots.apply(snapshot({ grants: [] }));
      const ungranted = await models();
      assert.equal(ungranted.status, 403);
      assert.match(ungranted.text, /no grant on demo-llm/);
    } finally {
      snapshots.apply(snapshot());
    }
    assert.equal((await models()).status, 200);
  });
});

const SOUND = Buffer.from([0xff, 0xfb, 0x90, 0x44, 0x00, 0xfe]);

/** Files of several types, as an export service or a speech API sends them. */
/** Serves files, and keeps the bodies uploaded to `/upload` (what the service received). */
async function startFileUpstream(): Promise<{ server: Server; url: string; uploads: Buffer[] }> {
  const uploads: Buffer[] = [];
  const server = createServer(async (req, res) => {
    if (req.url === '/upload') {
      const parts: Buffer[] = [];
      for await (const part of req) parts.push(part as Buffer);
      uploads.push(Buffer.concat(parts));
      res.writeHead(204).end();
    } else if (req.url === '/export.jsonl') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('{"email":"jane@example.com"}\n{"email":"ada@example.com"}\n');
    else if (req.url === '/voice.mp3') res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(SOUND);
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, uploads };
}

async function startSilentUpstream(): Promise<{ server: Server; url: string; received: Promise<void>; closed: Promise<void> }> {
  let received!: () => void;
  let closed!: () => void;
  const promises = { received: new Promise<void>((r) => (received = r)), closed: new Promise<void>((r) => (closed = r)) };
  const server = createServer((req) => {
    received();
    req.socket.once('close', closed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, ...promises };
}
