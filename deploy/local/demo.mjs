#!/usr/bin/env node
// `pnpm demo`: one command from a fresh clone to a working system on this machine.
// Installs and builds what is missing, seeds the demo database, starts the dev IdP, the control
// plane (which migrates its store on start) and one agent, registers the demo connections and
// grants through the public REST API, then prints what to try. Ctrl-C stops everything.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = join(root, '.data', 'demo');
const env = {
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/portcullis',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  IDP_URL: process.env.IDP_URL ?? 'http://127.0.0.1:8180',
  CONTROL_PLANE_URL: process.env.CONTROL_PLANE_URL ?? 'http://127.0.0.1:8080',
};
const cpPort = new URL(env.CONTROL_PLANE_URL).port || '8080';
const idpPort = new URL(env.IDP_URL).port || '8180';
const issuer = `${env.IDP_URL}/realms/portcullis`;
const llmPort = process.env.DEMO_LLM_PORT ?? '18181';
const llmUrl = `http://127.0.0.1:${llmPort}`;
const llmKey = `sk-demo-${randomBytes(12).toString('hex')}`;

function step(text) {
  process.stdout.write(`\x1b[1m▸ ${text}\x1b[0m\n`);
}

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

// 1. Install and build what is missing.
if (!existsSync(join(root, 'node_modules', '.pnpm'))) {
  step('installing dependencies (pnpm install)');
  run('pnpm', ['install', '--frozen-lockfile']);
}
const entryPoints = ['apps/dev-idp/dist/main.js', 'apps/control-plane/dist/main.js', 'apps/agent/dist/main.js', 'apps/cli/dist/main.js'];
if (process.env.DEMO_REBUILD || entryPoints.some((p) => !existsSync(join(root, p)))) {
  step('building (pnpm build)');
  run('pnpm', ['run', 'build']);
}

mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const secretFile = join(dataDir, 'secret-key');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });
const secretKey = readFileSync(secretFile, 'utf8').trim();

// 2. The demo database behind demo-pg, with a least-privilege reader role.
const { seedDemoDatabase, demoPassword } = await import('./demo-data.mjs');
const adminUrl = new URL(env.DATABASE_URL);
adminUrl.pathname = '/postgres';
step('seeding the demo database portcullis_demo (synthetic customers and documents)');
await seedDemoDatabase({ adminUrl: adminUrl.toString() });
const demoTarget = new URL(env.DATABASE_URL);
demoTarget.username = 'portcullis_demo_reader';
demoTarget.password = '';
demoTarget.pathname = '/portcullis_demo';

// 3. Processes.
const children = [];
function start(name, entry, extraEnv, ready, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(root, entry)], {
      cwd: root,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const logFile = join(dataDir, `${name}.log`);
    writeFileSync(logFile, '');
    let seen = '';
    const onData = (chunk) => {
      writeFileSync(logFile, chunk, { flag: 'a' });
      if (seen !== null) {
        seen += chunk.toString();
        if (ready.test(seen)) {
          seen = null;
          resolve(child);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      if (seen !== null) reject(new Error(`${name} exited with ${code} before it was ready; see ${logFile}:\n${seen.slice(-2000)}`));
      else if (!stopping) {
        console.error(`${name} exited with ${code}; see ${logFile}`);
        shutdown(1);
      }
    });
  });
}

