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
const chatChunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
function openAiStream(deltas: string[], field: 'content' | 'refusal' = 'content'): string {
  return chatChunk({ role: 'assistant', [field]: '' }, null) + deltas.map((d) => chatChunk({ [field]: d }, null)).join('') + chatChunk({}, 'stop') + 'data: [DONE]\n\n';
}
/** `calls` tool calls opened one after the other, then their argument fragments as [tool call index, text], in the order sent. */
function toolCallStream(calls: number, fragments: Array<[number, string]>): string {
  let sse = chatChunk({ role: 'assistant', content: null }, null);
  for (let index = 0; index < calls; index++)
    sse += chatChunk({ tool_calls: [{ index, id: `call_${index}`, type: 'function', function: { name: 'pay', arguments: '' } }] }, null);
  sse += fragments.map(([index, args]) => chatChunk({ tool_calls: [{ index, function: { arguments: args } }] }, null)).join('');
  return sse + chatChunk({}, 'tool_calls') + 'data: [DONE]\n\n';
}
/** The legacy `function_call` of a chat choice. */
function functionCallStream(deltas: string[]): string {
  return (
    chatChunk({ role: 'assistant', content: null, function_call: { name: 'pay', arguments: '' } }, null) +
    deltas.map((d) => chatChunk({ function_call: { arguments: d } }, null)).join('') +
    chatChunk({}, 'function_call') +
    'data: [DONE]\n\n'
  );
}

type AnthropicBlock = 'text' | 'tool_use' | 'thinking';
const ANTHROPIC_BLOCKS: Record<AnthropicBlock, { start: object; delta: string; field: string }> = {
  text: { start: { type: 'text', text: '' }, delta: 'text_delta', field: 'text' },
  tool_use: { start: { type: 'tool_use', id: 'toolu_1', name: 'pay', input: {} }, delta: 'input_json_delta', field: 'partial_json' },
  thinking: { start: { type: 'thinking', thinking: '' }, delta: 'thinking_delta', field: 'thinking' },
};
const anthropicEvent = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
function anthropicBlock(index: number, block: AnthropicBlock, deltas: string[]): string {
  const { start, delta, field } = ANTHROPIC_BLOCKS[block];
  return (
    anthropicEvent('content_block_start', { type: 'content_block_start', index, content_block: start }) +
    deltas.map((d) => anthropicEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: delta, [field]: d } })).join('') +
    (block === 'thinking' ? anthropicEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } }) : '') +
    anthropicEvent('content_block_stop', { type: 'content_block_stop', index })
  );
}
function anthropicStream(blocks: string): string {
  return (
    anthropicEvent('message_start', { type: 'message_start', message: { model: 'claude', usage: { input_tokens: 3 } } }) +
    blocks +
    anthropicEvent('message_stop', { type: 'message_stop' })
  );
}

function responsesStream(deltas: string[]): string {
  let sequence = 0;
  const ev = (data: object) => {
    const body = { ...data, sequence_number: sequence++ };
    return `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(body)}\n\n`;
  };
  const full = deltas.join('');
  const ids = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  const item = (status: string, text?: string) => ({
    id: 'msg_1',
    type: 'message',
    status,
    role: 'assistant',
    content: text === undefined ? [] : [{ type: 'output_text', text, annotations: [] }],
  });
  const response = (status: string, output: object[]) => ({
    id: 'resp_1',
    object: 'response',
    status,
    model: 'gpt-4o-mini',
    output,
    usage: status === 'completed' ? { input_tokens: 5, output_tokens: 9, total_tokens: 14 } : null,
  });
  return (
    ev({ type: 'response.created', response: response('in_progress', []) }) +
    ev({ type: 'response.output_item.added', output_index: 0, item: item('in_progress') }) +
    ev({ type: 'response.content_part.added', ...ids, part: { type: 'output_text', text: '', annotations: [] } }) +
    deltas.map((delta) => ev({ type: 'response.output_text.delta', ...ids, delta, logprobs: [] })).join('') +
    ev({ type: 'response.output_text.done', ...ids, text: full, logprobs: [] }) +
    ev({ type: 'response.content_part.done', ...ids, part: { type: 'output_text', text: full, annotations: [] } }) +
    ev({ type: 'response.output_item.done', output_index: 0, item: item('completed', full) }) +
    ev({ type: 'response.completed', response: response('completed', [item('completed', full)]) })
  );
}

