import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, createMaskContext, maskText } from '@portcullis/policy';
import { createSseParser } from './sse.js';
import { createMaskedStream, type StreamProfile } from './stream-masking.js';

const ctx = createMaskContext({ scanner: compilePolicy({ version: 1, defaultAction: 'allow' }).scanner });

/** One value of each entity type, in a sentence with the context words its detector wants. */
const PII: Record<string, string> = {
  CREDIT_CARD: '4111 1111 1111 1111',
  EMAIL: 'jane.roe@example.com',
  US_SSN: '123-45-6789',
  PHONE: '+1 415 555 0134',
  IBAN: 'DE89 3704 0044 0532 0130 00',
  IP_ADDRESS: '192.168.10.23',
  SECRET: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
  DATE_OF_BIRTH: '1984-03-12',
  MEDICAL_RECORD_NUMBER: '4829173',
  PERSON: 'Jane Doe',
};
const SENTENCE: Record<string, (v: string) => string> = {
  DATE_OF_BIRTH: (v) => `The patient was born ${v}, fine.`,
  MEDICAL_RECORD_NUMBER: (v) => `Chart MRN ${v} updated.`,
  PERSON: (v) => `Dear ${v}, thanks.`,
};
const sentence = (entity: string) => (SENTENCE[entity] ?? ((v: string) => `Value: ${v} ok.`))(PII[entity]!);

// Independent fixture builders: what an upstream sends.
function openAiStream(deltas: string[]): string {
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return chunk({ role: 'assistant', content: '' }, null) + deltas.map((d) => chunk({ content: d }, null)).join('') + chunk({}, 'stop') + 'data: [DONE]\n\n';
}
function anthropicStream(deltas: string[]): string {
  const ev = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  return (
    ev('message_start', { type: 'message_start', message: { model: 'claude', usage: { input_tokens: 3 } } }) +
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    deltas.map((d) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: d } })).join('') +
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    ev('message_stop', { type: 'message_stop' })
  );
}

/** Runs the masked stream over byte chunks; returns the client's events and assembled text. */
function run(profile: StreamProfile, chunks: string[]) {
  const stream = createMaskedStream(profile, ctx);
  let out = '';
  for (const c of chunks) out += stream.push(c);
  out += stream.end();
  const events: Array<{ event?: string; data: string }> = [];
  const parser = createSseParser((e) => events.push(e), (e) => assert.fail(`agent emitted invalid SSE: ${e.message}`));
  parser.feed(out);
  let text = '';
  for (const e of events) {
    if (e.data === '[DONE]') continue;
    const body = JSON.parse(e.data); // every event the client gets is valid JSON
    if (profile === 'openai') text += body.choices?.map((c: any) => c.delta?.content ?? '').join('') ?? '';
    else if (body.type === 'content_block_delta') text += body.delta.text;
  }
  return { out, events, text, summary: stream.summary() };
}

for (const profile of ['openai', 'anthropic'] as const) {
  const build = profile === 'openai' ? openAiStream : anthropicStream;
  describe(`${profile} stream masking`, () => {
    for (const entity of Object.keys(PII)) {
      it(`never sends ${entity} unmasked, at every split of the value across events and of the bytes`, () => {
        const text = sentence(entity);
        const whole = maskText(text, ctx).text;
        assert.ok(!whole.includes(PII[entity]!), `${entity} is detected in "${text}"`);
        for (let i = 0; i <= text.length; i++) {
          const sse = build([text.slice(0, i), text.slice(i)]);
          const cut = Math.floor((sse.length * i) / text.length);
          const r = run(profile, [sse.slice(0, cut), sse.slice(cut)]);
          assert.ok(!r.out.includes(PII[entity]!), `${entity} leaked, split at ${i}`);
          assert.equal(r.text, whole, `split at ${i}`);
        }
        const oneByOne = run(profile, [...build([...text])]);
        assert.ok(!oneByOne.out.includes(PII[entity]!));
        assert.equal(oneByOne.text, whole);
      });
    }
  });
}

describe('stream summary and failures', () => {
  it('keeps a valid OpenAI stream shape: [DONE] last, held text before it', () => {
    const r = run('openai', [openAiStream(['card 4111 1111 ', '1111 1111'])]);
    assert.equal(r.events.at(-1)!.data, '[DONE]');
    assert.match(r.text, /\[CREDIT_CARD\]/);
    assert.equal(r.summary.maskedCounts.CREDIT_CARD, 1);
    assert.equal(r.summary.model, 'm');
  });

  it('ends the stream with an error event on malformed data, and sends nothing after it', () => {
    const stream = createMaskedStream('openai', ctx);
    let out = stream.push(openAiStream(['hello']).split('data: [DONE]')[0]!);
    out += stream.push('data: {not json\n\n');
    out += stream.push(openAiStream(['after']));
    out += stream.end();
    assert.ok(stream.failed);
    assert.match(out, /"code":"malformed_sse"/);
    assert.ok(!out.includes('after'));
  });
});
