import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import http from 'node:http';
const mock = spawn(process.execPath, ['--import', 'tsx', 'e2e/fixtures/serve-mock-llm.ts'], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
const url: string = await new Promise((r) => mock.stdout!.on('data', (d) => { const m = /listening on (\S+)/.exec(String(d)); if (m) r(m[1]!); }));
const out = `/tmp/perfhttp-31101/engine-${process.pid}.json`;
const eng = spawn(process.execPath, [...(process.env.PROF ? ['--import=/tmp/perfhttp-31101/preload.mjs'] : []), '--import', 'tsx', 'apps/agent/zz-engine.ts'], { env: { ...process.env, LLM: url, OUT: out }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => eng.stdout!.on('data', (d) => String(d).includes('ready') && r(0)));
const { port, token } = JSON.parse(readFileSync(out, 'utf8'));
const base = `http://127.0.0.1:${port}/c/bench-llm/v1`;
const BODY = JSON.stringify({ model: 'mock-1', messages: [{ role: 'user', content: 'What is the refund policy?' }] });
async function streams(bytes: number, n = 15) {
  const agent = new http.Agent({ keepAlive: true }); const ttft: number[] = []; const total: number[] = [];
  for (let i = 0; i < n; i++) { const started = performance.now(); let first = 0;
    await new Promise<void>((resolve, reject) => { const req = http.request(`${base}/chat/completions`, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-mock-answer-bytes': String(bytes) } }, (res) => { res.on('data', (c: Buffer) => { if (!first && /"content":"[^"]/.test(c.toString())) first = performance.now() - started; }); res.on('end', resolve); res.on('error', reject); }); req.on('error', reject); req.end(JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] })); });
    total.push(performance.now() - started); ttft.push(first); }
  agent.destroy(); const med = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(2);
  return `${med(ttft)} / ${med(total)}`;
}
if (!process.env.NOSTREAM) await streams(1024, 5);
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
if (process.env.PROF) eng.kill('SIGUSR2');
const c0 = cpu(eng.pid!), m0 = cpu(mock.pid!);
const r = await autocannon({ url: `${base}/chat/completions`, method: 'POST', connections: 16, duration: Number(process.env.SECS ?? 6), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: BODY });
const c1 = cpu(eng.pid!), m1 = cpu(mock.pid!);
console.log(`engine CPU ${((c1 - c0) / r.requests.total * 1000).toFixed(0)} us/req, mock ${((m1 - m0) / r.requests.total * 1000).toFixed(0)} us/req`);
console.log(`engine ${r.requests.average.toFixed(0)} req/s p50 ${r.latency.p50} p99 ${r.latency.p99} non2xx ${r.non2xx} err ${r.errors}`);
if (!process.env.NOSTREAM) console.log('SSE 1KB', await streams(1024), ' 64KB', await streams(65536, 5));
eng.kill('SIGTERM'); mock.kill('SIGTERM');
await new Promise((r) => eng.once('exit', r));
