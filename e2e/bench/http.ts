// `pnpm bench:http`: the mock LLM three ways in one run — direct, through nginx as a reverse
// proxy, and through the agent with masking on (prompt and answer) — with autocannon for
// non-streamed chat completions (requests/s, p50/p99), then streamed answers of 1 KB and 64 KB
// (time to first token and total time, median of sequential calls). Reports; never fails on
// machine noise. BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_STREAMS tune it.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import http from 'node:http';
import { MOCK_PROVIDER_KEY } from '../fixtures/mock-llm.js';
import { eventually, freePort, repoRoot, sleep, TestProcess } from '../lib/process.js';
import { adminDatabaseUrl, api, clientToken, databaseUrl, registerAgent, startAgent, startControlPlane, startIdp, tempDir, userToken } from '../lib/stack.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 30);
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';
const BODY = JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'What is the refund policy?' }] });

interface Path {
  name: string;
  base: string;
  auth: string;
}

async function load(path: Path) {
  const result = await autocannon({
    url: `${path.base}/chat/completions`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: path.auth, 'content-type': 'application/json' },
    body: BODY,
  });
  const errors = result.errors + result.non2xx;
  console.log(`  ${path.name.padEnd(7)} ${result.requests.average.toFixed(0).padStart(7)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms${errors ? `  (${errors} errors)` : ''}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Sequential streamed calls: median time to the first non-empty text delta, and to the end. */
async function streams(path: Path, bytes: number) {
  const agent = new http.Agent({ keepAlive: true });
  const ttft: number[] = [];
  const total: number[] = [];
  const body = JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  for (let i = 0; i < STREAMS; i++) {
    const started = performance.now();
    let first = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${path.base}/chat/completions`, {
        method: 'POST',
        agent,
        headers: { authorization: path.auth, 'content-type': 'application/json', 'x-mock-answer-bytes': String(bytes) },
      }, (res) => {
        res.on('data', (chunk: Buffer) => {
          if (!first && /"content":"[^"]/.test(chunk.toString())) first = performance.now() - started;
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    total.push(performance.now() - started);
    ttft.push(first);
  }
  agent.destroy();
  return { ttft: median(ttft), total: median(total) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startNginx(upstreamPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = tempDir('portcullis-nginx-');
  chmodSync(dir.path, 0o777);
  const port = await freePort();
  const conf = join(dir.path, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir.path}/body;
  proxy_temp_path ${dir.path}/proxy;
  fastcgi_temp_path ${dir.path}/fastcgi;
  uwsgi_temp_path ${dir.path}/uwsgi;
  scgi_temp_path ${dir.path}/scgi;
  upstream mock { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir.path, '-c', conf], { stdio: ['ignore', 'inherit', 'inherit'] });
  await eventually(async () => (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${MOCK_PROVIDER_KEY}` } })).ok, { what: 'nginx' });
  return {
    port,
    async stop() {
      child.kill('SIGQUIT');
      await new Promise((r) => child.once('exit', r));
      dir.remove();
    },
  };
}

async function main(): Promise<void> {
  console.log(`non-streamed chat completions, ${CONNECTIONS} connections, ${SECONDS} s per path; ${STREAMS} sequential streams per size`);
  const mockPort = await freePort();
  const mock = new TestProcess('mock-llm', process.execPath, ['--import', 'tsx', join(repoRoot, 'e2e/fixtures/serve-mock-llm.ts')], { PORT: String(mockPort) }, /listening on/);
  await mock.start();
  const nginx = await startNginx(mockPort);

  const idp = await startIdp();
  const store = `portcullis_bench_http_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${store}`);
  await admin.end();
  const cp = await startControlPlane({ idp, databaseUrl: databaseUrl(store) });
  const alice = await userToken(idp, 'alice');
  const reg = await registerAgent(cp, alice, 'bench-http-agent');
  const created = await api(cp, alice, 'POST', '/api/v1/connections', {
    name: 'bench-llm',
    kind: 'llm',
    target: `http://127.0.0.1:${mockPort}/v1`,
    credential: { secretRef: 'env:MOCK_PROVIDER_KEY' },
    options: { profile: 'openai-compatible', maskRequests: true, maskResponses: true },
  });
  if (created.status !== 201) throw new Error(created.text);
  await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'bench-llm', group: 'ci' });
  const agent = await startAgent({ controlPlane: cp, token: reg.token, env: { MOCK_PROVIDER_KEY } });
  await eventually(async () => (await agent.status()).connections.includes('bench-llm'), { what: 'bench-llm on the agent' });
  const token = await clientToken(idp);

  const paths: Path[] = [
    { name: 'direct', base: `http://127.0.0.1:${mockPort}/v1`, auth: `Bearer ${MOCK_PROVIDER_KEY}` },
    { name: 'nginx', base: `http://127.0.0.1:${nginx.port}/v1`, auth: `Bearer ${MOCK_PROVIDER_KEY}` },
    { name: 'agent', base: `http://127.0.0.1:${agent.httpPort}/c/bench-llm/v1`, auth: `Bearer ${token}` },
  ];
  try {
    const rows: Record<string, { rps: number; p50: number; p99: number; s1: { ttft: number; total: number }; s64: { ttft: number; total: number } }> = {};
    for (const path of paths) {
      await streams(path, 1024); // warm-up (JIT, pools)
      const l = await load(path);
      await sleep(500);
      rows[path.name] = { ...l, s1: await streams(path, 1024), s64: await streams(path, 64 * 1024) };
    }
    const d = rows.direct!;
    const lines = [
      '| path | req/s | p50 ms | p99 ms | SSE 1 KB TTFT / total ms | SSE 64 KB TTFT / total ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...paths.map(({ name }) => {
        const r = rows[name]!;
        return `| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.s1.ttft.toFixed(2)} / ${r.s1.total.toFixed(2)} | ${r.s64.ttft.toFixed(2)} / ${r.s64.total.toFixed(2)} |`;
      }),
      '',
      `Agent vs direct: p50 added ${(rows.agent!.p50 - d.p50).toFixed(2)} ms (target < 1 ms); ` +
        `TTFT added ${(rows.agent!.s1.ttft - d.s1.ttft).toFixed(2)} ms at 1 KB, ${(rows.agent!.s64.ttft - d.s64.ttft).toFixed(2)} ms at 64 KB (target < 5 ms); ` +
        `total added ${(rows.agent!.s1.total - d.s1.total).toFixed(2)} ms at 1 KB, ${(rows.agent!.s64.total - d.s64.total).toFixed(2)} ms at 64 KB.`,
      `Throughput agent / nginx: ${(rows.agent!.rps / rows.nginx!.rps).toFixed(2)} (target ≥ 0.5).`,
    ];
    const table = lines.join('\n');
    console.log(`\n${table}\n`);
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'http.md'), `${table}\n`);
  } finally {
    await agent.stop();
    await cp.stop();
    await idp.stop();
    await nginx.stop();
    await mock.stop();
    const a = new pg.Client({ connectionString: adminDatabaseUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${store} WITH (FORCE)`);
    await a.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