let stopping = false;
function shutdown(code = 0) {
  stopping = true;
  for (const child of children.reverse()) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

try {
  step(`starting the dev IdP on ${env.IDP_URL}`);
  await start('dev-idp', 'apps/dev-idp/dist/main.js', { IDP_PORT: idpPort, IDP_PUBLIC_URL: env.IDP_URL, IDP_DATA_DIR: join(dataDir, 'idp') }, /listening on/);

  step(`starting the control plane on ${env.CONTROL_PLANE_URL} (gRPC :8090)`);
  await start(
    'control-plane',
    'apps/control-plane/dist/main.js',
    {
      PORT: cpPort,
      GRPC_INSECURE: 'true',
      DATABASE_URL: env.DATABASE_URL,
      REDIS_URL: env.REDIS_URL,
      KEYCLOAK_URL: env.IDP_URL,
      PORTCULLIS_SECRET_KEY: secretKey,
      CONSOLE_DIR: join(root, 'apps/console/dist'),
    },
    /listening on http/,
    ['--experimental-wasm-modules', '--no-warnings'],
  );

  // A stand-in for a paid LLM API; its key is known to the agent only, never to clients.
  step(`starting a mock OpenAI-compatible LLM on ${llmUrl}`);
  await start('mock-llm', 'e2e/fixtures/serve-mock-llm.ts', { PORT: llmPort, MOCK_PROVIDER_KEY: llmKey }, /mock-llm listening on/, [
    '--import',
    'tsx',
  ]);

  // 4. Register the demo through the public API, as alice (admin) would.
  const tokenRes = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'portcullis-cli', username: 'alice', password: 'alice' }),
  });
  const { access_token: alice } = await tokenRes.json();
  if (!alice) throw new Error('could not get a token for alice from the dev IdP');
  const call = async (method, path, body) => {
    const res = await fetch(`${env.CONTROL_PLANE_URL}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${alice}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  /** Creates or updates a demo connection and grants it to these groups. */
  async function ensureConnection(connection, groups) {
    const existing = await call('GET', `/connections/${connection.name}`);
    if (existing.status === 404) {
      const created = await call('POST', '/connections', connection);
      if (created.status !== 201) throw new Error(`create ${connection.name}: ${created.status} ${JSON.stringify(created.body)}`);
    } else {
      const { name: _name, ...update } = connection;
      await call('PATCH', `/connections/${connection.name}`, update);
    }
    const grants = (await call('GET', `/grants?connection=${connection.name}`)).body?.items ?? [];
    for (const group of groups) {
      if (!grants.some((g) => g.group === group)) {
        await call('POST', '/grants', { connection: connection.name, group, reason: 'demo' });
      }
    }
  }

  step('registering demo connections and grants');
  await ensureConnection(
    {
      name: 'demo-pg',
      kind: 'postgres',
      target: demoTarget.toString(),
      networkLabels: ['default'],
      credential: { secretRef: 'env:DEMO_PG_PASSWORD' },
      description: 'Synthetic customers (names, e-mails, SSNs, cards) and documents with embeddings',
    },
    ['analysts', 'contractors', 'ci'],
  );
  await ensureConnection(
    {
      name: 'demo-llm',
      kind: 'llm',
      target: `${llmUrl}/v1`,
      networkLabels: ['default'],
      credential: { secretRef: 'env:DEMO_LLM_KEY' },
      options: { profile: 'openai-compatible' },
      description: 'OpenAI-compatible mock model (echoes the prompt, answers with PII split across chunks)',
    },
    ['analysts', 'ci'],
  );

  // The agent's token is shown once at registration; the demo keeps it in .data/demo.
  const agentFile = join(dataDir, 'agent.json');
  let agent = existsSync(agentFile) ? JSON.parse(readFileSync(agentFile, 'utf8')) : undefined;
  if (agent) {
    const seen = await call('GET', `/agents/${agent.id}`);
    if (seen.status !== 200 || seen.body.status === 'revoked') agent = undefined;
  }
  if (!agent) {
    const registered = await call('POST', '/agents', { name: `local-${randomBytes(2).toString('hex')}`, labels: ['default'] });
    if (registered.status !== 201) throw new Error(`register agent: ${registered.status} ${JSON.stringify(registered.body)}`);
    agent = { id: registered.body.id, name: registered.body.name, token: registered.body.token };
    writeFileSync(agentFile, JSON.stringify(agent), { mode: 0o600 });
  }

  step('starting the agent (PostgreSQL :15432, HTTP :18080, status :9464)');
  await start(
    'agent',
    'apps/agent/dist/main.js',
    {
      PORTCULLIS_CONTROL_PLANE: '127.0.0.1:8090',
      PORTCULLIS_CONTROL_PLANE_INSECURE: 'true',
      PORTCULLIS_AGENT_TOKEN: agent.token,
      PORTCULLIS_DATA_DIR: join(dataDir, 'agent'),
      PORTCULLIS_LABELS: 'default',
      DEMO_PG_PASSWORD: demoPassword,
      DEMO_LLM_KEY: llmKey,
    },
    /listening/,
  );

  console.log(`
\x1b[1mPortcullis is running.\x1b[0m  Logs: .data/demo/*.log   Stop: Ctrl-C

  Console and API      ${env.CONTROL_PLANE_URL}/  (API docs: ${env.CONTROL_PLANE_URL}/api/docs)
  Dev IdP              ${issuer}   (users alice, bob, carol, dave; password = user name)
  Agent                postgres 127.0.0.1:15432, http 127.0.0.1:18080, status http://127.0.0.1:9464/status

Try, in another terminal:
  pnpm portcullis token --client-id ci-bot --client-secret ci-bot-secret
  PGPASSWORD=$(pnpm portcullis token --username carol --password carol) \\
    psql "host=127.0.0.1 port=15432 dbname=demo-pg user=carol" -c 'select full_name, email from customers limit 3'
  PGPASSWORD=$(pnpm portcullis token --username alice --password alice) \\
    pnpm portcullis connections list --token "$PGPASSWORD"
  curl -s http://127.0.0.1:18080/c/demo-llm/v1/chat/completions -H "authorization: Bearer $(pnpm portcullis token --username carol --password carol)" \\
    -H 'content-type: application/json' -d '{"model":"mock-1","messages":[{"role":"user","content":"my card is 4111 1111 1111 1111"}]}'
  pnpm portcullis connections test demo-llm --token "$(pnpm portcullis token --username alice --password alice)"
  curl -s http://127.0.0.1:9464/status
`);
} catch (error) {
  console.error(`\n\x1b[31mdemo failed:\x1b[0m ${error.message}`);
  shutdown(1);
}
