import { compilePolicy, createMaskContext, maskJson, maskText, createStreamMasker } from './src/index.js';
import { answerFor, adversarialChunks } from '../../e2e/fixtures/mock-llm.js';
const compiled = compilePolicy({ version: 0, defaultAction: 'allow' });
const ctx = createMaskContext({ scanner: compiled.scanner });
const resp = { id: 'chatcmpl-mock-1', object: 'chat.completion', created: 1764100000, model: 'mock-1', choices: [{ index: 0, message: { role: 'assistant', content: answerFor('What is the refund policy?') }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 40, total_tokens: 47 } };
const req = { model: 'mock-1', messages: [{ role: 'user', content: 'What is the refund policy?' }] };
function bench(name: string, n: number, f: () => void) { for (let i = 0; i < n / 10; i++) f(); const t = performance.now(); for (let i = 0; i < n; i++) f(); const dt = performance.now() - t; console.log(name, (dt / n * 1000).toFixed(1), 'us/op'); }
bench('maskJson resp', 2000, () => maskJson(resp, ctx, new Map()));
bench('maskText prompt', 5000, () => maskText(req.messages[0]!.content, ctx));
const a1 = answerFor('hi', 1024), a64 = answerFor('hi', 65536);
bench('stream 1KB', 200, () => { const m = createStreamMasker(ctx); for (const c of adversarialChunks(a1)) m.push(c); m.end(); });
bench('stream 64KB', 3, () => { const m = createStreamMasker(ctx); for (const c of adversarialChunks(a64)) m.push(c); m.end(); });
console.log(JSON.stringify(maskJson(resp, ctx)));
