// TEMP profiling harness (deleted before report)
import { TokenVerifier } from './src/identity/token-verifier.js';
import { MemorySnapshots } from './src/identity/testing/memory-snapshots.js';
import { TestIdp } from './src/identity/testing/test-idp.js';
import { HttpEngine } from './src/engines/http/http-engine.js';
import { MOCK_PROVIDER_KEY } from '../../e2e/fixtures/mock-llm.js';
import { writeFileSync } from 'node:fs';
const idp = await TestIdp.start();
const llmUrl = process.env.LLM!;
const snapshots = new MemorySnapshots({
  version: 1,
  connections: [{ id: 'c', name: 'bench-llm', kind: 'llm', target: `${llmUrl}/v1`, credential: { source: { $case: 'value', value: MOCK_PROVIDER_KEY } }, networkLabels: [], options: { profile: 'openai-compatible', maskRequests: true, maskResponses: true } as any }],
  grants: [{ id: 'g', connectionId: 'c', group: 'ci', subject: '', expiresAt: undefined }],
  identity: idp.settings(), disabledIdentities: [], generatedAt: new Date(),
} as any);
const recorder = { accepting: () => true, sessionStart() {}, statement(_s: string, st: any) { JSON.stringify(st); }, sessionEnd() {} };
const engine = new HttpEngine({ host: '127.0.0.1', port: 0, snapshots, verifier: new TokenVerifier(snapshots), recorder: recorder as any, resolveCredential: (c: any) => c.credential?.source?.value });
const { port } = await engine.listen();
writeFileSync(process.env.OUT!, JSON.stringify({ port, token: await idp.token('carol', { groups: ['ci'] }) }));
console.log('ready');
process.on('SIGTERM', () => process.exit(0));
