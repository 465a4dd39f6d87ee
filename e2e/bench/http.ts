// `pnpm bench:http`: the mock LLM four ways in one run — direct, through nginx as a reverse
// proxy, through a bare Node.js relay (http-relay.mjs, the floor of a Node.js proxy), and through
// the agent with masking (prompt and answer) and recording on — with autocannon for non-streamed
// chat completions (requests/s, p50/p99), sequential single calls (median time of one call), then
// streamed answers of 1 KB and 64 KB (time to first token and total time, median of sequential
// calls). The agent is loaded twice: with the control plane and its database competing for the
// cores, then with the control plane paused, as if on its own machine as in production; every
// recording must reach the control plane afterwards. Reports; never fails on machine
// noise. BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_STREAMS tune it; BENCH_PROFILE=<dir> writes CPU
// profiles of the agent and the control plane into that folder. Each load phase reports the CPU
// seconds every process used, so who competes is visible.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import http from 'node:http';
import { MOCK_PROVIDER_KEY } from '../fixtures/mock-llm.js';
import { eventually, freePort, repoRoot, sleep, TestProcess } from '../lib/process.js';
import {
  adminDatabaseUrl,
  api,
  clientToken,
  databaseUrl,
  registerAgent,
  startAgent,
  startControlPlane,
  startIdp,
  tempDir,
  userToken,
} from '../lib/stack.js';
import { accounted } from './cpu.js';
import { profiled } from './profiling.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 30);
const CALLS = 200;
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
  console.log(
    `  ${path.name.padEnd(7)} ${result.requests.average.toFixed(0).padStart(7)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms${errors ? `  (${errors} errors)` : ''}`,
  );
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, completed: result['2xx'] };
}

/**
 * Sequential non-streamed calls on one keep-alive connection, nothing else in flight: the median
 * time of one call, in the precision autocannon's whole-millisecond percentiles lack.
 */
async function calls(path: Path): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        `${path.base}/chat/completions`,
        { method: 'POST', agent, headers: { authorization: path.auth, 'content-type': 'application/json' } },
        (res) => {
          res.resume().on('end', resolve).on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
    times.push(performance.now() - started);
  }
  agent.destroy();
  return median(times);
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
      const req = http.request(
        `${path.base}/chat/completions`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: path.auth,
            'content-type': 'application/json',
            'x-mock-answer-bytes': String(bytes),
          },
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            if (!first && /"content":"[^"]/.test(chunk.toString())) first = performance.now() - started;
          });
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
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

