import { z } from 'zod';
import { Labels, Name } from './common.js';

export const ConnectionKind = z.enum(['postgres', 'http', 'llm', 'vector-http']);
export type ConnectionKind = z.infer<typeof ConnectionKind>;

/** Kinds served by the agent's HTTP listener (`/c/<connection>/...`). */
export const HTTP_CONNECTION_KINDS: readonly ConnectionKind[] = ['http', 'llm', 'vector-http'];

/**
 * How the agent presents the upstream credential: `authorization` + `Bearer ` (OpenAI and most
 * APIs), `x-api-key` + `` (Anthropic), `api-key` + `` (Qdrant, Azure OpenAI).
 */
const UpstreamAuth = z.strictObject({
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
    .transform((h) => h.toLowerCase()),
  prefix: z.string().max(32).default(''),
});

const httpOptionFields = {
  upstreamAuth: UpstreamAuth.optional(),
  /** Largest request body accepted from a client; bigger → 413. */
  maxRequestBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Mask PII in prompts/inputs before the upstream sees them. */
  maskRequests: z.boolean().optional(),
  /** Mask PII in JSON bodies and SSE streams before the client sees them. */
  maskResponses: z.boolean().default(true),
  /** JSON paths (`choices.*.message.content`) to mask; every string value when omitted. */
  maskJsonPaths: z.array(z.string().min(1).max(200)).max(50).optional(),
};

const Budgets = z.strictObject({
  windowSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  requests: z.number().int().min(1).optional(),
  tokens: z.number().int().min(1).optional(),
});

/** Per-kind options of HTTP connections, with the defaults the agent applies. */
export const HttpOptions = z.strictObject({ profile: z.literal('generic').default('generic'), ...httpOptionFields });
export const LlmOptions = z.strictObject({
  profile: z.enum(['openai-compatible', 'anthropic']).default('openai-compatible'),
  ...httpOptionFields,
  /** Models a client may ask for; any when omitted. */
  allowedModels: z.array(z.string().min(1).max(200)).max(200).optional(),
  /** Largest max_tokens / max_completion_tokens / max_output_tokens a request may ask for. */
  maxTokens: z.number().int().min(1).optional(),
  /** Per identity, per connection; tokens counted from the usage the API reports. */
  budgets: Budgets.optional(),
});
export const VectorHttpOptions = z.strictObject({ profile: z.literal('qdrant').default('qdrant'), ...httpOptionFields });

export type HttpOptions = z.infer<typeof HttpOptions>;
export type LlmOptions = z.infer<typeof LlmOptions>;
export type VectorHttpOptions = z.infer<typeof VectorHttpOptions>;
/** Options of any HTTP-served connection, defaults applied (see `parseHttpOptions`). */
export type HttpConnectionOptions = (
  | ({ kind: 'http' } & HttpOptions)
  | ({ kind: 'llm' } & LlmOptions)
  | ({ kind: 'vector-http' } & VectorHttpOptions)
) & { upstreamAuth: { header: string; prefix: string }; maskRequests: boolean };

const OPTION_SCHEMAS = { http: HttpOptions, llm: LlmOptions, 'vector-http': VectorHttpOptions } as const;

const DEFAULT_AUTH: Record<string, { header: string; prefix: string }> = {
  http: { header: 'authorization', prefix: 'Bearer ' },
  'openai-compatible': { header: 'authorization', prefix: 'Bearer ' },
  anthropic: { header: 'x-api-key', prefix: '' },
  qdrant: { header: 'api-key', prefix: '' },
};

/**
 * Validates an HTTP connection's options and fills in defaults (upstream auth header from the
 * profile; request masking on for llm). `{ok:false, problems}` names each field.
 */
export function parseHttpOptions(
  kind: ConnectionKind,
  options: unknown,
): { ok: true; options: HttpConnectionOptions } | { ok: false; problems: string[] } {
  if (kind === 'postgres') return { ok: false, problems: ['postgres connections have no HTTP options'] };
  const r = OPTION_SCHEMAS[kind].safeParse(options ?? {});
  if (!r.success) {
    return { ok: false, problems: r.error.issues.map((i) => `options.${i.path.join('.')}: ${i.message}`) };
  }
  const profile = r.data.profile === 'generic' ? 'http' : r.data.profile;
  return {
    ok: true,
    options: {
      ...r.data,
      kind,
      upstreamAuth: r.data.upstreamAuth ?? DEFAULT_AUTH[profile]!,
      maskRequests: r.data.maskRequests ?? kind === 'llm',
    } as HttpConnectionOptions,
  };
}

