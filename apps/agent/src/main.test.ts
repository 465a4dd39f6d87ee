import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { TestControlPlane } from './control/testing/test-control-plane.js';

const TOKEN = 'main-test-token-93ad';
const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-agent-main-'));
const cp = new TestControlPlane(TOKEN);
after(() => {
  cp.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('starts from the environment, says where it listens, connects, and stops cleanly on SIGTERM', async () => {
  await cp.start();
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts')], {
    env: {
      ...process.env,
      PORTCULLIS_CONTROL_PLANE: cp.address,
      PORTCULLIS_CONTROL_PLANE_INSECURE: 'true',
      PORTCULLIS_AGENT_TOKEN: TOKEN,
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_PG_LISTEN: '127.0.0.1:0',
      PORTCULLIS_STATUS_LISTEN: '127.0.0.1:0',
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  const deadline = Date.now() + 15_000;
  while (!/agent listening: .*status=127\.0\.0\.1:(\d+)/.test(output)) {
    assert.ok(Date.now() < deadline, `no "listening" line:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const statusPort = /status=127\.0\.0\.1:(\d+)/.exec(output)![1];
  while (!((await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as { connected: boolean }).connected) {
    assert.ok(Date.now() < deadline, 'never connected');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(cp.hellos[0]!.lastConfigVersion, 0);

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(!output.includes(TOKEN), 'the agent token appeared in the logs');
});

it('refuses to start without a token, saying which setting is missing', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts')], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /PORTCULLIS_AGENT_TOKEN: is required/);
});
