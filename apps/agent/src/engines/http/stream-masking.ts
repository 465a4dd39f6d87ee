import { createStreamMasker, maskJson, maskText, type EntityType, type MaskContext, type StreamMasker } from '@portcullis/policy';
import { createSseParser, DEFAULT_MAX_SSE_LINE, formatSse, type SseEvent } from './sse.js';
import { withoutLogprobs } from './profiles.js';

export type StreamProfile = 'openai' | 'anthropic' | 'generic';

/** What a masked stream reports once it has ended (for the recording). */
export interface StreamSummary {
  /** The masked text the client received, assembled across events (capped by the caller). */
  text: string;
  events: number;
  usage?: { promptTokens?: number; completionTokens?: number; totalTokens?: number };
  model?: string;
  /** Set when the stream was cut because the upstream sent something that is not valid. */
  malformed?: string;
  maskedCounts: Partial<Record<EntityType, number>>;
}

export interface MaskedStream {
  /** Next decoded chunk from upstream → SSE text to send now (may be ""). */
  push(chunk: string): string;
  /** Upstream ended: the held-back text, re-wrapped as valid events. */
  end(): string;
  /** True once the stream was ended by a malformed event; push/end then return "". */
  readonly failed: boolean;
  summary(): StreamSummary;
}

const MAX_ASSEMBLED = 64 * 1024;
/** Full texts of finished Responses API parts remembered for the `.done` / `completed` events. */
const MAX_FINISHED = 4 * 1024 * 1024;
/** Responses API deltas that are not text: passed on whole, never re-split. */
const BINARY_DELTAS = new Set(['response.audio.delta']);
/** Responses API events that close every part of the response still open. */
const RESPONSE_END = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * One streamed text of a chat choice or Anthropic content block: the answer, a refusal, a tool
 * call's arguments, thinking. Its own stream masker holds back a tail that could still become a match.
 */
interface StreamedText {
  masker: StreamMasker;
  /** The choice's or content block's index, for the chunk or event that carries held text. */
  index: number;
  /** Whether the recording keeps it as the answer (not arguments or thinking, as for the Responses API). */
  answer: boolean;
  /** Adds a masked piece of it to a choice (OpenAI) or event (Anthropic), creating the fields it needs. */
  append(target: Record<string, any>, piece: string): void;
}
type TextKind = Omit<StreamedText, 'masker'>;

/** Anthropic content block deltas that carry streamed text, and the field that carries it. */
const ANTHROPIC_TEXTS = new Map([
  ['text_delta', { field: 'text', answer: true }],
  ['input_json_delta', { field: 'partial_json', answer: false }],
  ['thinking_delta', { field: 'thinking', answer: false }],
]);

/** Adds `piece` to the text at `path` in `target`, making the objects on the way. */
function appendAt(target: Record<string, any>, path: string[], piece: string): void {
  const [field, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    target[field] = (typeof target[field] === 'string' ? target[field] : '') + piece;
    return;
  }
  if (target[field] === null || typeof target[field] !== 'object') target[field] = {};
  appendAt(target[field], rest, piece);
}

/** One streamed text of a Responses API event stream (an output_text, refusal, arguments...). */
interface ResponsesPart {
  family: string;
  masker?: StreamMasker;
  /** Upstream text so far (undefined once over the SSE event limit: too long to be repeated). */
  raw: string | undefined;
  /** What the client got so far. */
  masked: string;
  /** SSE event name and identifying fields of the last delta, for the delta the agent adds. */
  event?: string;
  ids: Record<string, unknown>;
  envelope: string;
  maskedEnvelope: Record<string, unknown>;
}

/**
 * Masks an SSE stream of an LLM API and re-emits valid events. Each streamed text (a choice's
 * content, refusal or tool call arguments, a content block's text, tool input or thinking, a
 * Responses API part) goes through its own stream masker, so a value split across events and
 * chunks is never sent unmasked; held-back text goes out in a later event of the same text and is
 * flushed at finish_reason / [DONE] / a block's signature or content_block_stop / a part's
 * `.done` / end of stream. Events this code does not know are masked whole (maskJson). A
 * malformed event ends the stream with an error event in the API's own shape.
 */
