import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Pool } from 'undici';
import { HTTP_CONNECTION_KINDS, parseHttpOptions, type ConnectionKind, type HttpConnectionOptions } from '@portcullis/api';
import {
  compilePolicy,
  createMaskContext,
  decide,
  maskContextFor,
  maskAndCount,
  maskJson,
  maskText,
  type CompiledPolicy,
  type EntityType,
  type MaskContext,
} from '@portcullis/policy';
import type { ConfigSnapshot, Connection, Decision as RecordedDecision, Statement } from '@portcullis/proto';
import { checkAccess } from '../../identity/access-check.js';
import type { TokenVerifier, VerifiedIdentity } from '../../identity/token-verifier.js';
import type { ActivePolicy } from '../../policy/active-policy.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { SnapshotSource } from '../../snapshot/snapshot-source.js';
import { listenOn, type Engine } from '../engine.js';
import { RequestBudgets } from './budgets.js';
import { apiShapeOf, dropLogprobs, errorBody, maskLlmRequest, profileRules, totalTokens, usageOf, type ApiShape } from './profiles.js';
import { createMaskedStream, type StreamSummary } from './stream-masking.js';

export interface HttpEngineOptions {
  host: string;
  port: number;
  snapshots: SnapshotSource;
  verifier: TokenVerifier;
  recorder: Recorder;
  /** The upstream credential of a connection (API key), injected per the connection's options. */
  resolveCredential: (connection: Connection) => string | undefined;
  /** The policy in force; a default (allow, mask by connection options) when absent. */
  policy?: ActivePolicy;
  expiryGraceMs?: number;
  /** Cap of request/response bodies and assembled SSE text in recordings. Default 64 KiB. */
  recordingBytes?: number;
  /** Largest upstream JSON/text body the agent buffers to mask. Default 32 MiB. */
  maxResponseBytes?: number;
  metrics?: Registry;
  logger?: Logger;
  now?: () => Date;
}

/** The default when no policy is pushed: allow, masking as the connection's options say. */
const DEFAULT_POLICY: CompiledPolicy = compilePolicy({ version: 0, defaultAction: 'allow' });

// RFC 9110 §7.6.1 plus the headers the agent owns (credentials, framing it recomputes).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const TRACE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A refusal answered in the API's own error shape. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly ruleId?: string,
  ) {
    super(message);
  }
}

/** Where a connection's requests go: a keep-alive pool per origin, and the base URL's path. */
interface Upstream {
  pool: Pool;
  basePath: string;
}

/** A recorded session: one per client TCP connection, identity and connection (see README). */
interface HttpSession {
  id: string;
  socket: Socket;
  identity: VerifiedIdentity;
  connectionName: string;
  statements: number;
  expiry?: NodeJS.Timeout;
}

/**
 * The HTTP engine: `/c/<connection>/<path>` is proxied to the connection's base URL with the
 * client's bearer token checked (as on PostgreSQL), its credential replaced by the upstream one,
 * prompts masked on the way up and answers (JSON and SSE) on the way down, profile guardrails and
 * the policy applied, and every request/response pair recorded.
 */
