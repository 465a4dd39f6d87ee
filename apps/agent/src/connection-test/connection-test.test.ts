import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Connection } from '@portcullis/proto';
import { PrivateCluster } from '../engines/postgres/testing/private-cluster.js';
import { resolveCredential } from '../snapshot/credentials.js';
import { testConnection } from './connection-test.js';

const KEY = 'sk-upstream-5a9e1c0b7d';

function connection(
  kind: string,
  target: string,
  value: string | undefined,
  options: Record<string, unknown> = {},
): Connection {
  return {
    id: `conn-${kind}`,
    name: `test-${kind}`,
    kind,
    target,
    credential: value === undefined ? undefined : { source: { $case: 'value', value } },
    networkLabels: ['default'],
    options,
  };
}

const run = (c: Connection, timeoutMs = 5_000) =>
  testConnection(c, { resolveCredential: (x) => resolveCredential(x), timeoutMs });

function listen(server: HttpServer | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('connection test: PostgreSQL, through the engine opener', () => {
  let cluster: PrivateCluster;
  before(async () => {
    cluster = await PrivateCluster.start();
  });
  after(() => cluster.stop());

  const target = (user: string, query = '') => `postgresql://${user}@127.0.0.1:${cluster.port}/postgres${query}`;

  it('logs in with the credential and reports the server version and the user it got', async () => {
    const answer = await run(connection('postgres', target('scram_user'), cluster.passwords.scram));
    assert.equal(answer.ok, true, answer.errorMessage);
    assert.match(answer.detail, /^PostgreSQL 15\.\d+.*, logged in as scram_user to database postgres$/);
    assert.equal(answer.errorCode, '');
    assert.ok(answer.latencyMs > 0 && answer.latencyMs < 5_000);
  });

  it('says so when TLS was used', async () => {
    const answer = await run(connection('postgres', target('tls_user', '?sslmode=require'), cluster.passwords.tls));
    assert.equal(answer.ok, true, answer.errorMessage);
    assert.match(answer.detail, / over TLSv1\.[23]$/);
  });

  it("answers a wrong password with the upstream's SQLSTATE and message, without the password", async () => {
    const wrong = 'wrong-Pa55word-e3b1';
    const answer = await run(connection('postgres', target('scram_user'), wrong));
    assert.equal(answer.ok, false);
    assert.equal(answer.errorCode, '28P01');
    assert.match(answer.errorMessage, /password authentication failed for user "scram_user"/);
    assert.ok(!JSON.stringify(answer).includes(wrong));
  });

  it('reports an unreachable upstream with its errno code', async () => {
    const answer = await run(connection('postgres', `postgresql://app@127.0.0.1:${await closedPort()}/db`, 'x'));
    assert.equal(answer.ok, false);
    assert.equal(answer.errorCode, 'ECONNREFUSED');
  });

  it('gives up at its bound when the upstream accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket));
    const port = await listen(silent);
    try {
      const started = Date.now();
      const answer = await run(connection('postgres', `postgresql://app@127.0.0.1:${port}/db`, 'x'), 300);
      assert.equal(answer.errorCode, 'ETIMEDOUT');
      assert.ok(Date.now() - started < 2_000, 'answered at the bound');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('names a missing secret reference, not a value', async () => {
    const c = connection('postgres', target('scram_user'), undefined);
    c.credential = { source: { $case: 'secretRef', value: 'env:PORTCULLIS_TEST_UNSET_SECRET' } };
    const answer = await run(c);
    assert.equal(answer.ok, false);
    assert.equal(answer.errorCode, 'credential_unavailable');
    assert.match(answer.errorMessage, /PORTCULLIS_TEST_UNSET_SECRET is not set on the agent/);
  });
});

describe('connection test: HTTP kinds', () => {
  const seen: IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  let server: HttpServer;
  let base: string;
  before(async () => {
    server = createHttpServer((req, res) => {
      seen.push(req.headers);
      paths.push(req.url ?? '');
      if (req.url?.startsWith('/hang/')) return; // never answers
      if (req.url?.startsWith('/broken/')) return void res.writeHead(503).end();
      const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
      // Echoes the key it got: the answer must carry the status line only, never the body.
      res.writeHead(key === KEY ? 200 : 401, { 'content-type': 'text/plain' }).end(`got ${String(key)}`);
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => server.close());

  it('sends the credential in the upstream header and reports the status line', async () => {
    const answer = await run(connection('llm', `${base}/v1`, KEY));
    assert.deepEqual({ ok: answer.ok, detail: answer.detail }, { ok: true, detail: 'HTTP 200 OK' });
    assert.equal(seen.at(-1)?.authorization, `Bearer ${KEY}`);
    assert.equal(paths.at(-1), '/v1/models', 'an endpoint of the profile that checks the key');
    assert.ok(!JSON.stringify(answer).includes(KEY));

    const anthropic = await run(connection('llm', `${base}/v1`, KEY, { profile: 'anthropic' }));
    assert.equal(anthropic.ok, true);
    assert.equal(seen.at(-1)?.['x-api-key'], KEY);
    assert.equal(seen.at(-1)?.['anthropic-version'], '2023-06-01');
    assert.equal(seen.at(-1)?.authorization, undefined);
  });

  it('reports a refused credential and a failing upstream as errors with their status', async () => {
    const refused = await run(connection('http', `${base}/`, 'not-the-key'));
    assert.deepEqual(
      { ok: refused.ok, code: refused.errorCode, detail: refused.detail },
      { ok: false, code: '401', detail: 'HTTP 401 Unauthorized' },
    );
    assert.match(refused.errorMessage, /refused the credential/);
    const broken = await run(connection('vector-http', `${base}/broken/`, KEY));
    assert.deepEqual({ ok: broken.ok, code: broken.errorCode }, { ok: false, code: '503' });
    assert.equal(paths.at(-1), '/broken/collections');
  });

  it('reports a closed port and a silent upstream', async () => {
    const closed = await run(connection('http', `http://127.0.0.1:${await closedPort()}/`, KEY));
    assert.deepEqual({ ok: closed.ok, code: closed.errorCode }, { ok: false, code: 'ECONNREFUSED' });
    assert.ok(!JSON.stringify(closed).includes(KEY));
    const started = Date.now();
    const silent = await run(connection('http', `${base}/hang/`, KEY), 300);
    assert.deepEqual({ ok: silent.ok, code: silent.errorCode }, { ok: false, code: 'ETIMEDOUT' });
    assert.ok(Date.now() - started < 2_000, 'answered at the bound');
  });

  it('refuses options the data path would refuse', async () => {
    const answer = await run(connection('llm', `${base}/v1`, KEY, { profile: 'nope' }));
    assert.equal(answer.errorCode, 'invalid_options');
  });
});