export function createMaskedStream(profile: StreamProfile, ctx: MaskContext | undefined): MaskedStream {
  const openTexts = new Map<string, StreamedText>();
  const counts = new Map<EntityType, number>();
  let out = '';
  let text = '';
  let events = 0;
  let failed = false;
  let malformed: string | undefined;
  let usage: StreamSummary['usage'];
  let model: string | undefined;
  let lastEnvelope = '';
  let maskedEnvelope = '{}';

  const assemble = (s: string) => {
    if (text.length < MAX_ASSEMBLED) text += s.slice(0, MAX_ASSEMBLED - text.length);
  };
  const emit = (event: Omit<SseEvent, 'retry'>) => {
    events++;
    out += formatSse(event);
  };
  const maskWhole = (value: unknown) => (ctx ? maskJson(value, ctx, counts) : value);

  const parser = createSseParser(onEvent, (error) => fail(error.message));

  function fail(reason: string): void {
    if (failed) return;
    failed = true;
    malformed = reason;
    const message = `the upstream sent a malformed event (${reason}); the agent ended this stream`;
    if (profile === 'anthropic')
      emit({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message } }) });
    else emit({ data: JSON.stringify({ error: { message, type: 'upstream_error', code: 'malformed_sse' } }) });
  }

  function onEvent(event: SseEvent): void {
    if (failed) return;
    if (profile === 'generic') {
      // Generic streams have no known text fields: each event's data is masked whole.
      let data = event.data;
      if (ctx) {
        const r = maskText(data, ctx);
        for (const f of r.findings) counts.set(f.entity, (counts.get(f.entity) ?? 0) + 1);
        data = r.text;
      }
      assemble(data);
      return emit({ event: event.event, id: event.id, data });
    }
    if (event.data === '[DONE]') {
      flushOpenAi();
      return emit({ event: event.event, id: event.id, data: '[DONE]' });
    }
    let body: any;
    try {
      body = JSON.parse(event.data);
    } catch {
      return fail('event data is not JSON');
    }
    if (body === null || typeof body !== 'object') return fail('event data is not a JSON object');
    if (profile === 'openai') onOpenAi(event, body);
    else onAnthropic(event, body);
  }

  function onOpenAi(event: SseEvent, chunk: any): void {
    // Responses API events carry a type (`response.*`, `error`); completion chunks do not.
    if (typeof chunk.type === 'string' && !Array.isArray(chunk.choices)) return onResponses(event, chunk);
    if (typeof chunk.model === 'string') model = chunk.model;
    if (chunk.usage) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens ?? chunk.usage.input_tokens,
        completionTokens: chunk.usage.completion_tokens ?? chunk.usage.output_tokens,
        totalTokens: chunk.usage.total_tokens,
      };
    }
    if (!Array.isArray(chunk.choices)) {
      // Not a completion chunk (an error object): masked whole.
      return emit({ event: event.event, id: event.id, data: JSON.stringify(maskWhole(chunk)) });
    }
    const { choices, ...rest } = chunk;
    const masked = choices.map(maskChoice);
    // The envelope (id, object, model...) repeats in every chunk: masked once per distinct value.
    const envelope = JSON.stringify(rest);
    if (envelope !== lastEnvelope) {
      lastEnvelope = envelope;
      maskedEnvelope = ctx ? JSON.stringify(maskWhole(rest)) : envelope;
    }
    emit({ event: event.event, id: event.id, data: chunkData(masked) });
  }

  /** A completion chunk with these choices, in the masked envelope of the last chunk. */
  function chunkData(choices: unknown[]): string {
    const choicesJson = JSON.stringify(choices);
    return maskedEnvelope === '{}' ? `{"choices":${choicesJson}}` : `${maskedEnvelope.slice(0, -1)},"choices":${choicesJson}}`;
  }

  function maskChoice(choice: any): unknown {
    if (choice === null || typeof choice !== 'object') return choice;
    const index = Number(choice.index ?? 0);
    // Logprobs are dropped while masking, as their tokens and bytes spell the unmasked text piece by piece.
    if (ctx && choice.logprobs != null) choice.logprobs = withoutLogprobs(choice.logprobs);
    const found = takeChoiceTexts(choice, index);
    // What is left (role, tool call ids and names...) is masked whole.
    const result = maskWhole(choice) as Record<string, any>;
    for (const [key, kind, raw] of found) kind.append(result, pushText(key, kind, raw));
    // The chunk that finishes a choice is its last: what its texts still hold goes out in it.
    if (choice.finish_reason != null) endTexts((t) => t.index === index, (t, held) => t.append(result, held));
    return result;
  }

  /**
   * Takes the streamed texts out of a choice (parsed from this event, so it is ours to change):
   * [masker key, kind, text]. Tool calls are told apart by their own index, which every chunk of
   * a call repeats.
   */
  function takeChoiceTexts(choice: any, index: number): Array<[string, TextKind, string]> {
    const found: Array<[string, TextKind, string]> = [];
    const take = (from: any, field: string, key: string, kind: TextKind) => {
      if (from === null || typeof from !== 'object' || typeof from[field] !== 'string') return;
      found.push([key, kind, from[field]]);
      delete from[field];
    };
    const at = (path: string[]) => (c: Record<string, any>, piece: string) => appendAt(c, path, piece);
    const delta = choice.delta;
    if (delta === null || typeof delta !== 'object') {
      take(choice, 'text', `${index}:text`, { index, answer: true, append: at(['text']) });
      return found;
    }
    for (const field of ['content', 'refusal']) take(delta, field, `${index}:${field}`, { index, answer: true, append: at(['delta', field]) });
    take(delta.function_call, 'arguments', `${index}:function_call`, { index, answer: false, append: at(['delta', 'function_call', 'arguments']) });
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      const n = call?.index;
      // Held text may go out in a chunk without this call (the finish chunk, a flush): it gets its own entry.
      const append = (c: Record<string, any>, piece: string) => {
        const d = (c.delta ??= {});
        if (!Array.isArray(d.tool_calls)) d.tool_calls = [];
        let entry = d.tool_calls.find((e: any) => e?.index === n);
        if (!entry) d.tool_calls.push((entry = { index: n }));
        appendAt(entry, ['function', 'arguments'], piece);
      };
      take(call?.function, 'arguments', `${index}:tool_call:${n}`, { index, answer: false, append });
    }
    return found;
  }

  /** Sends what each open text still holds, as one more chunk of its choice. */
  function flushOpenAi(): void {
    endTexts(
      () => true,
      (t, held) => {
        const choice = { index: t.index, finish_reason: null };
        t.append(choice, held);
        emit({ data: chunkData([choice]) });
      },
    );
  }

  // Responses API (`POST /v1/responses`, stream: true): typed events. Text arrives as
  // `<family>.delta` events (family = response.output_text, response.refusal,
  // response.function_call_arguments...) and is repeated whole by `<family>.done`,
  // `content_part.done`, `output_item.done` and `response.completed`. Each part's deltas go
  // through its own stream masker; the repeats get exactly the text the client was sent, so
  // deltas and full texts agree. The agent adds delta events (held text), so it renumbers
  // `sequence_number` to keep it gapless and increasing.
  const parts = new Map<string, ResponsesPart>();
  const finished = new Map<string, string>();
  let finishedSize = 0;
  let sequence: number | undefined;

  const partKey = (family: string, e: any) => `${family}:${e.output_index ?? ''}:${e.content_index ?? ''}:${e.summary_index ?? ''}`;

  function emitResponses(event: string | undefined, id: string | undefined, body: Record<string, unknown>): void {
    if (typeof body.sequence_number === 'number') {
      sequence ??= body.sequence_number;
      body.sequence_number = sequence++;
    }
    emit({ event, id, data: JSON.stringify(body) });
  }

  function onResponses(event: SseEvent, body: any): void {
    const type: string = body.type;
    if (body.response && typeof body.response === 'object') {
      if (typeof body.response.model === 'string') model = body.response.model;
      const u = body.response.usage;
      if (u && typeof u === 'object') usage = { promptTokens: u.input_tokens, completionTokens: u.output_tokens, totalTokens: u.total_tokens };
    }
    if (type.endsWith('.delta') && typeof body.delta === 'string' && !BINARY_DELTAS.has(type)) {
      return onResponsesDelta(event, body, type.slice(0, -'.delta'.length));
    }
    // A part's own `.done`, then the events that close a content part, an item, or everything.
    if (type.endsWith('.done')) flushResponses((_, key) => key === partKey(type.slice(0, -'.done'.length), body));
    if (type === 'response.content_part.done')
      flushResponses((p) => p.ids.output_index === body.output_index && p.ids.content_index === body.content_index);
    if (type === 'response.output_item.done') flushResponses((p) => p.ids.output_index === body.output_index);
    if (RESPONSE_END.has(type)) flushResponses(() => true);
    if (BINARY_DELTAS.has(type)) {
      // Base64 audio, not text: detectors would only find false matches in it and corrupt it.
      const { delta, ...rest } = body;
      return emitResponses(event.event, event.id, { ...(maskRepeated(rest) as Record<string, unknown>), delta });
    }
    emitResponses(event.event, event.id, maskRepeated(body) as Record<string, unknown>);
  }

  function onResponsesDelta(event: SseEvent, body: any, family: string): void {
    const key = partKey(family, body);
    const { delta, sequence_number: _sequence, ...rest } = body;
    let part = parts.get(key);
    if (!part) {
      part = { family, masker: ctx && createStreamMasker(ctx), raw: '', masked: '', ids: {}, envelope: '', maskedEnvelope: {} };
      parts.set(key, part);
    }
    const piece: string = part.masker ? part.masker.push(delta) : delta;
    part.raw = part.raw !== undefined && part.raw.length + delta.length <= DEFAULT_MAX_SSE_LINE ? part.raw + delta : undefined;
    part.masked += piece;
    part.event = event.event;
    // The rest of the event (ids, logprobs) repeats: masked once per distinct value.
    const envelope = JSON.stringify(rest);
    if (envelope !== part.envelope) {
      part.envelope = envelope;
      part.maskedEnvelope = maskRepeated(rest) as Record<string, unknown>;
      const { type, item_id, output_index, content_index, summary_index } = rest;
      part.ids = { type, item_id, output_index, content_index, summary_index };
    }
    if (family === 'response.output_text' || family === 'response.refusal') assemble(piece);
    const out: Record<string, unknown> = { ...part.maskedEnvelope, delta: piece };
    if (typeof body.sequence_number === 'number') out.sequence_number = body.sequence_number;
    emitResponses(event.event, event.id, out);
  }

  /** Ends the parts `which` selects: their held text goes out as one more delta each. */
  function flushResponses(which: (part: ResponsesPart, key: string) => boolean): void {
    for (const [key, part] of [...parts]) {
      if (!which(part, key)) continue;
      parts.delete(key);
      const held = part.masker?.end() ?? '';
      if (part.masker) addCounts(part.masker);
      if (held) {
        part.masked += held;
        if (part.family === 'response.output_text' || part.family === 'response.refusal') assemble(held);
        const out: Record<string, unknown> = { ...part.ids, delta: held };
        if ('logprobs' in part.maskedEnvelope) out.logprobs = [];
        if (sequence !== undefined) out.sequence_number = 0; // renumbered by emitResponses
        emitResponses(part.event, undefined, out);
      }
      if (part.raw !== undefined && finishedSize + part.raw.length <= MAX_FINISHED) {
        finished.set(part.raw, part.masked);
        finishedSize += part.raw.length;
      }
    }
  }

  /**
   * Masks an event whole, except that a full text the client already got in deltas reads as sent,
   * and logprobs are emptied: their tokens and bytes spell the unmasked text piece by piece.
   */
  function maskRepeated(value: unknown): unknown {
    if (!ctx) return value;
    if (typeof value === 'string') return finished.get(value) ?? maskWhole(value);
    if (Array.isArray(value)) return value.map(maskRepeated);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = k === 'logprobs' ? withoutLogprobs(v) : maskRepeated(v);
      return out;
    }
    return maskWhole(value);
  }

  function onAnthropic(event: SseEvent, body: any): void {
    if (body.type === 'message_start' && typeof body.message?.model === 'string') model = body.message.model;
    if (body.usage || body.message?.usage) {
      const u = body.usage ?? body.message.usage;
      usage = {
        promptTokens: u.input_tokens ?? usage?.promptTokens,
        completionTokens: u.output_tokens ?? usage?.completionTokens,
      };
    }
    const index = Number(body.index ?? 0);
    const streamed = body.type === 'content_block_delta' ? ANTHROPIC_TEXTS.get(body.delta?.type) : undefined;
    if (streamed && typeof body.delta[streamed.field] === 'string') {
      const { type, [streamed.field]: raw, ...rest } = body.delta;
      const append = (e: Record<string, any>, piece: string) => appendAt((e.delta ??= { type }), [streamed.field], piece);
      const out = { ...body, delta: { type, ...rest } };
      append(out, pushText(`${index}:${type}`, { index, answer: streamed.answer, append }, raw));
      return emit({ event: event.event, id: event.id, data: JSON.stringify(out) });
    }
    // A thinking block's signature closes its thinking: the held thinking goes out before it.
    if (body.type === 'content_block_stop' || body.delta?.type === 'signature_delta') flushAnthropic((t) => t.index === index);
    if (body.type === 'message_stop') flushAnthropic(() => true);
    emit({ event: event.event, id: event.id, data: JSON.stringify(maskWhole(body)) });
  }

  /** Sends what the texts `which` selects still hold, as one more delta of their content block. */
  function flushAnthropic(which: (t: StreamedText) => boolean): void {
    endTexts(which, (t, held) => {
      const body = { type: 'content_block_delta', index: t.index };
      t.append(body, held);
      emit({ event: 'content_block_delta', data: JSON.stringify(body) });
    });
  }

  /** Masks the next piece of a streamed text; its first piece opens it with its own masker. */
  function pushText(key: string, kind: TextKind, raw: string): string {
    let t = openTexts.get(key);
    if (!t && ctx) openTexts.set(key, (t = { ...kind, masker: createStreamMasker(ctx) }));
    const piece = t ? t.masker.push(raw) : raw;
    if (kind.answer) assemble(piece);
    return piece;
  }

  /** Ends the texts `which` selects; `send` gets what each one still held, masked, if anything. */
  function endTexts(which: (t: StreamedText) => boolean, send: (t: StreamedText, held: string) => void): void {
    for (const [key, t] of [...openTexts]) {
      if (!which(t)) continue;
      openTexts.delete(key);
      const held = t.masker.end();
      addCounts(t.masker);
      if (!held) continue;
      if (t.answer) assemble(held);
      send(t, held);
    }
  }

  function addCounts(m: StreamMasker): void {
    for (const [entity, n] of Object.entries(m.counts()) as Array<[EntityType, number]>) counts.set(entity, (counts.get(entity) ?? 0) + n);
  }

  const take = () => {
    const s = out;
    out = '';
    return s;
  };

  return {
    push(chunk) {
      if (failed) return '';
      parser.feed(chunk);
      return take();
    },
    end() {
      if (failed) return take();
      parser.end();
      if (profile === 'anthropic') flushAnthropic(() => true);
      else {
        flushOpenAi();
        flushResponses(() => true);
      }
      return take();
    },
    get failed() {
      return failed;
    },
    summary() {
      return { text, events, usage, model, malformed, maskedCounts: Object.fromEntries(counts) };
    },
  };
}
