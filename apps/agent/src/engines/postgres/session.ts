import type { Duplex } from 'node:stream';
import { BUDGET_SQLSTATE, type Decision, type MaskStyle } from '@portcullis/policy';
import type { Statement } from '@portcullis/proto';
import type { ActivePolicy, PolicyInForce } from '../../policy/active-policy.js';
import { recordUsage, statementBudget } from '../../policy/budgets.js';
import type { VerifiedIdentity } from '../../identity/token-verifier.js';
import type { Recorder } from '../../recorder/recorder.js';
import { FrameError, FrameReader } from './frames.js';
import { masksKeyOf, type MaskedColumns } from './masked-columns.js';
import { maskNotice, maskNotification, maskSentText, textMasking } from './server-texts.js';
import { BodyReader, ClientCode, cstring, errorResponse, FRONTEND_CODES, message, readyForQuery, ServerCode, SqlState } from './protocol.js';
import { ResultGuard } from './result-guard.js';
import { serverSettingProblem } from './session-settings.js';
import { StatementJudge } from './statement-judge.js';
import { OutOfStep, StatementTracker, type RecordingLimits } from './statement-tracker.js';

export type SessionOutcome = 'ok' | 'client_closed' | 'error' | 'killed';

/** What the session reports to its engine (metrics, bookkeeping) when things happen. */
export interface SessionEvents {
  statement(statement: Statement): void;
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
  /** The policy in force, read per statement. */
  policy: ActivePolicy;
  /** Where the policy's whole-column masks are in this database, read at login. */
  maskedColumns: MaskedColumns;
  events: SessionEvents;
}

/** The answer of the policy seam for one client frame (a Buffer: send these bytes instead). */
type FrameDecision = 'forward' | 'hold' | 'drop' | Buffer;

/**
 * Sent upstream in place of a statement the policy blocks: it fails, so the upstream's
 * transaction state follows what the client is told (an error aborts a transaction block), and
 * its error is replaced by the policy's on the way back.
 */
const STAND_IN = message(
  ClientCode.Query,
  cstring(
    "DO $portcullis$BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'statement blocked by policy'; END$portcullis$",
  ),
);
const SYNC = message(ClientCode.Sync);

