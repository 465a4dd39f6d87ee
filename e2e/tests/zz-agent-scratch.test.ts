// TEMPORARY scratch by the agent-runtime helper; deleted after diagnosis.
import { after, test } from 'node:test';
import { api, createDatabase, registerAgent, startAgent, startControlPlane, startIdp, userToken } from '../lib/stack.js';

test('scratch: agent reconnect after control plane restart', async () => {
  const idp = await startIdp();
  const db = await createDatabase('e2e_scratch');
  const cp = await startControlPlane({ idp, databaseUrl: db.url });
  const alice = await userToken(idp, 'alice');
  const reg = await registerAgent(cp, alice, 'agent-x', ['net-s']);
  await api(cp, alice, 'POST', '/api/v1/connections', { name: 'survivor-db', kind: 'postgres', target: 'postgresql://reader@127.0.0.1:5432/x', networkLabels: ['net-s'], credential: { secretRef: 'env:SOME_PASSWORD' } });
  const agent = await startAgent({ controlPlane: cp, token: reg.token, labels: ['net-s'], env: { LOG_LEVEL: 'debug' } });
  await cp.kill();
  await agent.stop();
  const offline = await startAgent({ controlPlane: cp, token: reg.token, labels: ['net-s'], dataDir: agent.dataDir, waitConnected: false, env: { LOG_LEVEL: 'debug' } });
  const t0 = Date.now();
  await cp.restart();
  console.log('cp restarted after', Date.now() - t0);
  const t1 = Date.now();
  for (let i = 0; i < 100; i++) {
    const st = await offline.status();
    if (st.connected) { console.log('connected after', Date.now() - t1); break; }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log('AGENT OUTPUT\n' + offline.process.output.split('\n').slice(-40).join('\n'));
  console.log('CP OUTPUT\n' + cp.process.output.split('\n').slice(-25).join('\n'));
  await offline.stop(); await cp.stop(); await idp.stop(); await db.drop();
});
after(() => undefined);