async function startNginx(
  upstreamPort: number,
): Promise<{ port: number; pid: number | undefined; stop(): Promise<void> }> {
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
  try {
    await eventually(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/v1/models`, {
            headers: { authorization: `Bearer ${MOCK_PROVIDER_KEY}` },
          })
        ).ok,
      { what: 'nginx' },
    );
  } catch (error) {
    child.kill('SIGQUIT');
    throw error;
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill('SIGQUIT');
      await new Promise((r) => child.once('exit', r));
      dir.remove();
    },
  };
}

async function main(): Promise<void> {
  console.log(
    `non-streamed chat completions, ${CONNECTIONS} connections, ${SECONDS} s per path; ${STREAMS} sequential streams per size`,
  );
  // Everything started is stopped, newest first, even when a later step fails.
  const stops: Array<() => Promise<unknown>> = [];
  try {
    await run(stops);
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  }
}

async function run(stops: Array<() => Promise<unknown>>): Promise<void> {
  const mockPort = await freePort();
  const mock = new TestProcess(
    'mock-llm',
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'e2e/fixtures/serve-mock-llm.ts')],
    { PORT: String(mockPort) },
    /listening on/,
  );
  stops.push(() => mock.stop());
  await mock.start();
  const nginx = await startNginx(mockPort);
  stops.push(() => nginx.stop());
  const relayPort = await freePort();
  const relay = new TestProcess(
    'http-relay',
    process.execPath,
    [join(import.meta.dirname, 'http-relay.mjs'), String(relayPort), String(mockPort)],
    {},
    /listening/,
  );
  stops.push(() => relay.stop());
  await relay.start();

  const idp = await startIdp();
  stops.push(() => idp.stop());
  const store = `portcullis_bench_http_${process.pid}`;
  await adminQuery(`CREATE DATABASE ${store}`);
  stops.push(() => adminQuery(`DROP DATABASE IF EXISTS ${store} WITH (FORCE)`));
  const cp = await startControlPlane({ idp, databaseUrl: databaseUrl(store), env: profiled });
  stops.push(() => cp.stop());
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
  const agent = await startAgent({ controlPlane: cp, token: reg.token, env: { MOCK_PROVIDER_KEY, ...profiled } });
  stops.push(() => agent.stop());
  await eventually(async () => (await agent.status()).connections.includes('bench-llm'), {
    what: 'bench-llm on the agent',
  });
  const token = await clientToken(idp);

  const paths: Path[] = [
    { name: 'direct', base: `http://127.0.0.1:${mockPort}/v1`, auth: `Bearer ${MOCK_PROVIDER_KEY}` },
    { name: 'nginx', base: `http://127.0.0.1:${nginx.port}/v1`, auth: `Bearer ${MOCK_PROVIDER_KEY}` },
    { name: 'node-relay', base: `http://127.0.0.1:${relayPort}/v1`, auth: `Bearer ${MOCK_PROVIDER_KEY}` },
    { name: 'agent', base: `http://127.0.0.1:${agent.httpPort}/c/bench-llm/v1`, auth: `Bearer ${token}` },
  ];
  const processes = {
    mock: () => mock.pid,
    nginx: () => nginx.pid,
    'node-relay': () => relay.pid,
    'control plane': () => cp.process.pid,
    agent: () => agent.process.pid,
    idp: () => idp.process.pid,
  };
  const agentPath = paths[3]!;
  const recordingsBefore = await storedStatements(store);
  let sentToAgent = 0;
  const measure = async (path: Path) => {
    await streams(path, 1024); // warm-up (JIT, pools)
    const l = await accounted(processes, () => load(path));
    await sleep(500);
    const row = { ...l, single: await calls(path), s1: await streams(path, 1024), s64: await streams(path, 64 * 1024) };
    if (path === agentPath) sentToAgent += l.completed + CALLS + 3 * STREAMS;
    return row;
  };
  const rows: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const path of paths.slice(0, 3)) rows[path.name] = await measure(path);

  // In production the control plane and its database run on other machines than the agent. Here
  // they share the two cores, and ingesting the recordings costs them CPU the agent would use:
  // measured once as is, then (as bench:pg does) with the control plane paused (SIGSTOP) while the
  // agent is measured. The agent spools every recording meanwhile and ships the backlog once the
  // control plane is back; that every one is stored, and how long it took, is checked below.
  console.log('  agent, with the control plane ingesting on the same cores:');
  const competing = await accounted(processes, () => load(agentPath));
  sentToAgent += competing.completed;
  console.log('  agent, with the control plane paused:');
  process.kill(cp.process.pid!, 'SIGSTOP');
  try {
    rows.agent = await measure(agentPath);
  } finally {
    process.kill(cp.process.pid!, 'SIGCONT');
  }

  const d = rows.direct!;
  const a = rows.agent!;
  const lines = [
    '| path | req/s | p50 ms | p99 ms | one call ms | SSE 1 KB TTFT / total ms | SSE 64 KB TTFT / total ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...paths.map(({ name }) => {
      const r = rows[name]!;
      return `| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.single.toFixed(2)} | ${r.s1.ttft.toFixed(2)} / ${r.s1.total.toFixed(2)} | ${r.s64.ttft.toFixed(2)} / ${r.s64.total.toFixed(2)} |`;
    }),
    `| agent, control plane competing | ${competing.rps.toFixed(0)} | ${competing.p50} | ${competing.p99} | | | |`,
    '',
    `Agent vs direct: one call added ${(a.single - d.single).toFixed(2)} ms, p50 under load added ${(a.p50 - d.p50).toFixed(2)} ms (target < 1 ms); ` +
      `TTFT added ${(a.s1.ttft - d.s1.ttft).toFixed(2)} ms at 1 KB, ${(a.s64.ttft - d.s64.ttft).toFixed(2)} ms at 64 KB (target < 5 ms); ` +
      `total added ${(a.s1.total - d.s1.total).toFixed(2)} ms at 1 KB, ${(a.s64.total - d.s64.total).toFixed(2)} ms at 64 KB.`,
    `Throughput agent / nginx: ${(a.rps / rows.nginx!.rps).toFixed(2)} (target ≥ 0.5); with the control plane competing ${(competing.rps / rows.nginx!.rps).toFixed(2)}; ` +
      `node-relay / nginx ${(rows['node-relay']!.rps / rows.nginx!.rps).toFixed(2)}. ` +
      `CPU per request: agent ${perRequest(a.cpu.agent!, a.completed)} µs (${perRequest(competing.cpu.agent!, competing.completed)} µs competing), ` +
      `node-relay ${perRequest(rows['node-relay']!.cpu['node-relay']!, rows['node-relay']!.completed)} µs, nginx ${perRequest(rows.nginx!.cpu.nginx!, rows.nginx!.completed)} µs.`,
  ];
  const table = lines.join('\n');
  console.log(`\n${table}\n`);

  const started = performance.now();
  const stored = await eventually(
    async () => {
      const n = (await storedStatements(store)) - recordingsBefore;
      return n >= sentToAgent && n;
    },
    { timeoutMs: 300_000, intervalMs: 1000, what: `${sentToAgent} recorded requests in the control plane` },
  );
  console.log(
    `Recordings: ${stored} requests stored by the control plane (${sentToAgent} answered), all within ${((performance.now() - started) / 1000).toFixed(0)} s after the run.`,
  );
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'http.md'), `${table}\n`);
}

function perRequest(cpuSeconds: number, requests: number): string {
  return ((cpuSeconds * 1e6) / Math.max(requests, 1)).toFixed(0);
}

/** Recorded HTTP requests (statement events) the control plane has stored so far. */
async function storedStatements(store: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl(store) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'statement'`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