export class HttpEngine implements Engine {
  readonly protocol = 'http' as const;
  private readonly server: http.Server;
  private readonly sessions = new Map<string, HttpSession>();
  private readonly socketSessions = new Map<Socket, Map<string, HttpSession>>();
  private readonly pools = new Map<string, Pool>();
  private readonly optionsCache = new WeakMap<Connection, HttpConnectionOptions | string>();
  private readonly targets = new WeakMap<Connection, Upstream>();
  private readonly budgets = new RequestBudgets();
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly metrics: ReturnType<typeof createMetrics>;
  private readonly recordingBytes: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpEngineOptions) {
    this.log = options.logger ?? pino({ enabled: false });
    this.now = options.now ?? (() => new Date());
    this.metrics = createMetrics(options.metrics);
    this.recordingBytes = options.recordingBytes ?? 64 * 1024;
    this.maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
    this.server = http.createServer({ keepAlive: true, keepAliveTimeout: 65_000, requestTimeout: 300_000 }, (req, res) =>
      this.handle(req, res).catch((error: unknown) => {
        this.log.error({ err: (error as Error).message }, 'http request failed');
        if (!res.headersSent) this.send(res, 'generic', new Refusal(500, 'internal error in the agent', 'internal_error'));
        else res.destroy();
      }),
    );
    this.server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      socket.once('close', () => this.socketClosed(socket));
    });
    options.snapshots.onApplied((next) => this.recheckSessions(next));
  }

  listen(): Promise<{ host: string; port: number }> {
    return listenOn(this.server, this.options, this.log, 'http');
  }

  /** Closes the subject's keep-alive sockets, in-flight requests and streams included. */
  endSessionsOf(subject: string, reason: string): number {
    let ended = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.identity.subject !== subject) continue;
      this.kill(session, reason);
      ended++;
    }
    return ended;
  }

  liveSessions(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }

  // ------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const match = /^\/c\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
    const connectionName = match ? decodeSafe(match[1]!) : '';
    const snapshot = this.options.snapshots.current();
    const connection = snapshot?.connections.find((c) => c.name === connectionName && isHttpKind(c.kind));
    const parsed = connection ? this.connectionOptions(connection) : undefined;
    const shape = apiShapeOf(typeof parsed === 'object' ? parsed : undefined);
    const traceId = traceIdOf(req);
    res.setHeader('x-portcullis-trace', traceId);

    if (!match || !connection) {
      this.metrics.requests.inc({ outcome: 'refused' });
      return this.send(res, shape, new Refusal(404, `connection "${connectionName || url.split('?')[0]}" does not exist`, 'unknown_connection'), true);
    }
    if (typeof parsed === 'string') {
      return this.send(res, shape, new Refusal(502, `connection "${connection.name}" is misconfigured: ${parsed}`, 'misconfigured'));
    }
    const options = parsed!;

    // Authentication, exactly as the PostgreSQL engine: same verifier and access check.
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? bareKey(req, options);
    if (!token) return this.unauthorized(res, shape, 'an access token is required (Authorization: Bearer <token>)');
    // A token verified before is taken without a promise in between (the keep-alive case).
    let identity = this.options.verifier.knownIdentity(token);
    if (!identity) {
      const verification = await this.options.verifier.verify(token);
      if (!verification.ok) return this.unauthorized(res, shape, verification.reason);
      identity = verification.identity;
    }
    if (identity.expiresAt.getTime() + (this.options.expiryGraceMs ?? 0) <= Date.now())
      return this.unauthorized(res, shape, 'token expired');
    const access = checkAccess(httpView(snapshot), identity, connection.name, 'http', this.now());
    if (!access.ok) {
      this.metrics.requests.inc({ outcome: 'refused' });
      const status = access.kind === 'unknown-connection' ? 404 : 403;
      this.recordRefusal(req, identity, connection.name, traceId, access.reason);
      return this.send(res, shape, new Refusal(status, access.reason, access.kind.replace('-', '_')), true);
    }
    if (!this.options.recorder.accepting()) {
      return this.send(res, shape, new Refusal(503, 'recording is unavailable on this agent; requests are refused until it recovers', 'recording_unavailable'));
    }

    const session = this.sessionFor(req.socket, identity, connection.name, traceId, req);
    // One spelling of the path for the policy, the recording and the upstream alike.
    const path = normalizePath(match[2] || '/');
    const query = match[3] ?? '';
    const method = (req.method ?? 'GET').toUpperCase();
    const record = new RequestRecord(method, path, traceId, this.recordingBytes);
    const finish = (status: number, decision: RecordedDecision, error?: string) => {
      record.status = status;
      session.statements++;
      this.metrics.requests.inc({ outcome: decision.action === 'block' ? 'blocked' : status >= 400 ? 'error' : 'ok' });
      this.options.recorder.statement(session.id, record.toStatement(session.statements, performance.now() - started, decision, error));
    };

    if (!METHODS.has(method)) {
      // TRACE would echo the injected credential back; CONNECT tunnels past every check.
      const refusal = new Refusal(405, `method ${method} is not allowed through the agent`, 'method_not_allowed');
      finish(405, blockDecision(undefined, refusal.message, 0));
      return this.send(res, shape, refusal);
    }
    if (path.split('/').some((segment) => { const s = decodeSafe(segment); return s === '..' || s === '.' || s.includes('/'); })) {
      const refusal = new Refusal(400, 'the path must not contain "." or ".." segments', 'invalid_path');
      finish(400, blockDecision(undefined, refusal.message, 0));
      return this.send(res, shape, refusal);
    }

    // Body: bounded before anything else reads it.
    let raw: Buffer;
    try {
      raw = await readBody(req, options.maxRequestBytes);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      finish(error.status, blockDecision(undefined, error.message, 0));
      return this.send(res, shape, error, true);
    }
    // Every check below reads the body; a compressed one would reach an upstream that inflates
    // it without having been read.
    const requestEncoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (raw.length > 0 && requestEncoding !== 'identity') {
      const refusal = new Refusal(415, `the request body is ${requestEncoding}-encoded; the agent reads every body it forwards, so send it uncompressed`, 'unsupported_encoding');
      finish(415, blockDecision(undefined, refusal.message, 0));
      return this.send(res, shape, refusal);
    }
    // Read as JSON whatever the content type says: an upstream that ignores the header would act
    // on JSON the body rules did not look at. Only a body declared JSON must parse.
    const declaredJson = /json/i.test(req.headers['content-type'] ?? 'application/json');
    let body: any;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        if (declaredJson) {
          const refusal = new Refusal(400, 'the request body is not valid JSON', 'invalid_json');
          finish(400, blockDecision(undefined, refusal.message, 0));
          return this.send(res, shape, refusal);
        }
      }
    }
    if (typeof body?.model === 'string') record.model = body.model;

    // Policy and profile rules.
    const active = this.options.policy?.current() ?? { compiled: DEFAULT_POLICY, version: 0, hashKey: '' };
    const { compiled } = active;
    const decision = decide({ connection: connection.name, identity, http: { method, path, body, raw } }, compiled, this.now());
    const hit =
      profileRules(options, method, path, body, raw.length > 0, compiled.relaxed, compiled.policy.guardrails.enabled) ??
      (decision.action === 'block' || decision.action === 'review'
        ? { ruleId: decision.ruleId ?? 'policy', reason: decision.action === 'review' ? `${decision.reason ?? 'held for review'} (reviews are not available over HTTP)` : (decision.reason ?? 'blocked by policy') }
        : undefined) ??
      (options.kind === 'llm' && options.budgets
        ? this.budgets.admit(`${identity.subject}\0${connection.name}`, options.budgets, Date.now())
        : undefined);
    const ctx = this.maskContext(compiled, decision, active.hashKey, options);
    if (hit) {
      const refusal = new Refusal(403, `blocked by ${hit.ruleId}: ${hit.reason}`, 'blocked_by_policy', hit.ruleId);
      record.keepRequest(body, raw, undefined, ctx);
      finish(403, blockDecision(hit.ruleId, hit.reason, active.version));
      return this.send(res, shape, refusal);
    }

    const counts = new Map<EntityType, number>();
    const tokenBudget = options.kind === 'llm' && options.budgets?.tokens !== undefined ? options.budgets : undefined;
    let upstreamBody: Buffer | string = raw;
    if (body !== undefined) {
      if (ctx && options.maskRequests) {
        if (options.kind === 'llm') maskLlmRequest(body, ctx, counts);
        else body = maskJson(body, ctx, counts);
      }
      // OpenAI streams report their usage only when asked to; a token budget needs it.
      if (tokenBudget && shape === 'openai' && body?.stream === true && typeof body === 'object' && /\/completions$/.test(path)) {
        body.stream_options = { ...(typeof body.stream_options === 'object' ? body.stream_options : {}), include_usage: true };
      }
      // Serialised again even when nothing was masked: what goes up is exactly what the policy
      // and the masks read (the client's bytes could hold duplicate keys that another parser
      // reads the other way).
      upstreamBody = JSON.stringify(body);
    } else if (ctx && options.maskRequests && raw.length > 0 && !MEDIA.test(req.headers['content-type'] ?? '')) {
      // A body that is not JSON is masked as text; one that is not text cannot be masked, so it
      // is refused rather than sent up unread (pictures and sound pass, as in answers).
      if (!isUtf8(raw)) {
        const refusal = new Refusal(
          415,
          `the request body (${req.headers['content-type'] || 'no content type'}) is binary and cannot be masked; set maskRequests to false on a connection that takes files`,
          'unmaskable_body',
        );
        finish(415, blockDecision(undefined, refusal.message, active.version));
        return this.send(res, shape, refusal);
      }
      upstreamBody = maskAndCount(raw.toString('utf8'), ctx, counts);
    }
    record.keepRequest(body, raw, upstreamBody, ctx && options.maskRequests ? undefined : ctx);

    // Upstream.
    let credential: string | undefined;
    try {
      credential = this.options.resolveCredential(connection);
    } catch (error) {
      this.log.warn({ connection: connection.name, err: (error as Error).message }, 'credential not resolved');
      const refusal = new Refusal(502, `the credential of connection "${connection.name}" is not available on the agent`, 'credential_unavailable');
      finish(502, allowDecision(decision, active.version, counts), refusal.message);
      return this.send(res, shape, refusal);
    }
    const target = this.upstreamOf(connection);
    const headers = forwardHeaders(req.headers, options);
    if (credential !== undefined) headers[options.upstreamAuth.header] = options.upstreamAuth.prefix + credential;
    if (ctx && options.maskResponses) headers['accept-encoding'] = 'identity';
    headers['x-portcullis-trace'] = traceId;
    // undici takes an EventEmitter emitting 'abort' as the signal: a fraction of the cost of an
    // AbortController per request (they showed in profiles under load).
    const clientGone = new EventEmitter();
    let aborted = false;
    const onClientGone = () => {
      aborted = true;
      clientGone.emit('abort');
    };
    res.once('close', onClientGone);

    let upstream: Awaited<ReturnType<Pool['request']>>;
    try {
      upstream = await target.pool.request({
        method: method as any,
        path: target.basePath + path + query,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : upstreamBody,
        signal: clientGone,
      });
    } catch (error) {
      res.off('close', onClientGone);
      if (aborted) return finish(499, allowDecision(decision, active.version, counts), 'client closed the request');
      const detail = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      const refusal = new Refusal(502, `could not reach the upstream of connection "${connection.name}" (${detail})`, 'upstream_unreachable');
      finish(502, allowDecision(decision, active.version, counts), refusal.message);
      return this.send(res, shape, refusal);
    }
    record.ttfbMs = performance.now() - started;
    // The usage the API reported; without it (a stream cut short, an API that does not say),
    // about four bytes a token of what went up and came back, so no answer is free.
    const chargeTokens = () => {
      if (!tokenBudget) return;
      const answer = record.stream?.text ?? record.responseText ?? (typeof record.responseBody === 'string' ? record.responseBody : '');
      const used = record.usage ? totalTokens(record.usage) : Math.ceil((Buffer.byteLength(upstreamBody) + Buffer.byteLength(answer)) / 4);
      this.budgets.addTokens(`${identity.subject}\0${connection.name}`, tokenBudget, used, Date.now());
    };

    const contentType = String(upstream.headers['content-type'] ?? '');
    const responseHeaders = backHeaders(upstream.headers);
    const masking = ctx && options.maskResponses ? ctx : undefined;
    const encoding = String(upstream.headers['content-encoding'] ?? 'identity').toLowerCase();
    try {
      if (masking && encoding !== 'identity') {
        // Compressed despite accept-encoding: identity; the agent cannot read it, so it fails closed.
        throw new Refusal(502, `the upstream of connection "${connection.name}" sent a ${encoding}-encoded answer that the agent cannot mask`, 'upstream_encoding');
      }
      if (/^text\/event-stream/i.test(contentType)) {
        const summary = await this.relayStream(res, upstream, responseHeaders, shape, masking);
        // An answer streamed unmasked (maskResponses off) is masked for the recording.
        record.stream = masking || !ctx ? summary : { ...summary, text: maskText(summary.text, ctx).text };
        if (summary.model) record.model = summary.model;
        record.usage = summary.usage;
        for (const [e, n] of Object.entries(summary.maskedCounts)) counts.set(e as EntityType, (counts.get(e as EntityType) ?? 0) + n!);
      } else if (masking && !MEDIA.test(contentType) && method !== 'HEAD' && upstream.statusCode !== 204 && upstream.statusCode !== 304) {
        // Any other answer is read as text (JSON Lines, a file export of any declared type); one
        // that is not text cannot be masked, so it is refused rather than passed on unread.
        const bytes = await readLimited(upstream.body, this.maxResponseBytes);
        if (!/json|^text\//i.test(contentType) && !isUtf8(bytes)) {
          throw new Refusal(
            502,
            `the upstream of connection "${connection.name}" sent a binary answer (${contentType || 'no content type'}) that the agent cannot mask; set maskResponses to false on a connection that serves files`,
            'upstream_binary',
          );
        }
        const text = bytes.toString('utf8');
        let out: string;
        try {
          const parsedBody = JSON.parse(text);
          record.usage = usageOf(parsedBody);
          if (options.kind === 'llm') dropLogprobs(parsedBody);
          const masked = options.maskJsonPaths ? maskPaths(parsedBody, options.maskJsonPaths, masking, counts) : maskJson(parsedBody, masking, counts);
          out = JSON.stringify(masked);
          record.responseBody = masked;
          record.responseText = out;
        } catch {
          // Not JSON after all: masked as text, never passed through unread.
          out = maskAndCount(text, masking, counts);
          record.responseBody = out;
        }
        responseHeaders['content-length'] = String(Buffer.byteLength(out));
        res.writeHead(upstream.statusCode, responseHeaders);
        res.end(out);
      } else {
        res.writeHead(upstream.statusCode, responseHeaders);
        for await (const chunk of upstream.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        res.end();
      }
    } catch (error) {
      res.off('close', onClientGone);
      upstream.body.destroy();
      if (!res.headersSent) {
        const refusal = error instanceof Refusal ? error : new Refusal(502, `the upstream of connection "${connection.name}" failed mid-response`, 'upstream_failed');
        finish(refusal.status, allowDecision(decision, active.version, counts), refusal.message);
        return this.send(res, shape, refusal);
      }
      res.destroy();
      chargeTokens();
      return finish(upstream.statusCode, allowDecision(decision, active.version, counts), 'response cut: ' + (error as Error).message);
    }
    res.off('close', onClientGone);
    chargeTokens();
    finish(upstream.statusCode, allowDecision(decision, active.version, counts), record.stream?.malformed);
  }

  /** Relays an SSE response, masked event by event when masking applies. */
  private async relayStream(
    res: ServerResponse,
    upstream: Awaited<ReturnType<Pool['request']>>,
    headers: Record<string, string | string[]>,
    shape: ApiShape,
    ctx: MaskContext | undefined,
  ): Promise<StreamSummary> {
    const stream = createMaskedStream(shape === 'anthropic' ? 'anthropic' : shape === 'openai' ? 'openai' : 'generic', ctx);
    // Events are re-framed (held text, masks change lengths): the client gets a chunked stream.
    delete headers['content-length'];
    res.writeHead(upstream.statusCode, headers);
    res.flushHeaders();
    const decoder = new StringDecoder('utf8');
    const write = async (s: string) => {
      if (s && !res.write(s)) await new Promise((r) => res.once('drain', r));
    };
    for await (const chunk of upstream.body) {
      await write(stream.push(decoder.write(chunk as Buffer)));
      if (stream.failed) {
        upstream.body.destroy();
        break;
      }
    }
    if (!stream.failed) await write(stream.push(decoder.end()));
    await write(stream.end());
    res.end();
    return stream.summary();
  }

  private maskContext(compiled: CompiledPolicy, decision: ReturnType<typeof decide>, hashKey: string, options: HttpConnectionOptions): MaskContext | undefined {
    if (!options.maskRequests && !options.maskResponses) return undefined;
    // The policy's mask plan when it has one; otherwise every entity its detectors know.
    return maskContextFor(compiled, decision, hashKey || undefined) ?? createMaskContext({ scanner: compiled.scanner, hashKey: hashKey || undefined });
  }

  private connectionOptions(connection: Connection): HttpConnectionOptions | string {
    let cached = this.optionsCache.get(connection);
    if (cached === undefined) {
      const r = parseHttpOptions(connection.kind as ConnectionKind, connection.options ?? {});
      cached = r.ok ? r.options : r.problems.join('; ');
      this.optionsCache.set(connection, cached);
    }
    return cached;
  }

  /** The connection's upstream, parsed once per connection object (snapshots replace them). */
  private upstreamOf(connection: Connection): Upstream {
    let target = this.targets.get(connection);
    if (!target) {
      const url = new URL(connection.target);
      target = { pool: this.pool(url.origin), basePath: url.pathname.replace(/\/$/, '') };
      this.targets.set(connection, target);
    }
    return target;
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 300_000 });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private unauthorized(res: ServerResponse, shape: ApiShape, reason: string): void {
    this.metrics.requests.inc({ outcome: 'refused' });
    res.setHeader('www-authenticate', `Bearer error="invalid_token", error_description="${reason.replace(/["\\]/g, '')}"`);
    this.send(res, shape, new Refusal(401, reason, 'invalid_token'), true);
  }

  private send(res: ServerResponse, shape: ApiShape, refusal: Refusal, drain = false): void {
    const body = errorBody(shape, refusal.status, refusal.message, refusal.code);
    // A refused request's unread body would be taken for the next request: close instead.
    if (drain && !res.req.complete) res.setHeader('connection', 'close');
    res.writeHead(refusal.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  // ------------------------------------------------------------------------------------------
  // sessions

  private sessionFor(socket: Socket, identity: VerifiedIdentity, connectionName: string, traceId: string, req: IncomingMessage): HttpSession {
    let bySocket = this.socketSessions.get(socket);
    if (!bySocket) this.socketSessions.set(socket, (bySocket = new Map()));
    const key = `${identity.subject}\0${connectionName}`;
    let session = bySocket.get(key);
    if (!session) {
      session = { id: randomUUID(), socket, identity, connectionName, statements: 0 };
      bySocket.set(key, session);
      this.sessions.set(session.id, session);
      this.metrics.live.set(this.sessions.size);
      this.options.recorder.sessionStart(session.id, {
        subject: identity.subject,
        username: identity.username,
        groups: identity.groups,
        connection: connectionName,
        protocol: 'http',
        clientAddress: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
        applicationName: String(req.headers['user-agent'] ?? '').slice(0, 200),
        traceId,
      });
    }
    // A refreshed token on the same socket extends the session; an expired one ends it. The same
    // token again (the usual keep-alive case) keeps the timer it armed.
    const sameExpiry = session.expiry !== undefined && session.identity.expiresAt.getTime() === identity.expiresAt.getTime();
    session.identity = identity;
    if (sameExpiry) return session;
    clearTimeout(session.expiry);
    const expiresIn = identity.expiresAt.getTime() + (this.options.expiryGraceMs ?? 0) - Date.now();
    const s = session;
    session.expiry = setTimeout(() => this.kill(s, 'access token expired'), Math.min(Math.max(expiresIn, 0), 0x7fffffff));
    session.expiry.unref();
    return session;
  }

  private kill(session: HttpSession, reason: string): void {
    this.endSession(session, 'killed', reason);
    session.socket.destroy();
  }

  private endSession(session: HttpSession, outcome: string, error = ''): void {
    if (!this.sessions.delete(session.id)) return;
    clearTimeout(session.expiry);
    this.socketSessions.get(session.socket)?.delete(`${session.identity.subject}\0${session.connectionName}`);
    this.metrics.live.set(this.sessions.size);
    this.options.recorder.sessionEnd(session.id, {
      outcome,
      error,
      bytesFromClient: session.socket.bytesRead,
      bytesToClient: session.socket.bytesWritten,
    });
  }

  private socketClosed(socket: Socket): void {
    const bySocket = this.socketSessions.get(socket);
    this.socketSessions.delete(socket);
    for (const session of bySocket?.values() ?? []) this.endSession(session, 'ok');
  }

  private recordRefusal(req: IncomingMessage, identity: VerifiedIdentity, connection: string, traceId: string, reason: string): void {
    const id = randomUUID();
    this.options.recorder.sessionStart(id, {
      subject: identity.subject,
      username: identity.username,
      groups: identity.groups,
      connection,
      protocol: 'http',
      clientAddress: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
      applicationName: String(req.headers['user-agent'] ?? '').slice(0, 200),
      traceId,
    });
    this.options.recorder.sessionEnd(id, { outcome: 'refused', error: reason, bytesFromClient: 0, bytesToClient: 0 });
  }

  /** A new snapshot may remove a connection or grant, or disable an identity: end those sessions. */
  private recheckSessions(snapshot: ConfigSnapshot): void {
    const view = httpView(snapshot);
    for (const session of [...this.sessions.values()]) {
      const access = checkAccess(view, session.identity, session.connectionName, 'http', this.now());
      if (!access.ok) this.kill(session, access.reason);
    }
  }
}

/** What one request/response pair leaves in the recording. */
class RequestRecord {
  status = 0;
  model?: string;
  usage?: StreamSummary['usage'];
  ttfbMs?: number;
  requestBody?: unknown;
  responseBody?: unknown;
  /** The bodies' JSON text when it was written anyway (masked), so it is not serialised again. */
  requestText?: string;
  responseText?: string;
  stream?: StreamSummary;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly traceId: string,
    private readonly cap: number,
  ) {}

  /**
   * Keeps the request body: what went up (`sent`, masked when request masking is on), or the body
   * as the client sent it when it did not go up. `unmasked` is given when it was not masked on its
   * way, and masks the recorded copy: a recording never holds an unmasked value.
   */
  keepRequest(body: unknown, raw: Buffer, sent: Buffer | string | undefined, unmasked: MaskContext | undefined): void {
    if (body !== undefined) {
      this.requestBody = unmasked ? maskJson(body, unmasked) : body;
      if (!unmasked && typeof sent === 'string') this.requestText = sent;
    } else if (raw.length > 0) {
      const text = typeof sent === 'string' ? sent : raw.toString('utf8');
      this.requestBody = unmasked ? maskText(text, unmasked).text : text;
    }
  }

  toStatement(index: number, durationMs: number, decision: RecordedDecision, error?: string): Statement {
    // The result's JSON text is put together from parts: the bodies' text was written anyway (to
    // the upstream and to the client), so it is spliced in rather than serialised again.
    const parts = [`"status":${this.status}`];
    if (this.model) parts.push(`"model":${JSON.stringify(this.model)}`);
    if (this.usage) parts.push(`"usage":${JSON.stringify(this.usage)}`);
    if (this.ttfbMs !== undefined) parts.push(`"ttfbMs":${Math.round(this.ttfbMs * 1000) / 1000}`);
    if (this.requestBody !== undefined) parts.push(`"requestBody":${cappedJson(this.requestBody, this.requestText, this.cap)}`);
    if (this.responseBody !== undefined) parts.push(`"responseBody":${cappedJson(this.responseBody, this.responseText, this.cap)}`);
    if (this.stream) {
      const { text, events, malformed } = this.stream;
      parts.push(`"stream":${JSON.stringify({ text, events, ...(malformed ? { malformed } : {}) })}`);
    }
    return {
      index,
      kind: 'http',
      text: `${this.method} ${this.path}`,
      parameters: [],
      commandTag: String(this.status),
      rowCount: 0,
      errorCode: this.status >= 400 ? String(this.status) : '',
      errorMessage: error ?? '',
      durationMs,
      resultJson: `{${parts.join(',')}}`,
      result: undefined, // the deprecated Struct of earlier versions
      decision,
      traceId: this.traceId,
    };
  }
}

