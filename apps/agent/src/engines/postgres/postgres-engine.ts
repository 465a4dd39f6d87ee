import { randomInt, randomUUID } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConfigSnapshot, Connection } from '@portcullis/proto';
import { checkAccess } from '../../identity/access-check.js';
import type { TokenVerifier, VerifiedIdentity } from '../../identity/token-verifier.js';
import type { ActivePolicy } from '../../policy/active-policy.js';
import type { Recorder } from '../../recorder/recorder.js';
import type { SnapshotSource } from '../../snapshot/snapshot-source.js';
import { listenOn, type Engine } from '../engine.js';
import { HandshakeClosed, HandshakeReader } from './handshake-reader.js';
import {
  AUTH_CLEARTEXT_MESSAGE,
  AUTH_OK_MESSAGE,
  backendKeyData,
  BodyReader,
  ClientCode,
  errorResponse,
  MAX_STARTUP_PACKET,
  parseStartupPacket,
  ProtocolError,
  SqlState,
  type StartupMessage,
} from './protocol.js';
import { PostgresSession, type SessionOutcome } from './session.js';
import type { RecordingLimits } from './statement-tracker.js';
import { serverSettingProblem } from './session-settings.js';
import { splitStartup, type ClientStartup } from './startup-options.js';
import { columnMasksOf, maskedColumnsQuery, readMaskedColumns } from './masked-columns.js';
import { connectUpstream, parseTarget, sendCancel, UpstreamError, type UpstreamTarget } from './upstream.js';

export interface PostgresEngineOptions {
  /** Listener address; port 0 picks a free port. */
  host: string;
  port: number;
  snapshots: SnapshotSource;
  /** The policy in force: every statement is decided against it (block, mask, budgets). */
  policy: ActivePolicy;
  verifier: TokenVerifier;
  recorder: Recorder;
  /** The upstream password of a connection (secret reference resolved, or the pushed value). */
  resolveCredential: (connection: Connection) => string | undefined;
  /** Serve TLS to clients (answer SSLRequest with S). PEM strings or buffers. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Refuse clients that do not use TLS. Default: required unless the listener is on loopback. */
  requireTls?: boolean;
  /** Largest client message accepted (bigger → 08P01 and that client is closed). Default 256 MiB. */
  maxClientMessageBytes?: number;
  /** Result preview and text caps of recordings. Defaults: 100 rows, 64 KiB, 64 KiB. */
  recording?: Partial<RecordingLimits>;
  /** Time a session may outlive its token's expiry. Default 0. */
  expiryGraceMs?: number;
  /** Time allowed for the client's login and for the upstream's. Default 15 s / 10 s. */
  loginTimeoutMs?: number;
  upstreamTimeoutMs?: number;
  /** Where to register metrics (sessions, refusals, statements, bytes). */
  metrics?: Registry;
  logger?: Logger;
  /** Clock for grant expiry checks. */
  now?: () => Date;
}

/** A login refused: the SQLSTATE and message the client sees, and the recorded reason. */
class Refusal extends Error {
  constructor(
    readonly sqlState: string,
    message: string,
    readonly metricReason: string,
  ) {
    super(message);
  }
}

interface CancelTarget {
  target: UpstreamTarget;
  pid: number;
  secret: number;
}

const MAX_PASSWORD_MESSAGE = 64 * 1024;
const DEFAULT_LIMITS: RecordingLimits = { previewRows: 100, previewBytes: 64 * 1024, textBytes: 64 * 1024 };

/**
 * The PostgreSQL engine: clients log in with their access token as the password and name a
 * connection as the database; the agent checks identity and grant, logs into the upstream with
 * the connection's credential, then relays the protocol while recording each statement.
 *
 * Login order (as PostgreSQL's): startup (SSL/GSS negotiation, cancel), token, access check,
 * upstream login, ready; then the session (session.ts) until either side ends.
 */
export class PostgresEngine implements Engine {
  readonly protocol = 'postgres' as const;
  private readonly server: net.Server;
  private readonly sessions = new Map<string, PostgresSession>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly cancelKeys = new Map<string, CancelTarget>();
  private readonly sessionCancelKey = new Map<string, string>();
  private readonly secureContext?: tls.SecureContext;
  private readonly requireTls: boolean;
  private readonly maxClientMessageBytes: number;
  private readonly limits: RecordingLimits;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly metrics: ReturnType<typeof createMetrics>;

