import type { Duplex } from 'node:stream';
import type { Statement } from '@portcullis/proto';
import type { VerifiedIdentity } from '../../identity/token-verifier.js';
import type { Recorder } from '../../recorder/recorder.js';
import { FrameError, FrameReader } from './frames.js';
import { ClientCode, errorResponse, FRONTEND_CODES, message, readyForQuery, SqlState } from './protocol.js';
import { StatementTracker, type RecordingLimits } from './statement-tracker.js';

export type SessionOutcome = 'ok' | 'client_closed' | 'error' | 'killed';

/** What the session reports to its engine (metrics, bookkeeping) when things happen. */
export interface SessionEvents {
  statement(statement: Statement): void;
  bytes(direction: 'from_client' | 'to_client', count: number): void;
  ended(session: PostgresSession, outcome: SessionOutcome): void;
}

export interface SessionSettings {
  id: string;
  identity: VerifiedIdentity;
  connectionName: string;
  traceId: string;
  maxClientMessageBytes: number;
  limits: RecordingLimits;
  recorder: Recorder;
  events: SessionEvents;
}

/** The answer of the policy seam for one client frame. */
type FrameDecision = 'forward' | 'hold' | 'drop';

const REFUSED_UNRECORDED = 'recording unavailable: statement refused (fail-closed)';
/** PostgreSQL's own limit for backend messages is 1 GiB; this only guards against nonsense. */
const MAX_SERVER_MESSAGE_BYTES = 0x7fffffff;
const EXTENDED_CODES: ReadonlySet<number> = new Set([
  ClientCode.Parse,
  ClientCode.Bind,
  ClientCode.Describe,
  ClientCode.Execute,
  ClientCode.Close,
  ClientCode.Flush,
  ClientCode.Sync,
]);

/**
 * One client session after login: the two directions of bytes between client and upstream.
 * The hot path only frames and forwards (the same buffers it received); the tracker looks at
 * frames on the side to record statements. Every client frame passes through `decide` before
 * it may reach the upstream: the one place where a statement can be refused (today: when it
 * could not be recorded; later: policy blocks and reviews).
 */
export class PostgresSession {
  readonly id: string;
  readonly identity: VerifiedIdentity;
  readonly connectionName: string;
  bytesFromClient = 0;
  bytesToClient = 0;

  private readonly tracker: StatementTracker;
  private readonly clientFrames: FrameReader;
  private readonly serverFrames = new FrameReader(MAX_SERVER_MESSAGE_BYTES);
  private readonly recorder: Recorder;
  private readonly events: SessionEvents;
  private ended = false;
  private terminated = false;
  /** An extended-protocol batch (up to Sync) is under way. */
  private batchOpen = false;
  /** Frames of a batch held back until it is known whether it executes anything. */
  private held: Buffer[] | undefined;
  /** A refused batch: its frames are dropped up to and including its Sync. */
  private discardingUntilSync = false;

  constructor(
    settings: SessionSettings,
    private readonly client: Duplex,
    private readonly upstream: Duplex,
  ) {
    this.id = settings.id;
    this.identity = settings.identity;
    this.connectionName = settings.connectionName;
    this.recorder = settings.recorder;
    this.events = settings.events;
    this.clientFrames = new FrameReader(settings.maxClientMessageBytes, FRONTEND_CODES);
    this.tracker = new StatementTracker(settings.limits, settings.traceId, (statement) => {
      this.recorder.statement(this.id, statement);
      this.events.statement(statement);
    });
  }

  /** Starts both directions; `clientRest`/`upstreamRest` are bytes read past the handshake. */
  start(clientRest: Buffer, upstreamRest: Buffer): void {
    this.client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    this.client.on('close', () => this.end(this.terminated ? 'ok' : 'client_closed'));
    this.upstream.on('close', () => this.end('error', 'upstream closed the connection'));
    this.client.on('error', () => this.end(this.terminated ? 'ok' : 'client_closed'));
    this.upstream.on('error', (error) => this.end('error', `upstream: ${error.message}`));
    // Backpressure: a slow reader on one side pauses the other side's socket.
    this.client.on('drain', () => this.upstream.resume());
    this.upstream.on('drain', () => this.client.resume());
    if (upstreamRest.length > 0) this.onUpstreamData(upstreamRest);
    if (clientRest.length > 0) this.onClientData(clientRest);
    // The engine paused the client after its password, until the upstream was ready.
    this.client.resume();
  }

  /** Ends the session from the agent's side, telling the client why (FATAL, then close). */
  kill(code: string, reason: string): void {
    this.end('killed', reason, errorResponse('FATAL', code, reason));
  }

