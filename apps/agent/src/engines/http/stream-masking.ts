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
 * Masks an SSE stream of an LLM API and re-emits valid events. Each text delta goes through its
 * own choice's (or content block's, or Responses API part's) stream masker, so a value split
 * across events and chunks is never sent unmasked; held-back text goes out in a later event of
 * the same choice and is flushed at finish_reason / [DONE] / content_block_stop / a part's
 * `.done` / end of stream. Events this code does not know are masked whole (maskJson). A
 * malformed event ends the stream with an error event in the API's own shape.
 */
export function createMaskedStream(profile: StreamProfile, ctx: MaskContext | undefined): MaskedStream {
  const maskers = new Map<string, StreamMasker>();
  const counts = new Map<EntityType, number>();
  let out = '';
  let text = '';
  let events = 0;
  let failed = false;
  let malformed: string | undefined;
  let usage: StreamSummary['usage'];
  let model: string | undefined;
  // The last OpenAI chunk seen, as the template of chunks the agent adds (held text at the end).
  let template: Record<string, unknown> | undefined;
  let textField: 'content' | 'text' = 'content';
  let lastEnvelope = '';
  let maskedEnvelope = '{}';

  const assemble = (s: string) => {
    if (text.length < MAX_ASSEMBLED) text += s.slice(0, MAX_ASSEMBLED - text.length);
  };
  const maskerFor = (key: string) => {
    let m = maskers.get(key);
    if (!m && ctx) maskers.set(key, (m = createStreamMasker(ctx)));
    return m;
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
    template = rest;
    const masked = choices.map(maskChoice);
    // The envelope (id, object, model...) repeats in every chunk: masked once per distinct value.
    const envelope = JSON.stringify(rest);
    if (envelope !== lastEnvelope) {
      lastEnvelope = envelope;
      maskedEnvelope = ctx ? JSON.stringify(maskWhole(rest)) : envelope;
    }
    const choicesJson = JSON.stringify(masked);
    const data = maskedEnvelope === '{}' ? `{"choices":${choicesJson}}` : `${maskedEnvelope.slice(0, -1)},"choices":${choicesJson}}`;
    emit({ event: event.event, id: event.id, data });
  }

  function maskChoice(choice: any): unknown {
    if (choice === null || typeof choice !== 'object') return choice;
    const key = String(choice.index ?? 0);
    const isChat = choice.delta !== null && typeof choice.delta === 'object';
    textField = isChat ? 'content' : 'text';
    const raw: unknown = isChat ? choice.delta.content : choice.text;
    const m = maskerFor(key);
    let piece = typeof raw === 'string' && m ? m.push(raw) : raw;
    if (choice.finish_reason != null && m) {
      const held = m.end();
      addCounts(m);
      maskers.delete(key);
      if (held) piece = (typeof piece === 'string' ? piece : '') + held;
    }
    if (typeof piece === 'string') assemble(piece);
    // The rest of the choice (tool call arguments, refusals) is masked whole; logprobs are dropped
    // while masking, as their tokens and bytes spell the unmasked text piece by piece.
    if (ctx && choice.logprobs != null) choice = { ...choice, logprobs: withoutLogprobs(choice.logprobs) };
    if (isChat) {
      const { content: _content, ...delta } = choice.delta;
      const result = maskWhole({ ...choice, delta }) as any;
      if (piece !== undefined) result.delta.content = piece;
      return result;
    }
    const { text: _text, ...others } = choice;
    const result = maskWhole(others) as any;
    if (piece !== undefined) result.text = piece;
    return result;
  }

  /** Sends what each open choice still holds, as one more chunk per choice. */
  function flushOpenAi(): void {
    for (const [key, m] of maskers) {
      const held = m.end();
      addCounts(m);
      if (!held) continue;
      assemble(held);
      const piece = textField === 'text' ? { index: Number(key), text: held, finish_reason: null } : { index: Number(key), delta: { content: held }, finish_reason: null };
      emit({ data: JSON.stringify({ ...(template ?? {}), choices: [piece] }) });
    }
    maskers.clear();
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
    const key = String(body.index ?? 0);
    if (body.type === 'content_block_delta' && body.delta?.type === 'text_delta' && typeof body.delta.text === 'string') {
      const m = maskerFor(key);
      const piece = m ? m.push(body.delta.text) : body.delta.text;
      assemble(piece);
      return emit({ event: event.event, id: event.id, data: JSON.stringify({ ...body, delta: { ...body.delta, text: piece } }) });
    }
    if (body.type === 'content_block_stop' || body.type === 'message_stop') flushAnthropic(body.type === 'message_stop' ? undefined : key);
    emit({ event: event.event, id: event.id, data: JSON.stringify(maskWhole(body)) });
  }

  function flushAnthropic(only: string | undefined): void {
    for (const [key, m] of [...maskers]) {
      if (only !== undefined && key !== only) continue;
      const held = m.end();
      addCounts(m);
      maskers.delete(key);
      if (!held) continue;
      assemble(held);
      emit({
        event: 'content_block_delta',
        data: JSON.stringify({ type: 'content_block_delta', index: Number(key), delta: { type: 'text_delta', text: held } }),
      });
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
      if (profile === 'anthropic') flushAnthropic(undefined);
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