  constructor(private readonly options: PostgresEngineOptions) {
    this.secureContext = options.tls ? tls.createSecureContext(options.tls) : undefined;
    this.requireTls = options.requireTls ?? !isLoopbackHost(options.host);
    if (this.requireTls && !this.secureContext) {
      throw new Error('PostgreSQL listener requires TLS but no certificate and key are configured');
    }
    this.maxClientMessageBytes = options.maxClientMessageBytes ?? 256 * 1024 * 1024;
    this.limits = { ...DEFAULT_LIMITS, ...options.recording };
    this.log = options.logger ?? pino({ enabled: false });
    this.now = options.now ?? (() => new Date());
    this.metrics = createMetrics(options.metrics, () => this.sessions.values());
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = 10_000;
    options.snapshots.onApplied((next) => this.recheckSessions(next));
  }

  listen(): Promise<{ host: string; port: number }> {
    return listenOn(this.server, this.options, this.log, 'postgres');
  }

  endSessionsOf(subject: string, reason: string): number {
    let ended = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.identity.subject !== subject) continue;
      session.kill(SqlState.AdminShutdown, reason);
      ended++;
    }
    return ended;
  }

  liveSessions(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of [...this.sessions.values()])
      session.kill(SqlState.AdminShutdown, 'the agent is shutting down');
    await closed;
  }

  // ------------------------------------------------------------------------------------------
  // login

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), this.options.loginTimeoutMs ?? 15_000);
    this.login(socket)
      .catch((error: unknown) => {
        // Failures before a session exists: the socket is dropped; refusals were answered already.
        this.log.debug({ err: error }, 'postgres login ended');
        socket.destroy();
      })
      .finally(() => clearTimeout(timer));
  }

  private async login(socket: net.Socket): Promise<void> {
    let stream: net.Socket | tls.TLSSocket = socket;
    let reader = new HandshakeReader(stream);
    let encrypted = false;
    let startup: StartupMessage | undefined;
    while (!startup) {
      const packet = parseStartupPacket(await reader.startupPacket(MAX_STARTUP_PACKET));
      if (packet.kind === 'ssl' && this.secureContext && !encrypted) {
        // Bytes sent before the TLS handshake would be read as if they came over TLS.
        if (reader.detach().length > 0) throw new ProtocolError('data received before TLS was established');
        stream.write('S');
        stream = await upgradeToTls(socket, this.secureContext);
        reader = new HandshakeReader(stream);
        encrypted = true;
      } else if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
        stream.write('N');
      } else if (packet.kind === 'cancel') {
        this.forwardCancel(packet.pid, packet.secret);
        stream.end();
        return;
      } else if (packet.kind === 'unsupported') {
        stream.end(
          errorResponse(
            'FATAL',
            SqlState.FeatureNotSupported,
            `unsupported frontend protocol ${packet.code >>> 16}.${packet.code & 0xffff}`,
          ),
        );
        return;
      } else {
        startup = packet;
      }
    }

    const client = splitStartup(startup.parameters);
    const clientAddress = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    const sessionId = randomUUID();
    let identity: VerifiedIdentity | undefined;
    try {
      if (this.requireTls && !encrypted) {
        throw new Refusal(SqlState.InvalidAuthorization, 'TLS is required to connect to this agent', 'tls required');
      }
      if (!encrypted && !isLoopbackAddress(socket.remoteAddress)) {
        throw new Refusal(SqlState.InvalidAuthorization, 'TLS is required to send an access token', 'tls required');
      }
      if (startup.parameters.has('replication')) {
        throw new Refusal(SqlState.FeatureNotSupported, 'replication connections are not supported', 'replication');
      }
      if (client.refusedSetting) {
        throw new Refusal(
          SqlState.InvalidAuthorization,
          `${client.refusedSetting} cannot be set at login through the agent: the session acts as the connection's user`,
          'startup setting',
        );
      }
      stream.write(AUTH_CLEARTEXT_MESSAGE);
      const { code, frame } = await reader.frame(MAX_PASSWORD_MESSAGE);
      if (code !== ClientCode.Password)
        throw new Refusal(SqlState.ProtocolViolation, 'expected a password message', 'protocol');
      const token = new BodyReader(frame, 5, frame.length).cstring().trim();
      // Nothing more is read from the client until its session exists (resumed by the session).
      stream.pause();

      const verification = await this.options.verifier.verify(token);
      if (!verification.ok) throw new Refusal(SqlState.InvalidPassword, verification.reason, verification.reason);
      identity = verification.identity;
      if (identity.expiresAt.getTime() + (this.options.expiryGraceMs ?? 0) <= Date.now()) {
        throw new Refusal(SqlState.InvalidPassword, 'token expired', 'token expired');
      }
      const access = checkAccess(
        this.options.snapshots.current(),
        identity,
        client.connectionName,
        'postgres',
        this.now(),
      );
      if (!access.ok) {
        const sqlState =
          access.kind === 'unknown-connection' ? SqlState.UnknownDatabase : SqlState.InvalidAuthorization;
        throw new Refusal(sqlState, access.reason, access.kind);
      }
      await this.openSession(sessionId, stream, reader, access.connection, identity, client, clientAddress);
    } catch (error) {
      if (error instanceof HandshakeClosed || !(error instanceof Refusal || error instanceof ProtocolError))
        throw error;
      const refusal =
        error instanceof Refusal
          ? error
          : new Refusal(SqlState.ProtocolViolation, `invalid message: ${error.message}`, 'protocol');
      this.refuse(sessionId, stream, refusal, identity, client, clientAddress);
    }
  }

  private async openSession(
    sessionId: string,
    stream: Duplex,
    reader: HandshakeReader,
    connection: Connection,
    identity: VerifiedIdentity,
    client: ClientStartup,
    clientAddress: string,
  ): Promise<void> {
    let target: UpstreamTarget;
    try {
      target = parseTarget(connection.target);
    } catch (error) {
      this.log.warn({ connection: connection.name, err: (error as Error).message }, 'connection target invalid');
      throw new Refusal(SqlState.ConnectionFailure, `connection "${connection.name}" is misconfigured`, 'upstream');
    }
    let password: string | undefined;
    try {
      password = this.options.resolveCredential(connection);
    } catch (error) {
      this.log.warn({ connection: connection.name, err: (error as Error).message }, 'credential not resolved');
    }
    // Whole-column masks follow columns by origin: where they are is read once per session.
    const masks = columnMasksOf(this.options.policy.current().compiled);
    const upstream = await connectUpstream(
      target,
      password,
      client.upstream,
      this.options.upstreamTimeoutMs ?? 10_000,
      masks.length > 0 ? maskedColumnsQuery(masks) : undefined,
    ).catch((error: unknown) => {
      const detail = error instanceof UpstreamError ? error.message : 'unknown error';
      throw new Refusal(SqlState.ConnectionFailure, `could not connect to "${connection.name}": ${detail}`, 'upstream');
    });
    if (stream.destroyed) {
      upstream.socket.destroy();
      return;
    }
    const unsafe = upstream.greeting.map((frame) => serverSettingProblem(frame)).find((problem) => problem !== undefined);
    if (unsafe) {
      upstream.socket.destroy();
      throw new Refusal(SqlState.FeatureNotSupported, unsafe, 'session setting');
    }

    // The client gets the agent's own key; a cancel with it is forwarded with the upstream's.
    const pid = randomInt(1, 0x7fffffff);
    const secret = randomInt(0, 0x7fffffff);
    const cancelKey = `${pid}:${secret}`;
    this.cancelKeys.set(cancelKey, { target, pid: upstream.pid, secret: upstream.secret });
    this.sessionCancelKey.set(sessionId, cancelKey);

    const session = new PostgresSession(
      {
        id: sessionId,
        identity,
        connectionName: connection.name,
        traceId: client.traceId,
        maxClientMessageBytes: this.maxClientMessageBytes,
        limits: this.limits,
        recorder: this.options.recorder,
        policy: this.options.policy,
        maskedColumns: readMaskedColumns(masks, upstream.rows),
        events: {
          statement: () => this.metrics.statements.inc(),
          ended: (ended, outcome) => this.forget(ended, outcome),
        },
      },
      stream,
      upstream.socket,
    );
    this.sessions.set(sessionId, session);
    this.metrics.live.set(this.sessions.size);
    this.options.recorder.sessionStart(sessionId, this.sessionStart(identity, connection.name, client, clientAddress));
    const expiresIn = identity.expiresAt.getTime() + (this.options.expiryGraceMs ?? 0) - Date.now();
    this.expiryTimers.set(
      sessionId,
      setTimeout(
        () => session.kill(SqlState.InvalidAuthorization, 'access token expired'),
        Math.min(expiresIn, 0x7fffffff),
      ),
    );
    stream.write(Buffer.concat([AUTH_OK_MESSAGE, ...upstream.greeting, backendKeyData(pid, secret), upstream.ready]));
    session.start(reader.detach(), upstream.rest);
  }

  private refuse(
    sessionId: string,
    stream: Duplex,
    refusal: Refusal,
    identity: VerifiedIdentity | undefined,
    client: ClientStartup,
    clientAddress: string,
  ): void {
    this.metrics.refusals.inc({ reason: refusal.metricReason });
    this.metrics.sessions.inc({ outcome: 'refused' });
    if (stream.writable) stream.end(errorResponse('FATAL', refusal.sqlState, refusal.message));
    // Read on (and discard) so the client's close is seen; a client that stays is cut off.
    stream.resume();
    setTimeout(() => stream.destroy(), 1000).unref();
    // Refused logins are audited too; without a verified token, only the claimed user name is known.
    this.options.recorder.sessionStart(
      sessionId,
      this.sessionStart(
        identity ?? { subject: '', username: client.user, groups: [] },
        client.connectionName,
        client,
        clientAddress,
      ),
    );
    this.options.recorder.sessionEnd(sessionId, {
      outcome: 'refused',
      error: refusal.message,
      bytesFromClient: 0,
      bytesToClient: 0,
    });
  }

  private sessionStart(
    identity: Pick<VerifiedIdentity, 'subject' | 'username' | 'groups'>,
    connection: string,
    client: ClientStartup,
    clientAddress: string,
  ) {
    return {
      subject: identity.subject,
      username: identity.username,
      groups: identity.groups,
      connection,
      protocol: 'postgres',
      clientAddress,
      applicationName: client.applicationName,
      traceId: client.traceId,
    };
  }

  private forget(session: PostgresSession, outcome: SessionOutcome): void {
    this.sessions.delete(session.id);
    clearTimeout(this.expiryTimers.get(session.id));
    this.expiryTimers.delete(session.id);
    this.cancelKeys.delete(this.sessionCancelKey.get(session.id) ?? '');
    this.sessionCancelKey.delete(session.id);
    this.metrics.sessions.inc({ outcome });
    this.metrics.live.set(this.sessions.size);
    this.metrics.endedSessionBytes.fromClient += session.bytesFromClient;
    this.metrics.endedSessionBytes.toClient += session.bytesToClient;
  }

  private forwardCancel(pid: number, secret: number): void {
    const entry = this.cancelKeys.get(`${pid}:${secret}`);
    if (entry) sendCancel(entry.target, entry.pid, entry.secret, this.options.upstreamTimeoutMs ?? 10_000);
  }

  /** A new snapshot may remove a connection or grant, or disable an identity: end those sessions. */
  private recheckSessions(snapshot: ConfigSnapshot): void {
    for (const session of [...this.sessions.values()]) {
      const access = checkAccess(snapshot, session.identity, session.connectionName, 'postgres', this.now());
      if (access.ok) continue;
      const disabled = snapshot.disabledIdentities.find((d) => d.subject === session.identity.subject);
      const reason =
        access.kind === 'disabled' && disabled?.reason ? `${access.reason}: ${disabled.reason}` : access.reason;
      session.kill(SqlState.AdminShutdown, reason);
    }
  }
}

