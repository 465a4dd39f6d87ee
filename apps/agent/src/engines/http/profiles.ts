import type { HttpConnectionOptions } from '@portcullis/api';
import { maskText, type EntityType, type MaskContext } from '@portcullis/policy';

/** Which API a connection speaks: decides error shapes, stream format and profile rules. */
export type ApiShape = 'openai' | 'anthropic' | 'qdrant' | 'generic';

export function apiShapeOf(options: HttpConnectionOptions | undefined): ApiShape {
  if (!options) return 'generic';
  if (options.kind === 'llm') return options.profile === 'anthropic' ? 'anthropic' : 'openai';
  if (options.kind === 'vector-http') return 'qdrant';
  return 'generic';
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
  502: 'upstream_error',
  503: 'service_unavailable',
};

/** An error body in the API's own shape, so the client's SDK shows the message. */
export function errorBody(shape: ApiShape, status: number, message: string, code: string): string {
  switch (shape) {
    case 'openai':
      return JSON.stringify({ error: { message, type: OPENAI_TYPES[status] ?? 'api_error', code } });
    case 'anthropic':
      return JSON.stringify({
        type: 'error',
        error: { type: status === 403 ? 'permission_error' : (OPENAI_TYPES[status] ?? 'api_error'), message },
      });
    case 'qdrant':
      return JSON.stringify({ status: { error: message }, time: 0 });
    default:
      return JSON.stringify({ error: message, code });
  }
}

/** A request refused by a profile rule or a connection option (rule id as in recordings). */
export interface RuleHit {
  ruleId: string;
  reason: string;
}

/**
 * Rules that come with the connection's profile and options, checked before the policy's own
 * rules. Guardrail ids can be relaxed in the policy (`guardrails.relax`), like SQL guardrails.
 */
export function profileRules(
  options: HttpConnectionOptions,
  method: string,
  path: string,
  body: any,
  hasBody: boolean,
  relaxed: ReadonlySet<string>,
  guardrailsOn: boolean,
): RuleHit | undefined {
  const segments = path.split('/').filter(Boolean);
  if (options.kind === 'vector-http' && guardrailsOn) {
    if (method === 'DELETE' && segments[0] === 'collections' && segments.length === 2 && !relaxed.has('vector-delete-collection')) {
      return { ruleId: 'guardrail:vector-delete-collection', reason: `deleting collection "${segments[1]}" is blocked` };
    }
    const pointsDelete =
      segments[0] === 'collections' && segments[2] === 'points' && (segments[3] === 'delete' || (method === 'DELETE' && segments.length === 3));
    if (pointsDelete && method !== 'GET' && !relaxed.has('vector-mass-delete') && !pinsPoints(body)) {
      return { ruleId: 'guardrail:vector-mass-delete', reason: 'a points delete must name point ids or a non-empty filter' };
    }
  }
  if (options.kind !== 'llm' || method !== 'POST') return undefined;
  if (hasBody && (options.allowedModels || options.maxTokens !== undefined) && (body === null || typeof body !== 'object')) {
    // A form or text body names its model where the agent does not look (multipart `model`).
    return { ruleId: 'llm:model-allow-list', reason: 'the request body is not a JSON object, so its model and token limit cannot be checked' };
  }
  if (body && typeof body === 'object') {
    if (options.allowedModels && !options.allowedModels.includes(String(body.model))) {
      return { ruleId: 'llm:model-allow-list', reason: `model "${String(body.model ?? '')}" is not allowed on this connection` };
    }
    if (options.maxTokens !== undefined) {
      for (const field of ['max_tokens', 'max_completion_tokens', 'max_output_tokens']) {
        const asked = body[field];
        if (typeof asked === 'number' && asked > options.maxTokens) {
          return { ruleId: 'llm:max-tokens', reason: `${field} ${asked} is over this connection's cap of ${options.maxTokens}` };
        }
      }
    }
  }
  return undefined;
}

function pinsPoints(body: any): boolean {
  if (!body || typeof body !== 'object') return false;
  if (Array.isArray(body.points) && body.points.length > 0) return true;
  const filter = body.filter ?? (body.points && !Array.isArray(body.points) ? body.points.filter : undefined);
  if (!filter || typeof filter !== 'object') return false;
  return ['must', 'should', 'must_not', 'min_should'].some((k) =>
    Array.isArray(filter[k]) ? filter[k].length > 0 : filter[k] !== undefined && filter[k] !== null,
  );
}

/**
 * Masks the prompt fields of an LLM request in place: `messages[].content` (text or text parts),
 * Anthropic's `system`, `prompt`, and `input` (string, list, or Responses API items).
 */
export function maskLlmRequest(body: any, ctx: MaskContext, counts: Map<EntityType, number>): void {
  if (!body || typeof body !== 'object') return;
  const mask = (s: string) => {
    const r = maskText(s, ctx);
    for (const f of r.findings) counts.set(f.entity, (counts.get(f.entity) ?? 0) + 1);
    return r.text;
  };
  const maskContent = (holder: any, key: string) => {
    const v = holder[key];
    if (typeof v === 'string') holder[key] = mask(v);
    else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const part = v[i];
        if (typeof part === 'string') v[i] = mask(part);
        else if (part && typeof part === 'object') {
          if (typeof part.text === 'string') part.text = mask(part.text);
          if (part.content !== undefined) maskContent(part, 'content');
        }
      }
    }
  };
  if (Array.isArray(body.messages)) for (const m of body.messages) if (m && typeof m === 'object') maskContent(m, 'content');
  for (const key of ['system', 'prompt', 'input', 'instructions']) if (body[key] !== undefined) maskContent(body, key);
}

/** What stands in for dropped log probabilities: the same JSON type, empty. */
export function withoutLogprobs(logprobs: unknown): [] | null {
  return Array.isArray(logprobs) ? [] : null;
}

/**
 * Log probabilities spell an answer token by token ("4111", " 1111", ...), pieces in which no
 * detector can see a whole value, so a masked answer carries none: every `logprobs` (choices of
 * chat and completions, Responses output content) is emptied in place, keeping its JSON type.
 */
export function dropLogprobs(body: unknown, depth = 0): void {
  if (depth > 32 || body === null || typeof body !== 'object') return;
  if (Array.isArray(body)) {
    for (const item of body) dropLogprobs(item, depth + 1);
    return;
  }
  const holder = body as Record<string, unknown>;
  for (const key of Object.keys(holder)) {
    if (key === 'logprobs') holder[key] = withoutLogprobs(holder[key]);
    else dropLogprobs(holder[key], depth + 1);
  }
}

/** Token usage as the API reports it (OpenAI and Anthropic spellings). */
export function usageOf(body: any): { promptTokens?: number; completionTokens?: number; totalTokens?: number } | undefined {
  const u = body?.usage;
  if (!u || typeof u !== 'object') return undefined;
  return {
    promptTokens: u.prompt_tokens ?? u.input_tokens,
    completionTokens: u.completion_tokens ?? u.output_tokens,
    totalTokens: u.total_tokens,
  };
}

export function totalTokens(u: ReturnType<typeof usageOf>): number {
  if (!u) return 0;
  return u.totalTokens ?? (u.promptTokens ?? 0) + (u.completionTokens ?? 0);
}
