// `pnpm bench:pg`: pgbench -S in one run through PostgreSQL direct, pgbouncer (session pooling), a
// bare Node.js TCP relay (the floor of a Node.js proxy), and the agent with recording on and the
// default masking policy (control plane paused, then co-located), in simple and prepared modes;
// the agent again with a pass-through policy; a 100k-row SELECT of the demo customers masked
// through the agent against direct; then the agent's resident memory with 500 idle clients.
// Reports; never fails on machine noise. BENCH_SECONDS and BENCH_CLIENTS tune it, BENCH_ONLY=a,b
// runs only those paths, BENCH_PROFILE=<dir> writes the agent's CPU profile.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { demoPassword, seedDemoDatabase } from '../../deploy/local/demo-data.mjs';
import { eventually, freePort, sleep } from '../lib/process.js';
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
import { cpuSeconds } from './cpu.js';
import { profiled } from './profiling.js';

const run = promisify(execFile);
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const BENCH_DB = 'portcullis_bench';
const DEMO_DB = 'portcullis_bench_demo';
const DEMO_ROWS = 100_000;

/** Milliseconds to read every row of `SELECT * FROM customers` (best of three). */
async function selectAll(config: pg.ClientConfig): Promise<{ ms: number; rows: number }> {
  const client = new pg.Client(config);
  await client.connect();
  let best = Infinity;
  let rows = 0;
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      rows = (await client.query('SELECT * FROM customers')).rows.length;
      best = Math.min(best, performance.now() - t0);
    }
  } finally {
    await client.end();
  }
  return { ms: best, rows };
}

interface Result {
  path: string;
  mode: string;
  tps: number;
  avgMs: number;
  p99Ms: number;
  /** CPU of the proxy under test per transaction, microseconds (NaN for direct). */
  cpuUs: number;
}

async function pgbench(
  label: string,
  conn: { host: string; port: number; db: string; user: string; password?: string },
  mode: 'simple' | 'prepared',
  proxyPid?: number,
): Promise<Result> {
  const logDir = tempDir('pgbench-log-');
  const args = [
    '-S',
    '-n',
    '-c',
    String(CLIENTS),
    '-j',
    '2',
    '-T',
    String(SECONDS),
    '-M',
    mode,
    '-l',
    '--log-prefix',
    join(logDir.path, 'tx'),
    '-h',
    conn.host,
    '-p',
    String(conn.port),
    '-U',
    conn.user,
    conn.db,
  ];
  const cpuBefore = cpuSeconds(proxyPid);
  const { stdout } = await run(PGBENCH, args, {
    env: { ...process.env, PGPASSWORD: conn.password ?? '', PGSSLMODE: 'disable' },
    maxBuffer: 1 << 24,
  });
  const cpu = cpuSeconds(proxyPid) - cpuBefore;
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? NaN);
  const cpuUs = proxyPid ? (cpu * 1e6) / transactions : NaN;
  const avgMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? NaN);
  // Per-transaction logs: the third column is the latency in microseconds.
  const latencies: number[] = [];
  for (const file of readdirSync(logDir.path)) {
    for (const line of readFileSync(join(logDir.path, file), 'utf8').split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && line) latencies.push(us);
    }
  }
  logDir.remove();
  latencies.sort((a, b) => a - b);
  const p99Ms = latencies.length ? latencies[Math.floor(latencies.length * 0.99)]! / 1000 : NaN;
  console.log(
    `  ${label.padEnd(10)} ${mode.padEnd(9)} ${tps.toFixed(0).padStart(7)} tps  avg ${avgMs.toFixed(3)} ms  p99 ${p99Ms.toFixed(3)} ms${proxyPid ? `  ${cpuUs.toFixed(0)} µs CPU/tx` : ''}`,
  );
  return { path: label, mode, tps, avgMs, p99Ms, cpuUs };
}