interface Fixture {
  profile: StreamProfile;
  build: (deltas: string[]) => string;
  /** The streamed text of an event body, as a client concatenates it. */
  read: (body: any) => string;
  /** The text streams JSON arguments (tool calls), not prose. */
  json?: boolean;
}
const chatText = (body: any, pick: (delta: any) => unknown) => body.choices?.map((c: any) => pick(c.delta ?? {}) ?? '').join('') ?? '';
const anthropicText = (block: AnthropicBlock) => (body: any) =>
  body.type === 'content_block_delta' && body.delta.type === ANTHROPIC_BLOCKS[block].delta ? body.delta[ANTHROPIC_BLOCKS[block].field] : '';

/** Each tool call's arguments as a client assembles them from chat chunks, by tool call index. */
function argumentsByCall(bodies: any[]): string[] {
  const args: string[] = [];
  for (const b of bodies)
    for (const c of b.choices ?? []) for (const t of c.delta?.tool_calls ?? []) args[t.index] = (args[t.index] ?? '') + (t.function?.arguments ?? '');
  return args;
}

const FIXTURES = {
  openai: { profile: 'openai', build: openAiStream, read: (b) => chatText(b, (d) => d.content) },
  'openai refusal': { profile: 'openai', build: (deltas) => openAiStream(deltas, 'refusal'), read: (b) => chatText(b, (d) => d.refusal) },
  'openai tool call': {
    profile: 'openai',
    build: (deltas) => toolCallStream(1, deltas.map((d) => [0, d])),
    read: (b) => argumentsByCall([b]).join(''),
    json: true,
  },
  'openai function call': { profile: 'openai', build: functionCallStream, read: (b) => chatText(b, (d) => d.function_call?.arguments), json: true },
  anthropic: { profile: 'anthropic', build: (deltas) => anthropicStream(anthropicBlock(0, 'text', deltas)), read: anthropicText('text') },
  'anthropic tool input': {
    profile: 'anthropic',
    build: (deltas) => anthropicStream(anthropicBlock(0, 'tool_use', deltas)),
    read: anthropicText('tool_use'),
    json: true,
  },
  'anthropic thinking': { profile: 'anthropic', build: (deltas) => anthropicStream(anthropicBlock(0, 'thinking', deltas)), read: anthropicText('thinking') },
  // The Responses API goes through the same connections (openai-compatible profile).
  responses: { profile: 'openai', build: responsesStream, read: (b) => (b.type === 'response.output_text.delta' ? b.delta : '') },
} satisfies Record<string, Fixture>;
type Api = keyof typeof FIXTURES;

/** Runs the masked stream over byte chunks; returns the client's events and assembled text. */
function run(api: Api, chunks: string[]) {
  const { profile, read } = FIXTURES[api] as Fixture;
  const stream = createMaskedStream(profile, ctx);
  let out = '';
  for (const c of chunks) out += stream.push(c);
  out += stream.end();
  const events: Array<{ event?: string; data: string }> = [];
  const parser = createSseParser((e) => events.push(e), (e) => assert.fail(`agent emitted invalid SSE: ${e.message}`));
  parser.feed(out);
  let text = '';
  const bodies: any[] = [];
  for (const e of events) {
    if (e.data === '[DONE]') continue;
    const body = JSON.parse(e.data); // every event the client gets is valid JSON
    bodies.push(body);
    text += read(body);
  }
  return { out, events, bodies, text, summary: stream.summary() };
}