/**
 * Write-only credential. A secret reference is resolved by the agent from its own environment or
 * files; a value is sealed at rest in the control plane and never returned.
 */
export const CredentialInput = z.union([
  z.strictObject({
    secretRef: z
      .string()
      .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S+)$/, 'must be env:NAME or file:/absolute/path'),
  }),
  z.strictObject({ value: z.string().min(1, 'must not be empty').max(4096) }),
]);
export type CredentialInput = z.infer<typeof CredentialInput>;

const connectionFields = {
  name: Name,
  kind: ConnectionKind,
  target: z.string().min(1).max(2048),
  networkLabels: Labels.default(['default']),
  credential: CredentialInput.nullable().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
  description: z.string().max(500).optional(),
};

/**
 * What is wrong with a target for a kind, as messages about the `target` field. Targets carry no
 * secrets: a password in the URL would be returned by every read.
 */
export function targetProblems(kind: ConnectionKind, target: string): string[] {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return ['must be a URL'];
  }
  const problems: string[] = [];
  const protocols = kind === 'postgres' ? ['postgres:', 'postgresql:'] : ['http:', 'https:'];
  if (!protocols.includes(url.protocol)) problems.push(`must start with ${protocols.join(' or ')}//`);
  if (url.password) problems.push('must not contain a password; use credential');
  if (kind === 'postgres' && url.pathname.replace(/^\//, '') === '') problems.push('must name a database');
  return problems;
}

function checkTarget(
  c: { kind?: ConnectionKind; target?: string; options?: Record<string, unknown> },
  ctx: z.RefinementCtx,
): void {
  if (c.kind !== undefined && c.kind !== 'postgres' && c.options !== undefined) {
    const parsed = parseHttpOptions(c.kind, c.options);
    if (!parsed.ok) for (const message of parsed.problems) ctx.addIssue({ code: 'custom', path: ['options'], message });
  }
  if (c.target === undefined || c.kind === undefined) return;
  for (const message of targetProblems(c.kind, c.target)) ctx.addIssue({ code: 'custom', path: ['target'], message });
}

export const CreateConnection = z.strictObject(connectionFields).superRefine(checkTarget);
export type CreateConnection = z.infer<typeof CreateConnection>;

export const UpdateConnection = z
  .strictObject({
    kind: connectionFields.kind.optional(),
    target: connectionFields.target.optional(),
    networkLabels: Labels.optional(),
    credential: connectionFields.credential,
    options: z.record(z.string(), z.unknown()).optional(),
    description: connectionFields.description,
  })
  .superRefine(checkTarget);
export type UpdateConnection = z.infer<typeof UpdateConnection>;

export const CredentialView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('secretRef'), ref: z.string() }),
  z.object({ type: z.literal('value'), set: z.literal(true) }),
]);

export const ConnectionView = z.object({
  id: z.string(),
  name: z.string(),
  kind: ConnectionKind,
  target: z.string(),
  networkLabels: z.array(z.string()),
  credential: CredentialView.nullable(),
  options: z.record(z.string(), z.unknown()),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

export const ConnectionList = z.object({ items: z.array(ConnectionView) });
export type ConnectionList = z.infer<typeof ConnectionList>;

/**
 * POST /connections/:name/test: what one agent serving the connection got when it opened the
 * upstream as the data path would (credential injected, never returned). `ok` means the upstream
 * accepted the login (PostgreSQL) or answered without refusing the credential or failing (HTTP:
 * any status below 500 except 401, 403 and 407; the status line is in `detail`).
 */
export const ConnectionTestResult = z.object({
  connection: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  ok: z.boolean(),
  /** From the agent's first byte to the upstream's answer. */
  latencyMs: z.number(),
  /** The upstream's answer ("PostgreSQL 15.2, logged in as app", "HTTP 200 OK"); empty when it gave none. */
  detail: z.string(),
  /** Why it failed; `code` is a SQLSTATE, an errno code, an HTTP status or the agent's own. */
  error: z.object({ message: z.string(), code: z.string().nullable() }).nullable(),
  testedAt: z.string(),
});
export type ConnectionTestResult = z.infer<typeof ConnectionTestResult>;