async function startPgbouncer(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const dir = tempDir('pgbouncer-');
  chmodSync(dir.path, 0o777);
  const port = await freePort();
  const upstream = new URL(adminDatabaseUrl);
  writeFileSync(join(dir.path, 'userlist.txt'), '"postgres" "postgres"\n');
  writeFileSync(
    join(dir.path, 'pgbouncer.ini'),
    `[databases]
${BENCH_DB} = host=${upstream.hostname} port=${upstream.port || 5432} dbname=${BENCH_DB} user=postgres
; Upstream of the agent's 500 idle clients: PostgreSQL itself allows only 100 connections.
bench_idle = host=${upstream.hostname} port=${upstream.port || 5432} dbname=${BENCH_DB} user=postgres pool_mode=transaction
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir.path, 'userlist.txt')}
pool_mode = session
max_client_conn = 1000
default_pool_size = ${CLIENTS + 4}
logfile = ${join(dir.path, 'pgbouncer.log')}
pidfile = ${join(dir.path, 'pgbouncer.pid')}
`,
  );
  for (const f of readdirSync(dir.path)) chmodSync(join(dir.path, f), 0o666);
  // pgbouncer refuses to run as root; drop to the postgres user when we are root.
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = asRoot
    ? spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', join(dir.path, 'pgbouncer.ini')], { stdio: 'ignore' })
    : spawn('pgbouncer', [join(dir.path, 'pgbouncer.ini')], { stdio: 'ignore' });
  await eventually(
    async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: BENCH_DB });
      await c.connect();
      await c.end();
      return true;
    },
    { timeoutMs: 10_000, what: 'pgbouncer' },
  );
  return {
    port,
    // runuser's: its CPU counts its live child, pgbouncer.
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await sleep(200);
      dir.remove();
    },
  };
}