/** A Responses stream as a client checks it: numbered in order, full texts equal to the deltas. */
function assertValidResponses(r: ReturnType<typeof run>, where: string): void {
  assert.deepEqual(
    r.bodies.map((b) => b.sequence_number),
    r.bodies.map((_, i) => i),
    `sequence numbers ${where}`,
  );
  for (const [i, e] of r.events.entries()) assert.equal(e.event, r.bodies[i].type, `event name ${where}`);
  const byType = (type: string) => r.bodies.find((b) => b.type === type);
  assert.equal(byType('response.output_text.done').text, r.text, `output_text.done ${where}`);
  assert.equal(byType('response.content_part.done').part.text, r.text, `content_part.done ${where}`);
  assert.equal(byType('response.output_item.done').item.content[0].text, r.text, `output_item.done ${where}`);
  assert.equal(byType('response.completed').response.output[0].content[0].text, r.text, `completed ${where}`);
  const lastDelta = r.bodies.findLastIndex((b) => b.type === 'response.output_text.delta');
  assert.ok(lastDelta < r.bodies.findIndex((b) => b.type === 'response.output_text.done'), `held text before .done ${where}`);
}

for (const api of Object.keys(FIXTURES) as Api[]) {
  const { build, json } = FIXTURES[api] as Fixture;
  describe(`${api} stream masking`, () => {
    for (const entity of Object.keys(PII)) {
      it(`never sends ${entity} unmasked, at every split of the value across events and of the bytes`, () => {
        const text = json ? JSON.stringify({ note: sentence(entity) }) : sentence(entity);
        const whole = maskText(text, ctx).text;
        assert.ok(!whole.includes(PII[entity]!), `${entity} is detected in "${text}"`);
        for (let i = 0; i <= text.length; i++) {
          const sse = build([text.slice(0, i), text.slice(i)]);
          const cut = Math.floor((sse.length * i) / text.length);
          const r = run(api, [sse.slice(0, cut), sse.slice(cut)]);
          assert.ok(!r.out.includes(PII[entity]!), `${entity} leaked in an event, split at ${i}`);
          assert.ok(!r.text.includes(PII[entity]!), `${entity} leaked across events, split at ${i}`);
          assert.equal(r.text, whole, `split at ${i}`);
          if (api === 'responses') assertValidResponses(r, `split at ${i}`);
        }
        const oneByOne = run(api, [...build([...text])]);
        assert.ok(!oneByOne.out.includes(PII[entity]!));
        assert.equal(oneByOne.text, whole);
        if (api === 'responses') assertValidResponses(oneByOne, 'one character per delta');
      });
    }
  });
}

