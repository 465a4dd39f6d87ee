import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { parseHttpOptions, type ConnectionKind } from '@portcullis/api';
import type { Connection, ConnectionTestResult } from '@portcullis/proto';
import { Client } from 'undici';
import { HandshakeReader } from '../engines/postgres/handshake-reader.js';
import {
  BodyReader,
  ClientCode,
  cstring,
  message,
  parseErrorFields,
  ServerCode,
} from '../engines/postgres/protocol.js';
import { connectUpstream, parseTarget, UpstreamError, type UpstreamSession } from '../engines/postgres/upstream.js';
import { CredentialError } from '../snapshot/credentials.js';

/** A ConnectionTestResult before the control client adds the request id. */
export type ConnectionTestAnswer = Omit<ConnectionTestResult, 'requestId'>;

export interface ConnectionTestOptions {
  /** The engines' resolver (EngineDeps.resolveCredential): the same secret the data path injects. */
  resolveCredential: (connection: Connection) => string | undefined;
  /** Bound of the whole test, connect to answer. Default 5 s, half the control plane's wait. */
  timeoutMs?: number;
}

type Outcome = Omit<ConnectionTestAnswer, 'latencyMs'>;

const PROBE_QUERY = 'SELECT current_user';
/**
 * What the HTTP test asks for, below the connection's base URL: an endpoint of the profile that
 * checks the credential (a base URL alone often answers 404 whatever the key).
 */
const PROBE_PATHS: Record<string, { path: string; headers?: Record<string, string> }> = {
  'openai-compatible': { path: '/models' },
  anthropic: { path: '/models', headers: { 'anthropic-version': '2023-06-01' } },
  qdrant: { path: '/collections' },
  generic: { path: '' },
};
const MAX_FRAME = 1 << 20;
/** How the test names itself upstream (application_name, User-Agent): its admins can tell it from clients. */
const APPLICATION_NAME = 'portcullis connection test';

/**
 * Opens the upstream of a connection the way the data path does (the postgres engine's opener, or
 * a request with the credential in the connection's upstream header) and reports what it answered.
 * Never throws and never returns the credential: each text is scrubbed of it before it leaves.
 */
export async function testConnection(
  connection: Connection,
  options: ConnectionTestOptions,
): Promise<ConnectionTestAnswer> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const started = performance.now();
  let credential: string | undefined;
  let outcome: Outcome;
  try {
    credential = options.resolveCredential(connection);
    outcome = await withinBound(
      connection.kind === 'postgres'
        ? probePostgres(connection, credential, timeoutMs)
        : probeHttp(connection, credential, timeoutMs),
      timeoutMs,
    );
  } catch (error) {
    outcome =
      error instanceof CredentialError
        ? failed('credential_unavailable', error.message)
        : failed('agent_error', `the agent could not run the test: ${(error as Error).message}`);
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return scrub({ ...outcome, latencyMs }, credential);
}

/**
 * The probe's answer, or a timeout at the bound: the PostgreSQL opener bounds connect and login
 * each on its own, so a slow upstream could otherwise take twice as long. A probe that loses the
 * race still ends by itself (its sockets are bounded too) and is ignored.
 */