function upgradeToTls(socket: net.Socket, secureContext: tls.SecureContext): Promise<tls.TLSSocket> {
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
  return new Promise((resolve, reject) => {
    secure.once('secure', () => {
      secure.off('error', reject);
      secure.on('error', () => secure.destroy());
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

function createMetrics(registry: Registry | undefined, liveSessions: () => Iterable<PostgresSession>) {
  const registers = registry ? [registry] : [];
  const endedSessionBytes = { fromClient: 0, toClient: 0 };
  // Summed when scraped from the sessions' own counts: counting every chunk through prom-client
  // was ~2% of the agent's CPU under pgbench.
  new Counter({
    name: 'portcullis_postgres_bytes_total',
    help: 'Bytes relayed on PostgreSQL sessions',
    labelNames: ['direction'],
    registers,
    collect() {
      let { fromClient, toClient } = endedSessionBytes;
      for (const session of liveSessions()) {
        fromClient += session.bytesFromClient;
        toClient += session.bytesToClient;
      }
      this.reset();
      this.inc({ direction: 'from_client' }, fromClient);
      this.inc({ direction: 'to_client' }, toClient);
    },
  });
  return {
    endedSessionBytes,
    sessions: new Counter({
      name: 'portcullis_postgres_sessions_total',
      help: 'PostgreSQL client sessions by outcome (ok, client_closed, error, killed, refused)',
      labelNames: ['outcome'],
      registers,
    }),
    refusals: new Counter({
      name: 'portcullis_postgres_refusals_total',
      help: 'PostgreSQL logins refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    statements: new Counter({
      name: 'portcullis_postgres_statements_total',
      help: 'Statements recorded on PostgreSQL sessions',
      registers,
    }),
    live: new Gauge({ name: 'portcullis_postgres_live_sessions', help: 'Live PostgreSQL sessions', registers }),
  };
}