  private onClientData(chunk: Buffer): void {
    if (this.ended) return;
    this.bytesFromClient += chunk.length;
    this.events.bytes('from_client', chunk.length);
    let runStart = 0;
    try {
      const region = this.clientFrames.feed(chunk, (code, buffer, start, end) => {
        const decision = this.decide(code, buffer, start, end);
        if (decision === 'forward') {
          this.tracker.onClientFrame(code, buffer, start, end);
          return;
        }
        // Not forwarded: send what came before it, skip this frame.
        if (start > runStart) this.toUpstream(buffer.subarray(runStart, start));
        if (decision === 'hold') this.held!.push(buffer.subarray(start, end));
        runStart = end;
      });
      if (region.end > runStart) {
        this.toUpstream(
          runStart === 0 && region.end === region.buffer.length
            ? region.buffer
            : region.buffer.subarray(runStart, region.end),
        );
      }
    } catch (error) {
      const reason = error instanceof FrameError ? error.message : `malformed message: ${(error as Error).message}`;
      this.end('error', reason, errorResponse('FATAL', SqlState.ProtocolViolation, `invalid message: ${reason}`));
    }
  }

  /**
   * The policy seam: decides one complete client frame before it is forwarded. Today the only
   * refusal is fail-closed recording: a Query is refused on its own; an extended batch is decided
   * at its first message and, when the recorder is not accepting, held until it shows an Execute
   * or a Flush (then the whole batch is refused and the rest dropped up to Sync, as PostgreSQL
   * does after an error) or reaches Sync without either (then released: it ran nothing).
   */
  private decide(code: number, buffer: Buffer, start: number, end: number): FrameDecision {
    if (code === ClientCode.Terminate) this.terminated = true;
    if (this.discardingUntilSync) {
      if (code === ClientCode.Sync) {
        this.discardingUntilSync = false;
        this.batchOpen = false;
        this.reply(readyForQuery(this.tracker.transactionStatus));
      }
      return 'drop';
    }
    if (code === ClientCode.Query) {
      if (this.recorder.accepting()) return 'forward';
      this.reply(Buffer.concat([this.refusal(), readyForQuery(this.tracker.transactionStatus)]));
      return 'drop';
    }
    if (code === ClientCode.FunctionCall) {
      // The fast-path call runs any function by OID, out of sight of recording and policy.
      this.reply(
        Buffer.concat([
          errorResponse(
            'ERROR',
            SqlState.FeatureNotSupported,
            'function call messages are not supported through the agent',
          ),
          readyForQuery(this.tracker.transactionStatus),
        ]),
      );
      return 'drop';
    }
    if (!EXTENDED_CODES.has(code)) return 'forward';

    if (!this.batchOpen) {
      this.batchOpen = true;
      if (!this.recorder.accepting()) this.held = [];
    }
    if (code === ClientCode.Sync) this.batchOpen = false;
    if (!this.held) return 'forward';

    if (code === ClientCode.Execute || code === ClientCode.Flush) {
      this.held = undefined;
      this.discardingUntilSync = true;
      this.reply(this.refusal());
      return 'drop';
    }
    if (code === ClientCode.Sync) {
      for (const frame of this.held) {
        this.tracker.onClientFrame(frame[0]!, frame, 0, frame.length);
        this.toUpstream(frame);
      }
      this.held = undefined;
      // Sent after the released frames, so it is not the frame passed to the caller's run.
      this.tracker.onClientFrame(code, buffer, start, end);
      this.toUpstream(buffer.subarray(start, end));
      return 'drop';
    }
    return 'hold';
  }

  private refusal(): Buffer {
    return errorResponse('ERROR', SqlState.CannotConnectNow, REFUSED_UNRECORDED);
  }

  private reply(bytes: Buffer): void {
    const now = this.tracker.reply(bytes);
    if (now) this.toClient(now);
  }

  private onUpstreamData(chunk: Buffer): void {
    if (this.ended) return;
    let runStart = 0;
    try {
      const region = this.serverFrames.feed(chunk, (code, buffer, start, end) => {
        const replies = this.tracker.onServerFrame(code, buffer, start, end);
        if (!replies) return;
        this.toClient(buffer.subarray(runStart, end));
        for (const reply of replies) this.toClient(reply);
        runStart = end;
      });
      if (region.end > runStart) {
        this.toClient(
          runStart === 0 && region.end === region.buffer.length
            ? region.buffer
            : region.buffer.subarray(runStart, region.end),
        );
      }
    } catch (error) {
      this.end(
        'error',
        `invalid message from upstream: ${(error as Error).message}`,
        errorResponse('FATAL', SqlState.ConnectionFailure, 'invalid message from upstream'),
      );
    }
  }

  private toUpstream(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) this.client.pause();
  }

  private toClient(bytes: Buffer): void {
    this.bytesToClient += bytes.length;
    this.events.bytes('to_client', bytes.length);
    if (!this.client.write(bytes)) this.upstream.pause();
  }

  private end(outcome: SessionOutcome, error = '', toClient?: Buffer): void {
    if (this.ended) return;
    this.ended = true;
    if (toClient && this.client.writable) this.client.end(toClient);
    else this.client.end();
    // Say goodbye upstream so the server logs a clean exit rather than a lost client.
    if (this.upstream.writable) this.upstream.end(message(ClientCode.Terminate));
    setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, 1000).unref();
    this.recorder.sessionEnd(this.id, {
      outcome,
      error,
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
    });
    this.events.ended(this, outcome);
  }
}