/** A bare Node.js TCP relay in front of PostgreSQL (see tcp-relay.mjs). */
async function startTcpRelay(): Promise<{ port: number; pid: number; stop(): void }> {
  const port = await freePort();
  const upstream = new URL(adminDatabaseUrl);
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, 'tcp-relay.mjs'), String(port), upstream.hostname, upstream.port || '5432'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`tcp-relay exited (${code})`)));
  });
  return { port, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function main(): Promise<void> {
  console.log(`pgbench -S, ${CLIENTS} clients, ${SECONDS} s per run`);
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
  if (exists.rowCount === 0) {
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    await run(PGBENCH, ['-i', '-q', '-s', '10', '-h', '127.0.0.1', '-U', 'postgres', BENCH_DB]);
  }
  await admin.end();

  const idp = await startIdp();
  const store = `portcullis_bench_store_${process.pid}`;
  const a2 = new pg.Client({ connectionString: adminDatabaseUrl });
  await a2.connect();
  await a2.query(`CREATE DATABASE ${store}`);
  await a2.end();
  const cp = await startControlPlane({ idp, databaseUrl: databaseUrl(store) });
  const alice = await userToken(idp, 'alice');
  const agentReg = await registerAgent(cp, alice, 'bench-agent');
  const target = new URL(adminDatabaseUrl);
  target.pathname = `/${BENCH_DB}`;
  target.password = '';
  const created = await api(cp, alice, 'POST', '/api/v1/connections', {
    name: 'bench-pg',
    kind: 'postgres',
    target: target.toString(),
    credential: { secretRef: 'env:BENCH_PG_PASSWORD' },
  });
  if (created.status !== 201) throw new Error(created.text);
  await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'bench-pg', group: 'ci' });
  await seedDemoDatabase({ adminUrl: adminDatabaseUrl, database: DEMO_DB, customers: DEMO_ROWS });
  const demoTarget = new URL(adminDatabaseUrl);
  demoTarget.pathname = `/${DEMO_DB}`;
  demoTarget.username = 'portcullis_demo_reader';
  demoTarget.password = '';
  const demo = await api(cp, alice, 'POST', '/api/v1/connections', {
    name: 'bench-demo',
    kind: 'postgres',
    target: demoTarget.toString(),
    credential: { secretRef: 'env:BENCH_DEMO_PASSWORD' },
  });
  if (demo.status !== 201) throw new Error(demo.text);
  await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'bench-demo', group: 'ci' });
  const agent = await startAgent({
    controlPlane: cp,
    token: agentReg.token,
    env: { BENCH_PG_PASSWORD: target.password || 'postgres', BENCH_DEMO_PASSWORD: demoPassword, ...profiled },
  });
  await eventually(async () => (await agent.status()).connections.includes('bench-demo'), {
    what: 'bench connections on agent',
  });
  const bouncer = await startPgbouncer();
  const relay = await startTcpRelay();
  const idleTarget = new URL(adminDatabaseUrl);
  idleTarget.port = String(bouncer.port);
  idleTarget.pathname = '/bench_idle';
  idleTarget.password = '';
  const idleConnection = await api(cp, alice, 'POST', '/api/v1/connections', {
    name: 'bench-idle',
    kind: 'postgres',
    target: idleTarget.toString(),
    credential: { secretRef: 'env:BENCH_PG_PASSWORD' },
  });
  if (idleConnection.status !== 201) throw new Error(idleConnection.text);
  await api(cp, alice, 'POST', '/api/v1/grants', { connection: 'bench-idle', group: 'ci' });
  await eventually(async () => (await agent.status()).connections.includes('bench-idle'), {
    what: 'bench-idle on agent',
  });
  const token = await clientToken(idp);

  /**
   * In production the control plane runs on other hosts; here it would take the agent's cores to
   * ingest the recordings as they are made. So it is paused (SIGSTOP) while the agent is measured:
   * the agent records every statement to its spool as always, and ships the backlog once the
   * control plane is back, which is timed and reported. `agent+cp` measures the shared case.
   */
  const drains: Array<{ events: number; ms: number }> = [];
  async function controlPlaneAway<T>(work: () => Promise<T>): Promise<T> {
    process.kill(cp.process.pid!, 'SIGSTOP');
    let result: T;
    try {
      result = await work();
    } finally {
      process.kill(cp.process.pid!, 'SIGCONT');
    }
    const events = (await agent.status()).spool.backlog;
    const t0 = performance.now();
    await eventually(async () => (await agent.status()).spool.backlog === 0, {
      timeoutMs: 300_000,
      intervalMs: 100,
      what: 'spool drained',
    });
    drains.push({ events, ms: performance.now() - t0 });
    return result;
  }

  const results: Result[] = [];
  try {
    const agentPid = agent.process.pid!;
    const agentConn = { host: '127.0.0.1', port: agent.pgPort, db: 'bench-pg', user: 'ci-bot', password: token };
    type Mode = 'simple' | 'prepared';
    const paths: Record<string, (mode: Mode) => Promise<Result>> = {
      direct: (mode) => pgbench('direct', { host: '127.0.0.1', port: 5432, db: BENCH_DB, user: 'postgres' }, mode),
      pgbouncer: (mode) =>
        pgbench('pgbouncer', { host: '127.0.0.1', port: bouncer.port, db: BENCH_DB, user: 'postgres' }, mode, bouncer.pid),
      'node-relay': (mode) =>
        pgbench('node-relay', { host: '127.0.0.1', port: relay.port, db: BENCH_DB, user: 'postgres' }, mode, relay.pid),
      agent: (mode) => controlPlaneAway(() => pgbench('agent', agentConn, mode, agentPid)),
      'agent+cp': (mode) => pgbench('agent+cp', agentConn, mode, agentPid),
    };
    // BENCH_ONLY=node-relay,agent runs just those paths (for profiling) and skips the rest of the report.
    const only = process.env.BENCH_ONLY?.split(',');
    for (const mode of ['simple', 'prepared'] as const) {
      for (const [label, measure] of Object.entries(paths)) {
        if (!only || only.includes(label)) results.push(await measure(mode));
      }
    }
    if (only) return;

    // The 100k-row SELECT with the default masking policy (ci-bot is not an admin: masked).
    const directDemo = {
      host: '127.0.0.1',
      port: 5432,
      database: DEMO_DB,
      user: 'portcullis_demo_reader',
      password: demoPassword,
    };
    const viaAgent = { host: '127.0.0.1', port: agent.pgPort, database: 'bench-demo', user: 'ci-bot', password: token };
    const selectDirect = await selectAll(directDemo);
    const selectMasked = await selectAll(viaAgent);
    console.log(
      `  SELECT * FROM customers (${selectDirect.rows} rows): direct ${selectDirect.ms.toFixed(0)} ms, agent masked ${selectMasked.ms.toFixed(0)} ms`,
    );

    // The same agent with a pass-through policy: guardrails only, nothing masked.
    const before = (await agent.status()).configVersion;
    const passThrough = await api(cp, alice, 'PUT', '/api/v1/policies', { defaultAction: 'allow', rules: [] });
    if (passThrough.status !== 200) throw new Error(passThrough.text);
    await eventually(async () => (await agent.status()).configVersion !== before, {
      what: 'pass-through policy on agent',
    });
    for (const mode of ['simple', 'prepared'] as const) {
      results.push(await controlPlaneAway(() => pgbench('agent-pass', agentConn, mode, agentPid)));
    }
    const selectPlain = await selectAll(viaAgent);
    console.log(`  SELECT * FROM customers: agent pass-through ${selectPlain.ms.toFixed(0)} ms`);

    // Resident memory of the agent with 500 idle authenticated clients (each with its upstream
    // session, through a transaction-pooling pgbouncer).
    const pid = agentPid;
    const rssBefore = rssMiB(pid);
    const idle: pg.Client[] = [];
    for (let i = 0; i < 500; i++) {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: agent.pgPort,
        database: 'bench-idle',
        user: 'ci-bot',
        password: token,
      });
      // An idle client ended by the agent's shutdown must not crash the report.
      c.on('error', () => undefined);
      await c.connect();
      idle.push(c);
    }
    await sleep(1000);
    const rssIdle = rssMiB(pid);
    await Promise.all(idle.map((c) => c.end()));

    const row = (mode: string, path: string) => results.find((r) => r.mode === mode && r.path === path)!;
    const lines = [
      '| mode | path | TPS | avg ms | p99 ms | / pgbouncer | / direct | proxy CPU µs/tx |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const mode of ['simple', 'prepared']) {
      for (const path of ['direct', 'pgbouncer', 'node-relay', 'agent', 'agent+cp', 'agent-pass']) {
        const r = row(mode, path);
        const ratios =
          path !== 'direct' && path !== 'pgbouncer'
            ? `${(r.tps / row(mode, 'pgbouncer').tps).toFixed(2)} | ${(r.tps / row(mode, 'direct').tps).toFixed(2)}`
            : ' | ';
        lines.push(
          `| ${mode} | ${path} | ${r.tps.toFixed(0)} | ${r.avgMs.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${ratios} | ${Number.isNaN(r.cpuUs) ? '' : r.cpuUs.toFixed(0)} |`,
        );
      }
    }
    lines.push(
      '',
      '`node-relay`: a bare Node.js TCP relay (tcp-relay.mjs), the floor of any Node.js proxy here. `agent` runs the default policy (guardrails, PII masking for non-admins) with recording on, the control plane paused meanwhile; `agent+cp` the same with the control plane ingesting on the same two cores; `agent-pass` a pass-through policy (guardrails only), control plane paused.',
      `Spool drained after each paused run: ${drains.map((d) => `${d.events} events in ${(d.ms / 1000).toFixed(1)} s`).join(', ')} (${(drains.reduce((n, d) => n + d.events, 0) / (drains.reduce((n, d) => n + d.ms, 0) / 1000)).toFixed(0)} events/s shipped and stored).`,
      ...['simple', 'prepared'].map(
        (mode) =>
          `Masking policy / pass-through (${mode}): ${(row(mode, 'agent').tps / row(mode, 'agent-pass').tps).toFixed(2)}x.`,
      ),
      `SELECT * FROM customers, ${selectDirect.rows} rows (best of 3): direct ${selectDirect.ms.toFixed(0)} ms, agent with masking ${selectMasked.ms.toFixed(0)} ms (${(selectMasked.ms / selectDirect.ms).toFixed(1)}x), agent pass-through ${selectPlain.ms.toFixed(0)} ms.`,
    );
    lines.push(
      '',
      `Agent resident memory: ${rssBefore.toFixed(0)} MiB at rest, ${rssIdle.toFixed(0)} MiB with 500 idle clients (${(((rssIdle - rssBefore) * 1024) / 500).toFixed(0)} KiB per client).`,
    );
    const table = lines.join('\n');
    console.log(`\n${table}\n`);
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'pg.md'), `${table}\n`);
  } finally {
    relay.stop();
    await bouncer.stop();
    await agent.stop();
    await cp.stop();
    await idp.stop();
    const a3 = new pg.Client({ connectionString: adminDatabaseUrl });
    await a3.connect();
    await a3.query(`DROP DATABASE IF EXISTS ${store} WITH (FORCE)`);
    await a3.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