/**
 * A body as JSON text for the recording: as is when small enough (`json`, when given, is its
 * serialisation), else a string of its first `cap` characters.
 */
function cappedJson(value: unknown, json: string | undefined, cap: number): string {
  const text = typeof value === 'string' ? value : (json ?? JSON.stringify(value));
  if (text.length > cap) return JSON.stringify(`${text.slice(0, cap)}… (${text.length - cap} more characters)`);
  return typeof value === 'string' ? JSON.stringify(value) : text;
}

function blockDecision(ruleId: string | undefined, reason: string, version: number): RecordedDecision {
  return { action: 'block', ruleIds: ruleId ? [ruleId] : [], policyVersion: version, reason, maskedCounts: {} };
}

function allowDecision(decision: ReturnType<typeof decide>, version: number, counts: Map<EntityType, number>): RecordedDecision {
  return {
    action: counts.size > 0 ? 'mask' : decision.action,
    ruleIds: decision.ruleIds,
    policyVersion: version,
    reason: decision.reason ?? '',
    maskedCounts: Object.fromEntries(counts),
  };
}

function isHttpKind(kind: string): boolean {
  return (HTTP_CONNECTION_KINDS as readonly string[]).includes(kind);
}

const httpViews = new WeakMap<ConfigSnapshot, ConfigSnapshot>();
/** The snapshot as checkAccess sees HTTP: llm and vector-http connections are served as http. */
function httpView(snapshot: ConfigSnapshot | undefined): ConfigSnapshot | undefined {
  if (!snapshot) return undefined;
  let view = httpViews.get(snapshot);
  if (!view) {
    view = { ...snapshot, connections: snapshot.connections.map((c) => (isHttpKind(c.kind) ? { ...c, kind: 'http' } : c)) };
    httpViews.set(snapshot, view);
  }
  return view;
}