describe('tool calls, refusals and thinking', () => {
  it('two chat tool calls streamed at once: each one masked at every split, a valid chunk stream, not recorded as answer text', () => {
    const args = [JSON.stringify({ card: PII.CREDIT_CARD }), JSON.stringify({ to: PII.EMAIL, note: 'urgent' })] as const;
    const masked = args.map((a) => maskText(a, ctx).text);
    assert.deepEqual(masked, ['{"card":"[CREDIT_CARD]"}', '{"to":"[EMAIL]","note":"urgent"}']);
    for (let i = 0; i <= args[0].length; i++) {
      const j = Math.round((args[1].length * i) / args[0].length);
      const sse = toolCallStream(2, [
        [0, args[0].slice(0, i)],
        [1, args[1].slice(0, j)],
        [0, args[0].slice(i)],
        [1, args[1].slice(j)],
      ]);
      const cut = Math.floor((sse.length * i) / args[0].length);
      const r = run('openai tool call', [sse.slice(0, cut), sse.slice(cut)]);
      const where = `split at ${i}`;
      const streamed = argumentsByCall(r.bodies);
      for (const value of [PII.CREDIT_CARD!, PII.EMAIL!]) assert.ok(!r.out.includes(value) && !streamed.join('\n').includes(value), `${value} leaked, ${where}`);
      assert.deepEqual(streamed, masked, where);
      const opened = r.bodies.flatMap((b) => b.choices[0].delta.tool_calls ?? []).filter((t: any) => t.id);
      assert.deepEqual(opened.map((t: any) => [t.index, t.id, t.type, t.function.name]), [[0, 'call_0', 'function', 'pay'], [1, 'call_1', 'function', 'pay']], where);
      assert.equal(r.bodies.findIndex((b) => b.choices[0].finish_reason === 'tool_calls'), r.bodies.length - 1, `finish chunk last, ${where}`);
      assert.equal(r.events.at(-1)!.data, '[DONE]');
      assert.deepEqual(r.summary.maskedCounts, { CREDIT_CARD: 1, EMAIL: 1 }, where);
      assert.equal(r.summary.text, '', where);
    }
  });

  it('a chat stream cut before its finish chunk still sends the held arguments, in a tool call chunk', () => {
    const whole = toolCallStream(1, [[0, '{"card":"4111 1111 '], [0, '1111 1111']]);
    const r = run('openai tool call', [whole.slice(0, whole.lastIndexOf('data: {'))]);
    assert.deepEqual(argumentsByCall(r.bodies), ['{"card":"[CREDIT_CARD]']);
    assert.ok(!r.out.includes('1111 1111'), r.out);
    assert.deepEqual(r.bodies.at(-1).choices, [{ index: 0, finish_reason: null, delta: { tool_calls: [{ index: 0, function: { arguments: '[CREDIT_CARD]' } }] } }]);
    assert.equal(r.bodies.at(-1).model, 'm');
  });

  it('Anthropic: held thinking goes out before its signature, held tool input before its block stops; neither is answer text', () => {
    const sse = anthropicStream(
      anthropicBlock(0, 'thinking', ['The card is 4111 1111 ', '1111 1111']) + anthropicBlock(1, 'tool_use', ['{"to":"jane.roe@exa', 'mple.com"}']),
    );
    const r = run('anthropic thinking', [sse]);
    assert.ok(!r.out.includes('1111 1111') && !r.out.includes('jane.roe'), r.out);
    const positions = (type: string, index: number) => r.bodies.flatMap((b, i) => ((b.delta?.type ?? b.type) === type && b.index === index ? [i] : []));
    assert.equal(r.text, 'The card is [CREDIT_CARD]');
    assert.equal(r.bodies.map(anthropicText('tool_use')).join(''), '{"to":"[EMAIL]"}');
    assert.ok(positions('thinking_delta', 0).at(-1)! < positions('signature_delta', 0)[0]!, 'thinking after its signature');
    assert.ok(positions('input_json_delta', 1).at(-1)! < positions('content_block_stop', 1)[0]!, 'tool input after its block stopped');
    assert.equal(r.bodies[positions('signature_delta', 0)[0]!].delta.signature, 'EqQBCgIYAhIM');
    assert.deepEqual(r.summary.maskedCounts, { CREDIT_CARD: 1, EMAIL: 1 });
    assert.equal(r.summary.text, '');
  });

  it('a chat refusal is recorded as answer text, like the Responses API refusal', () => {
    const r = run('openai refusal', [openAiStream(['I will not repeat 4111 1111 ', '1111 1111'], 'refusal')]);
    assert.equal(r.text, 'I will not repeat [CREDIT_CARD]');
    assert.equal(r.summary.text, r.text);
  });
});