async function withinBound(probe: Promise<Outcome>, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve(failed('ETIMEDOUT', `no answer from the upstream within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probePostgres(
  connection: Connection,
  password: string | undefined,
  timeoutMs: number,
): Promise<Outcome> {
  let target: ReturnType<typeof parseTarget>;
  try {
    target = parseTarget(connection.target);
  } catch (error) {
    return failed('invalid_target', (error as Error).message);
  }
  let session: UpstreamSession;
  try {
    session = await connectUpstream(target, password, { application_name: APPLICATION_NAME }, timeoutMs);
  } catch (error) {
    if (error instanceof UpstreamError) return failed(error.code ?? 'upstream_error', error.message);
    throw error;
  }
  const { socket } = session;
  // A server that logs in but never answers the query must not keep the socket once the test is over.
  socket.setTimeout(timeoutMs, () => socket.destroy());
  try {
    const user = await queryOne(session, PROBE_QUERY);
    const version = parameter(session.greeting, 'server_version') ?? '(version not reported)';
    const tls = socket instanceof TLSSocket ? ` over ${socket.getProtocol() ?? 'TLS'}` : '';
    return {
      ok: true,
      detail: `PostgreSQL ${version}, logged in as ${user} to database ${target.database}${tls}`,
      errorCode: '',
      errorMessage: '',
    };
  } catch (error) {
    if (error instanceof UpstreamError) return failed(error.code ?? 'upstream_error', error.message);
    return failed(
      'upstream_error',
      `the upstream logged in but did not answer ${PROBE_QUERY}: ${(error as Error).message}`,
    );
  } finally {
    socket.end(message(ClientCode.Terminate));
    socket.destroy();
  }
}

/** Runs one simple query returning one text value; an ErrorResponse becomes an UpstreamError. */
async function queryOne(session: UpstreamSession, sql: string): Promise<string> {
  if (session.rest.length > 0) session.socket.unshift(session.rest);
  const reader = new HandshakeReader(session.socket);
  try {
    session.socket.write(message(ClientCode.Query, cstring(sql)));
    let value = '';
    let error: UpstreamError | undefined;
    for (;;) {
      const { code, frame } = await reader.frame(MAX_FRAME);
      if (code === ServerCode.DataRow) {
        const body = new BodyReader(frame, 5, frame.length);
        body.int16();
        const length = body.int32();
        value = length < 0 ? 'NULL' : body.bytes(length).toString('utf8');
      } else if (code === ServerCode.ErrorResponse) {
        const fields = parseErrorFields(frame, 0, frame.length);
        error = new UpstreamError(fields.get('M') ?? 'the upstream refused the query', fields.get('C'));
      } else if (code === ServerCode.ReadyForQuery) {
        if (error) throw error;
        return value;
      }
    }
  } finally {
    reader.detach();
  }
}

/** A ParameterStatus value from the login greeting (server_version, session_authorization...). */
function parameter(greeting: Buffer[], name: string): string | undefined {
  for (const frame of greeting) {
    if (frame[0] !== ServerCode.ParameterStatus) continue;
    const body = new BodyReader(frame, 5, frame.length);
    if (body.cstring() === name) return body.cstring();
  }
  return undefined;
}

async function probeHttp(connection: Connection, credential: string | undefined, timeoutMs: number): Promise<Outcome> {
  const parsed = parseHttpOptions(connection.kind as ConnectionKind, connection.options ?? {});
  if (!parsed.ok) return failed('invalid_options', parsed.problems.join('; '));
  let url: URL;
  try {
    url = new URL(connection.target);
  } catch {
    return failed('invalid_target', 'connection target is not a URL');
  }
  const { header, prefix } = parsed.options.upstreamAuth;
  const probe = PROBE_PATHS[parsed.options.profile] ?? PROBE_PATHS.generic!;
  const headers: Record<string, string> = { 'user-agent': APPLICATION_NAME, ...probe.headers };
  if (credential !== undefined) headers[header] = prefix + credential;
  // A client of its own: the engine's pools keep connections for clients, not for one probe.
  const client = new Client(url.origin, {
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const res = await client.request({
      method: 'GET',
      path: (probe.path ? url.pathname.replace(/\/$/, '') + probe.path : url.pathname) + url.search,
      headers,
      signal: deadline,
    });
    // The body may hold anything (even PII): read past and dropped; the status line is the answer.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const status = res.statusCode;
    const line = `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim();
    if (status === 401 || status === 403 || status === 407)
      return {
        ok: false,
        detail: line,
        errorCode: String(status),
        errorMessage: `the upstream refused the credential (${line})`,
      };
    if (status >= 500)
      return { ok: false, detail: line, errorCode: String(status), errorMessage: `the upstream failed (${line})` };
    return { ok: true, detail: line, errorCode: '', errorMessage: '' };
  } catch (error) {
    if (deadline.aborted) return failed('ETIMEDOUT', `no answer from ${url.origin} within ${timeoutMs / 1000} s`);
    const code = (error as NodeJS.ErrnoException).code;
    return failed(code ?? 'upstream_error', `could not reach ${url.origin}: ${(error as Error).message}`);
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

function failed(errorCode: string, errorMessage: string): Outcome {
  return { ok: false, detail: '', errorCode, errorMessage };
}

/** Fail closed: should an upstream ever echo the credential, it still does not leave the agent. */
function scrub(answer: ConnectionTestAnswer, credential: string | undefined): ConnectionTestAnswer {
  if (!credential) return answer;
  const clean = (text: string) => text.split(credential).join('[credential]');
  return { ...answer, detail: clean(answer.detail), errorMessage: clean(answer.errorMessage) };
}