/** The trace id: W3C traceparent's trace-id, else x-portcullis-trace, else a new one. */
export function traceIdOf(req: Pick<IncomingMessage, 'headers'>): string {
  const parent = TRACEPARENT.exec(String(req.headers.traceparent ?? '').trim());
  if (parent && !/^0+$/.test(parent[1]!)) return parent[1]!;
  const own = String(req.headers['x-portcullis-trace'] ?? '').trim();
  if (TRACE_ID.test(own)) return own;
  return randomUUID().replace(/-/g, '');
}

/** Anthropic and Azure SDKs send the key in their own header: accepted as the token too. */
function bareKey(req: IncomingMessage, options: HttpConnectionOptions): string | undefined {
  const name = options.upstreamAuth.header;
  if (name === 'authorization') return undefined;
  const value = req.headers[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

const NOTHING_LISTED: ReadonlySet<string> = new Set();

/** The header names a Connection header lists: hop-by-hop for this message (RFC 9110 §7.6.1). */
function listedIn(connection: string | string[] | undefined): ReadonlySet<string> {
  // The usual values list no header: no set to build on every request.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return NOTHING_LISTED;
  return new Set(String(connection).toLowerCase().split(',').map((s) => s.trim()));
}

function forwardHeaders(incoming: http.IncomingHttpHeaders, options: HttpConnectionOptions): Record<string, string | string[]> {
  const listed = listedIn(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    // The client's credential never travels upstream, whatever header it used.
    if (name === 'authorization' || name === options.upstreamAuth.header || name === 'cookie') continue;
    out[name] = value;
  }
  return out;
}

function backHeaders(incoming: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = listedIn(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || name === 'set-cookie') continue;
    out[name] = value;
  }
  if (incoming['content-length'] !== undefined) out['content-length'] = String(incoming['content-length']);
  return out;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new Refusal(413, `the request body is over this connection's limit of ${limit} bytes`, 'request_too_large');
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return collect(req, limit, tooLarge);
}

function readLimited(body: Readable, limit: number): Promise<Buffer> {
  return collect(body, limit, () => new Refusal(502, `the upstream answer is over the agent's masking limit of ${limit} bytes`, 'response_too_large'));
}

/**
 * A whole body in one buffer; past `limit` bytes the stream is destroyed and `tooLarge()` is the
 * error. Listeners rather than `for await`: an async iterator per request cost more than the rest
 * of reading a small body.
 */
function collect(body: Readable, limit: number, tooLarge: () => Refusal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: Error) => {
      body.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      body.destroy();
      settle(tooLarge());
    };
    const onEnd = () => settle();
    // Closed before its end: the peer went away in the middle of the body.
    const onClose = () => settle(new Error('the body ended before it was complete'));
    if (body.readableEnded) return settle();
    // Gone while the request was being authenticated: its 'close' has already been emitted.
    if (body.destroyed) return settle(new Error('the body ended before it was complete'));
    body.on('data', onData).once('end', onEnd).once('error', settle).once('close', onClose);
  });
}

