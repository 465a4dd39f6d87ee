import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { api, freePort, startControlPlane, startIssuer, testDatabase, type RunningControlPlane, type TestIssuer } from './support.js';

// A Redis of our own, so this test can take it away without touching anyone else's.
let redis: ReturnType<typeof spawn>;
let issuer: TestIssuer;
let db: Awaited<ReturnType<typeof testDatabase>>;
let cp: RunningControlPlane;

before(async () => {
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  issuer = await startIssuer();
  db = await testDatabase();
  cp = await startControlPlane({ DATABASE_URL: db.url, KEYCLOAK_URL: issuer.keycloakUrl, REDIS_URL: `redis://127.0.0.1:${port}` });
});

after(async () => {
  await cp?.stop();
  if (redis?.exitCode === null) redis.kill();
  await db?.drop();
  await issuer?.close();
});

test('readyz is 503 naming Redis when Redis goes away, while healthz stays up', async () => {
  assert.equal((await api(cp.url, 'GET', '/readyz')).status, 200);
  redis.kill('SIGKILL');
  await once(redis, 'exit');
  const res = await api(cp.url, 'GET', '/readyz');
  assert.equal(res.status, 503);
  assert.equal(res.body.error, 'Service Unavailable');
  assert.match(res.body.message, /Redis/);
  assert.doesNotMatch(res.body.message, /PostgreSQL/);
  assert.equal((await api(cp.url, 'GET', '/healthz')).status, 200);
});