describe('stream summary and failures', () => {
  it('keeps a valid OpenAI stream shape: [DONE] last, held text before it', () => {
    const r = run('openai', [openAiStream(['card 4111 1111 ', '1111 1111'])]);
    assert.equal(r.events.at(-1)!.data, '[DONE]');
    assert.match(r.text, /\[CREDIT_CARD\]/);
    assert.equal(r.summary.maskedCounts.CREDIT_CARD, 1);
    assert.equal(r.summary.model, 'm');
  });

  it('Responses API: usage and model from response.completed, each masked value counted once', () => {
    const r = run('responses', [responsesStream(['card 4111 1111 ', '1111 1111 and ', 'jane.roe@exa', 'mple.com'])]);
    assert.equal(r.text, 'card [CREDIT_CARD] and [EMAIL]');
    assert.deepEqual(r.summary.usage, { promptTokens: 5, completionTokens: 9, totalTokens: 14 });
    assert.equal(r.summary.model, 'gpt-4o-mini');
    assert.deepEqual(r.summary.maskedCounts, { CREDIT_CARD: 1, EMAIL: 1 });
    assert.equal(r.summary.text, r.text);
  });

  it('Responses API: function call arguments are stream-masked and repeated as sent', () => {
    let sequence = 0;
    const ev = (data: Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify({ ...data, sequence_number: sequence++ })}\n\n`;
    const args = ['{"to":"jane.r', 'oe@example.com","ssn":"123-4', '5-6789"}'];
    const call = (status: string, a: string) => ({ id: 'fc_1', type: 'function_call', status, name: 'send', call_id: 'c1', arguments: a });
    const sse =
      ev({ type: 'response.output_item.added', output_index: 0, item: call('in_progress', '') }) +
      args.map((delta) => ev({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta })).join('') +
      ev({ type: 'response.function_call_arguments.done', item_id: 'fc_1', output_index: 0, arguments: args.join('') }) +
      ev({ type: 'response.output_item.done', output_index: 0, item: call('completed', args.join('')) });
    const r = run('responses', [sse]);
    assert.ok(!r.out.includes('jane.roe@example.com') && !r.out.includes('123-45-6789'), r.out);
    const streamed = r.bodies.filter((b) => b.type === 'response.function_call_arguments.delta').map((b) => b.delta).join('');
    assert.equal(streamed, '{"to":"[EMAIL]","ssn":"[US_SSN]"}');
    assert.equal(r.bodies.find((b) => b.type === 'response.function_call_arguments.done').arguments, streamed);
    assert.equal(r.bodies.find((b) => b.type === 'response.output_item.done').item.arguments, streamed);
    assert.deepEqual(r.bodies.map((b) => b.sequence_number), r.bodies.map((_, i) => i));
  });

  it('Responses API: a stream cut before its .done events still sends the held text, masked', () => {
    const whole = responsesStream(['my card is 4111 1111 ', '1111 1111']);
    const r = run('responses', [whole.slice(0, whole.indexOf('event: response.output_text.done'))]);
    assert.equal(r.text, 'my card is [CREDIT_CARD]');
    assert.ok(!r.out.includes('1111 1111'));
  });

  it('drops logprobs while masking: their tokens and bytes spell the value piece by piece', () => {
    const tokens = ['card', ' 4111', ' 1111', ' 1111', ' 1111', ' ok'];
    const logprobs = (token: string) => [{ token, logprob: -0.1, bytes: [...Buffer.from(token)], top_logprobs: [{ token, logprob: -0.1 }] }];
    const responses = responsesStream(tokens).replace(
      /"delta":("(?:[^"\\]|\\.)*"),"logprobs":\[\]/g,
      (_, delta: string) => `"delta":${delta},"logprobs":${JSON.stringify(logprobs(JSON.parse(delta)))}`,
    );
    assert.match(responses, /"token":" 4111"/);
    const chat = tokens
      .map((content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, logprobs: { content: logprobs(content) }, finish_reason: null }] })}\n\n`)
      .join('');
    for (const [api, sse] of [['responses', responses], ['openai', chat]] as const) {
      const r = run(api, [sse]);
      assert.equal(r.text, 'card [CREDIT_CARD] ok', api);
      assert.ok(!r.out.includes('4111') && !r.out.includes(String([...Buffer.from(' 1111')])), `${api}: ${r.out}`);
    }
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