/** Masks only the values at the given paths (`choices.*.message.content`, `*` = any key/index). */
function maskPaths(value: unknown, paths: readonly string[], ctx: MaskContext, counts: Map<EntityType, number>): unknown {
  const walk = (v: unknown, parts: string[]): unknown => {
    if (parts.length === 0) return maskJson(v, ctx, counts);
    if (v === null || typeof v !== 'object') return v;
    const [head, ...rest] = parts;
    if (Array.isArray(v)) return v.map((item, i) => (head === '*' || head === String(i) ? walk(item, rest) : item));
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(out)) if (head === '*' || head === k) out[k] = walk(out[k], rest);
    return out;
  };
  return paths.reduce((acc, p) => walk(acc, p.split('.')), value);
}

/** Pictures and sound pass unread when answers are masked: there is no text in them to mask. */
const MEDIA = /^(audio|image|video)\//i;

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The path as upstream servers route it, so rules see what will run: percent-escapes of unreserved
 * characters decoded (`/%63ollections` is `/collections`), other escapes upper-cased, repeated
 * slashes collapsed.
 */
function normalizePath(path: string): string {
  return path
    .replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
      const char = String.fromCharCode(parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(char) ? char : escape.toUpperCase();
    })
    .replace(/\/{2,}/g, '/');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function createMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    requests: new Counter({
      name: 'portcullis_http_requests_total',
      help: 'HTTP requests by outcome (ok, error, blocked, refused)',
      labelNames: ['outcome'],
      registers,
    }),
    live: new Gauge({ name: 'portcullis_http_live_sessions', help: 'Live HTTP sessions (client connections)', registers }),
  };
}