/** The message a client gets for a statement the policy does not let through. */
export function refusalMessage(decision: Decision): string {
  const rule = decision.ruleId ? ` [rule ${decision.ruleId}]` : '';
  if (decision.action === 'review') {
    // The approval flow is a later issue; the seam is here.
    return `statement needs review${decision.reason ? `: ${decision.reason}` : ''}${rule}; review is not yet available, so it is blocked`;
  }
  const by = decision.ruleId?.startsWith('guardrail:')
    ? `guardrail ${decision.ruleId.slice('guardrail:'.length)}`
    : decision.ruleId
      ? `rule ${decision.ruleId}`
      : 'policy';
  return `blocked by ${by}: ${decision.reason ?? 'not allowed'}${rule}`;
}

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
  private readonly policy: ActivePolicy;
  private readonly maskedColumns: MaskedColumns;
  private readonly judge: StatementJudge;
  /** Decision on the frame being forwarded (Query, Parse). */
  private frameDecision: Decision | undefined;
  /** A batch whose Parse the policy blocked: answered at its Sync. */
  private blockedBatch: { text: string; decision: Decision } | undefined;
  /** Frames of the current batch already sent upstream. */
  private batchForwarded = false;
  /** The result being sent: undefined = not looked at yet, null = nothing to do. */
  private guard: { guard: ResultGuard; policy: PolicyInForce } | null | undefined;
  private ended = false;
  private terminated = false;
  /** An extended-protocol batch (up to Sync) is under way. */
  private batchOpen = false;
  /** Frames of a batch held back until it is known whether it executes anything. */
  private held: Array<{ frame: Buffer; decision?: Decision }> | undefined;
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
    this.policy = settings.policy;
    this.maskedColumns = settings.maskedColumns;
    this.judge = new StatementJudge(settings.policy, settings.connectionName, {
      subject: settings.identity.subject,
      groups: settings.identity.groups,
    });
    this.clientFrames = new FrameReader(settings.maxClientMessageBytes, FRONTEND_CODES);
    this.tracker = new StatementTracker(
      settings.limits,
      settings.traceId,
      (statement) => {
        this.recorder.statement(this.id, statement);
        this.events.statement(statement);
      },
      // Recordings hold no unmasked value, the client's own literals and parameters included.
      (text, decision) => maskSentText(text, textMasking(this.policy.current(), decision)),
    );
  }

  /** Starts both directions; `clientRest`/`upstreamRest` are bytes read past the handshake. */
  start(clientRest: Buffer, upstreamRest: Buffer): void {
    this.client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.upstream.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    this.client.on('close', () => this.end(this.terminated ? 'ok' : 'client_closed'));
    // After the client's Terminate the upstream closing first is the normal end, not an error.
    this.upstream.on('close', () => this.end(this.terminated ? 'ok' : 'error', this.terminated ? '' : 'upstream closed the connection'));
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
    // Everything this chunk produces leaves in one write (writev), however many frames it held.
    this.upstream.cork();
    try {
      this.forwardClientData(chunk);
    } finally {
      this.upstream.uncork();
    }
  }

  private forwardClientData(chunk: Buffer): void {
    this.bytesFromClient += chunk.length;
    let runStart = 0;
    try {
      const region = this.clientFrames.feed(chunk, (code, buffer, start, end) => {
        this.frameDecision = undefined;
        const decision = this.decide(code, buffer, start, end);
        if (decision === 'forward') {
          if (this.batchOpen) this.batchForwarded = true;
          this.tracker.onClientFrame(code, buffer, start, end, this.frameDecision);
          return;
        }
        // Not forwarded: send what came before it, skip this frame (or send its stand-in).
        if (start > runStart) this.toUpstream(buffer.subarray(runStart, start));
        if (decision === 'hold') this.held!.push({ frame: buffer.subarray(start, end), decision: this.frameDecision });
        else if (Buffer.isBuffer(decision)) this.toUpstream(decision);
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
      if (code !== ClientCode.Sync) return 'drop';
      this.discardingUntilSync = false;
      this.batchOpen = false;
      const blocked = this.blockedBatch;
      if (!blocked) {
        this.reply(readyForQuery(this.tracker.transactionStatus));
        return 'drop';
      }
      this.blockedBatch = undefined;
      // Frames of this batch already upstream are closed by a Sync whose ReadyForQuery the
      // client does not see (it waits for one only, the stand-in's).
      const closing = this.batchForwarded ? SYNC : undefined;
      if (closing) this.tracker.onSilentSync();
      this.batchForwarded = false;
      this.tracker.onBlocked(blocked.text, blocked.decision);
      return closing ? Buffer.concat([closing, STAND_IN]) : STAND_IN;
    }
    if (code === ClientCode.Query) {
      // A Query before the Sync of an extended batch (pg-cursor sends one) would be answered in
      // the middle of it, or skipped after an error, out of the order the agent keeps answers in:
      // the agent closes the batch with a Sync of its own first.
      const closing = this.batchOpen ? this.closeBatch() : undefined;
      if (!this.recorder.accepting()) {
        this.reply(Buffer.concat([this.refusal(), readyForQuery(this.tracker.transactionStatus)]));
        return closing ?? 'drop';
      }
      const text = new BodyReader(buffer, start + 5, end).cstring();
      const decision = this.judge.judge(text);
      if (decision.action === 'block' || decision.action === 'review') {
        this.tracker.onBlocked(text, decision);
        return closing ? Buffer.concat([closing, STAND_IN]) : STAND_IN;
      }
      this.frameDecision = decision;
      this.forgetSqlPrepared(decision);
      if (!closing) return 'forward';
      this.tracker.onClientFrame(code, buffer, start, end, decision);
      return Buffer.concat([closing, buffer.subarray(start, end)]);
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
    if (code === ClientCode.Sync) {
      this.batchOpen = false;
      this.batchForwarded = false;
    }
    if (code === ClientCode.Parse) {
      const body = new BodyReader(buffer, start + 5, end);
      body.cstring();
      const text = body.cstring();
      const decision = this.judge.judge(text);
      if (decision.action === 'block' || decision.action === 'review') return this.blockBatch(text, decision);
      this.frameDecision = decision;
      this.forgetSqlPrepared(decision);
    }
    if (code === ClientCode.Bind) {
      const body = new BodyReader(buffer, start + 5, end);
      body.cstring();
      const name = body.cstring();
      // A statement prepared by SQL PREPARE was not judged as this Bind would run it. (A name the
      // server does not hold fails there; one it holds that the agent never saw has its rows withheld.)
      if (this.tracker.preparedBySql(name)) {
        return this.blockBatch(`(bind to prepared statement "${name}")`, {
          action: 'block',
          ruleId: 'guardrail:unknown-prepared-statement',
          ruleIds: ['guardrail:unknown-prepared-statement'],
          reason: `prepared statement "${name}" was not prepared with Parse through the agent, so the policy never saw it`,
          policyVersion: this.policy.current().version,
          considered: [],
        });
      }
    }
    if (!this.held) return 'forward';

    if (code === ClientCode.Execute || code === ClientCode.Flush) {
      this.held = undefined;
      this.discardingUntilSync = true;
      this.reply(this.refusal());
      return 'drop';
    }
    if (code === ClientCode.Sync) {
      for (const { frame, decision } of this.held) {
        this.tracker.onClientFrame(frame[0]!, frame, 0, frame.length, decision);
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

  /** Ends the open extended batch with the agent's own Sync (its answer is not for the client); returns the Sync to send. */
  private closeBatch(): Buffer {
    this.batchOpen = false;
    this.batchForwarded = false;
    this.held = undefined;
    this.tracker.onSilentSync();
    return SYNC;
  }

  /**
   * SQL PREPARE / DEALLOCATE / DISCARD change statements a Bind could name, DECLARE / CLOSE the
   * portals an Execute could name: the tracker forgets them.
   */
  private forgetSqlPrepared(decision: Decision): void {
    const analysis = this.judge.analysisOf(decision);
    for (const s of analysis?.statements ?? []) {
      if (s.cursorName !== undefined) this.tracker.forgetPortal(s.cursorName === '*' ? undefined : s.cursorName);
      else if (s.kind === 'PREPARE') this.tracker.forgetStatements([s.prepareName!], true);
      else if (s.kind === 'DEALLOCATE' && s.prepareName) this.tracker.forgetStatements([s.prepareName], false);
      else if (s.kind === 'DEALLOCATE' || (s.kind === 'DISCARD' && !/^discard\s+(plans|sequences|temp|temporary)\b/i.test(s.text ?? ''))) {
        this.tracker.forgetStatements(undefined, false);
      }
    }
  }

  /** As PostgreSQL after an error: the rest of the batch is skipped up to its Sync, which answers it. */
  private blockBatch(text: string, decision: Decision): FrameDecision {
    this.held = undefined;
    this.discardingUntilSync = true;
    this.blockedBatch = { text, decision };
    return 'drop';
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
    // A masked result rewrites rows one by one: send the whole chunk's output in one write.
    this.client.cork();
    try {
      this.forwardUpstreamData(chunk);
    } finally {
      this.client.uncork();
    }
  }

  private forwardUpstreamData(chunk: Buffer): void {
    let runStart = 0;
    try {
      const region = this.serverFrames.feed(chunk, (code, buffer, start, end) => {
        if (this.ended) return;
        const { replacement, replies } = this.serverFrame(code, buffer, start, end);
        if (replacement === undefined && !replies) return;
        if (replacement === undefined) {
          this.toClient(buffer.subarray(runStart, end));
        } else {
          if (start > runStart) this.toClient(buffer.subarray(runStart, start));
          if (replacement) this.toClient(replacement);
        }
        if (replies) for (const reply of replies) this.toClient(reply);
        runStart = end;
      });
      if (this.ended) return;
      if (region.end > runStart) {
        this.toClient(
          runStart === 0 && region.end === region.buffer.length
            ? region.buffer
            : region.buffer.subarray(runStart, region.end),
        );
      }
    } catch (error) {
      if (error instanceof OutOfStep) {
        // What the client sent left the agent unable to follow the server's answers.
        this.end('error', error.message, errorResponse('FATAL', SqlState.ProtocolViolation, `session ended: ${error.message}`));
        return;
      }
      this.end(
        'error',
        `invalid message from upstream: ${(error as Error).message}`,
        errorResponse('FATAL', SqlState.ConnectionFailure, 'invalid message from upstream'),
      );
    }
  }

  /**
   * One server frame on its way to the client: masks and counts result rows, ends a result that
   * exceeds its budget with 53400, puts the policy's error in place of the stand-in's. Returns
   * undefined as replacement to send the frame as it came, null to drop it.
   */
  private serverFrame(
    code: number,
    buffer: Buffer,
    start: number,
    end: number,
  ): { replacement?: Buffer | null; replies?: Buffer[] } {
    switch (code) {
      case ServerCode.RowDescription: {
        // A result is looked at from its first row: a RowDescription may answer a Describe of
        // another statement, and the statement a portal runs is known at its BindComplete.
        const replies = this.tracker.onServerFrame(code, buffer, start, end);
        this.guard = undefined;
        return { replies };
      }
      case ServerCode.DataRow: {
        if (this.guard === undefined) this.startResult();
        if (this.ended) return { replacement: null };
        const replacement = this.guard?.guard.row(buffer, start, end);
        if (replacement === null) return { replacement };
        const replies = replacement
          ? this.tracker.onServerFrame(code, replacement, 0, replacement.length)
          : this.tracker.onServerFrame(code, buffer, start, end);
        return { replacement, replies };
      }
      case ServerCode.CommandComplete:
      case ServerCode.PortalSuspended: {
        const exceeded = this.guard?.guard.exceededBy;
        this.finishResult();
        if (!exceeded) return { replies: this.tracker.onServerFrame(code, buffer, start, end) };
        const replacement = errorResponse(
          'ERROR',
          BUDGET_SQLSTATE,
          `${exceeded} exceeded: the rest of the result was not sent`,
        );
        return { replacement, replies: this.tracker.onServerFrame(ServerCode.ErrorResponse, replacement, 0, replacement.length, true) };
      }
      case ServerCode.ErrorResponse:
      case ServerCode.NoticeResponse: {
        const head = this.tracker.head();
        if (code === ServerCode.ErrorResponse) {
          this.finishResult();
          if (head?.blocked && head.decision) {
            const replacement = errorResponse('ERROR', '42501', refusalMessage(head.decision));
            return { replacement, replies: this.tracker.onServerFrame(code, replacement, 0, replacement.length) };
          }
        }
        const replacement = maskNotice(code, buffer, start, end, textMasking(this.policy.current(), head?.decision, this.computedStyle(head?.decision) !== undefined));
        if (!replacement) return { replies: this.tracker.onServerFrame(code, buffer, start, end) };
        return { replacement, replies: this.tracker.onServerFrame(code, replacement, 0, replacement.length) };
      }
      case ServerCode.NotificationResponse: {
        const replacement = maskNotification(buffer, start, end, textMasking(this.policy.current(), undefined).ctx);
        return { replacement, replies: this.tracker.onServerFrame(code, buffer, start, end) };
      }
      case ServerCode.EmptyQueryResponse:
      case ServerCode.ReadyForQuery: {
        this.finishResult();
        const silent = code === ServerCode.ReadyForQuery && this.tracker.silentSyncAhead();
        const replies = this.tracker.onServerFrame(code, buffer, start, end);
        return silent ? { replacement: null, replies } : { replies };
      }
      case ServerCode.ParameterStatus: {
        const problem = serverSettingProblem(buffer, start, end);
        if (!problem) return { replies: this.tracker.onServerFrame(code, buffer, start, end) };
        // Too late to refuse the statement that changed it: end the session before the next one.
        this.end('error', problem, errorResponse('FATAL', SqlState.FeatureNotSupported, problem));
        return { replacement: null };
      }
      default:
        return { replies: this.tracker.onServerFrame(code, buffer, start, end) };
    }
  }

  /** Looks at a result's statement: what to mask, what budget applies (null: nothing to do). */
  private startResult(): void {
    const head = this.tracker.head();
    const policy = this.policy.current();
    const decision = head?.decision;
    const catalog = this.maskedColumns;
    if (masksKeyOf(policy.compiled) !== catalog.key) {
      // Read at login for other masks: where these are is not known on this session (statements
      // prepared then were judged without them, too).
      this.guard = null;
      this.kill(SqlState.AdminShutdown, 'the policy in force now masks other columns; reconnect to read through the new masks');
      return;
    }
    // Rows of a portal bound to a statement the agent never judged: every value is withheld.
    const unjudged = head?.type === 'execute' && head.unjudged === true;
    // Where masked columns exist, every result is looked at: a column read from one is masked
    // even when no rule named the table it was read through (a partition, a child table).
    const byOrigin = catalog.byOrigin.size > 0;
    if (!unjudged && !byOrigin && !ResultGuard.needed(policy, decision)) {
      this.guard = null;
      return;
    }
    const budget = statementBudget(policy.compiled, this.identity.subject, new Date());
    // What the statement reads tells masked columns from others, wherever column masks may apply.
    const analysis = decision && (byOrigin || decision.masks?.computed !== undefined) ? this.judge.analysisOf(decision) : undefined;
    const tops = analysis?.statements.filter((s) => !s.nested);
    const facts = {
      tables: analysis ? analysis.statements.flatMap((s) => s.tables) : [],
      results: tops?.length === 1 ? tops[0]!.results : undefined,
      catalog,
      computed: unjudged ? ('null' as const) : this.computedStyle(decision),
    };
    const guard = new ResultGuard(unjudged ? undefined : this.tracker.resultColumns(), decision, policy, facts, budget);
    this.guard = guard.active ? { guard, policy } : null;
  }

  /**
   * The style of computed values of a statement that reads a table holding masked columns in this
   * database (by name, or through a child table no rule names); none for other statements, even
   * under a mask of a column name in any table.
   */
  private computedStyle(decision: Decision | undefined): MaskStyle | undefined {
    const catalog = this.maskedColumns;
    const analysis = decision && catalog.tableNames.size > 0 ? this.judge.analysisOf(decision) : undefined;
    if (!analysis?.statements.some((s) => s.tables.some((t) => catalog.tableNames.has(t.name)))) return undefined;
    return decision?.masks?.computed ?? catalog.strictest;
  }

  /** The result is done: its mask counts go to the recording, its size to the hourly budget. */
  private finishResult(): void {
    const current = this.guard;
    this.guard = undefined;
    if (!current) return;
    const head = this.tracker.head();
    if (head && current.guard.counts.size > 0) {
      const counts = (head.maskedCounts ??= new Map());
      for (const [entity, n] of current.guard.counts) counts.set(entity, (counts.get(entity) ?? 0) + n);
    }
    recordUsage(current.policy.compiled, this.identity.subject, current.guard.rows, current.guard.bytes, new Date());
  }

  private toUpstream(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) this.client.pause();
  }

  private toClient(bytes: Buffer): void {
    this.bytesToClient += bytes.length;
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
