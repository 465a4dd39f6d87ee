import { performance } from 'node:perf_hooks';
import type { Decision } from '@portcullis/policy';
import type { Statement } from '@portcullis/proto';
import { BodyReader, ClientCode, parseErrorFields, ServerCode } from './protocol.js';

export interface RecordingLimits {
  /** Result rows kept per statement in the recording preview. */
  previewRows: number;
  /** Bytes of result values kept per statement. */
  previewBytes: number;
  /** Bytes of SQL text and of each parameter kept; longer values are cut and marked. */
  textBytes: number;
}

/** The policy's say on a statement, and what masking did to its result (entity → count). */
export interface Judged {
  decision?: Decision;
  /** Blocked by policy: the upstream ran a stand-in that fails; its error is replaced. */
  blocked?: boolean;
  maskedCounts?: Map<string, number>;
}

/**
 * Where a client message stands among its COPY messages: how many COPY FROM STDIN ends
 * (CopyDone, CopyFail) and how many CopyData it sent before it. The server ignores a Sync it
 * reads in copy mode, which these tell.
 */
interface CopyStamp {
  copyEnds: number;
  copyData: number;
}

/** What the client is waiting for, in the order the server will answer. */
export type Pending =
  /** A simple Query: one statement per CommandComplete/Error, done at ReadyForQuery. */
  | ({ type: 'query'; text: string; startedAt: number; copies?: number } & Judged & CopyStamp)
  /**
   * An Execute of the extended protocol: done at CommandComplete/Error/PortalSuspended. Its text
   * and decision are its portal's statement's, known once the server has bound it.
   */
  | ({ type: 'execute'; portalName: string; portal?: Portal; text: string; parameters: string[]; startedAt: number; unjudged?: boolean; copies?: number } & Judged & CopyStamp)
  /** Sync: done at ReadyForQuery (silent: the agent's own Sync, whose answer the client never sees). */
  | ({ type: 'sync'; silent?: boolean } & CopyStamp)
  /** An answer the agent wrote itself (a refused statement), sent once everything before it is. */
  | { type: 'local'; bytes: Buffer };

interface PreparedStatement {
  text: string;
  decision?: Decision;
  /** What Describe said its rows are (null: none). */
  columns?: ResultColumn[] | null;
}

/** What Bind asked for; the statement it runs is the one the server held at BindComplete. */
interface Portal {
  name: string;
  statementName: string;
  parameters: string[];
  resultFormats: number[];
  /** Set at BindComplete: what the server bound (undefined: a statement the agent does not know). */
  statement?: PreparedStatement;
  /** The statement Bind asked for, as far as the agent knew when it was sent (for the recording of a failed Bind). */
  asked?: PreparedStatement;
  /** What Describe said its rows are (null: none). */
  columns?: ResultColumn[] | null;
  /** SQL DECLARE or CLOSE of its name was sent while its Bind was in flight. */
  forgotten?: boolean;
}

/**
 * Requests the server answers in order (ParseComplete, BindComplete, CloseComplete, a
 * description) or skips, up to the next Sync, after an error. The agent's view of statements
 * and portals changes only as the server's does: a Parse the server refuses (a name in use) or
 * skips must not replace what a later Bind runs, nor a Describe of one statement describe
 * another's rows.
 */
type Awaited = { sync: number } & (
  | { kind: 'parse'; name: string; statement: PreparedStatement; forgotten?: boolean }
  | { kind: 'bind'; portal: Portal }
  | { kind: 'close'; statement?: string; portal?: string }
  | { kind: 'describe'; statement?: string; portal?: string }
);

/** The agent can no longer tell which statement the server's answers belong to: the session must end. */
export class OutOfStep extends Error {}

/** A result column as RowDescription (and Bind's result formats) describe it. */
export interface ResultColumn {
  name: string;
  /** The table column it is read from as is (0 when computed), through aliases, subqueries and CTEs. */
  tableOid: number;
  columnNumber: number;
  typeOid: number;
  /** 0 text, 1 binary. */
  format: number;
}

/**
 * The side parser of a session: watches the frames going each way (never changing them) and
 * turns them into Statements: SQL from Query or Parse, parameters from Bind, then the command
 * tag, row count, error and a capped result preview from the server's answer. It also keeps the
 * order of answers so the agent can slot its own replies (refusals) in the right place.
 */
export class StatementTracker {
  /** Statements the server holds (ParseComplete), by name. */
  private readonly preparedStatements = new Map<string, PreparedStatement>();
  private readonly sqlPrepared = new Set<string>();
  private readonly awaiting: Awaited[] = [];
  /** Syncs sent upstream and answered, to tell which requests an error takes with it. */
  private syncsSent = 0;
  private syncsAnswered = 0;
  /** Portals the server holds (BindComplete), by name; they end with their transaction. */
  private readonly portals = new Map<string, Portal>();
  /** COPY FROM STDIN ends (CopyDone, CopyFail) the client sent, and COPYs the server began: it ignores Syncs in between. */
  private copyEnds = 0;
  private copiesBegun = 0;
  /**
   * The server failed a COPY FROM STDIN before the client ended it: the server has left copy
   * mode, and ignores the client's CopyData, CopyDone and CopyFail until its next Sync or Query.
   */
  private copyAbandoned = false;
  /** CopyData messages the client sent, and how many it had sent when the COPY under way was asked for. */
  private copyData = 0;
  private copyDataBefore = 0;
  /** A Sync the client sent between CopyData of the COPY under way (the server ignored it, unless the COPY had failed by then). */
  private syncAmidCopyData = false;
  private readonly queue: Pending[] = [];
  private index = 0;
  private lastCompletedAt = 0;
  /** Transaction status of the last ReadyForQuery ('I', 'T' or 'E'). */
  transactionStatus = 0x49;

  // Result preview of the statement being answered.
  /** Columns of the result being answered (undefined until known). */
  private current: ResultColumn[] | undefined;
  private rows: unknown[][] = [];
  private previewBytes = 0;
  private truncated = false;

  constructor(
    private readonly limits: RecordingLimits,
    private readonly traceId: string,
    private readonly record: (statement: Statement) => void,
    /** Masks what the client sent (SQL text, parameters) before it is recorded. */
    private readonly redact: (text: string, decision: Decision | undefined) => string = (text) => text,
  ) {}

  /** Number of answers the client still waits for. */
  get waiting(): number {
    return this.queue.length;
  }

  /** The statement whose answer comes next (undefined when the head is a Sync or a local reply). */
  head(): (Pending & { type: 'query' | 'execute' }) | undefined {
    const head = this.queue[0];
    if (head?.type === 'execute') {
      // The portal the server runs: every Bind and Close sent before this Execute is answered by
      // now (a Bind in flight when it was sent may have failed).
      const portal = this.portals.get(head.portalName);
      head.portal = portal;
      if (portal?.statement) {
        head.text = portal.statement.text;
        head.decision = portal.statement.decision;
      }
      // No portal, or one bound to a statement the agent never judged (SQL PREPARE): its rows
      // cannot be masked by a decision.
      head.unjudged = !portal?.statement;
    }
    return head?.type === 'query' || head?.type === 'execute' ? head : undefined;
  }

  /**
   * Columns of the result being answered: its RowDescription, or for an Execute what Describe
   * said of its portal or statement earlier (drivers describe a statement once and then only
   * Bind and Execute it). Undefined when nothing said.
   */
  resultColumns(): ResultColumn[] | undefined {
    if (this.current) return this.current;
    const head = this.head();
    if (head?.type !== 'execute' || !head.portal) return undefined;
    const described = head.portal.columns ?? head.portal.statement?.columns;
    if (described) this.useColumns(described, head.portal.resultFormats);
    return this.current;
  }

  /**
   * SQL-level PREPARE, DEALLOCATE and DISCARD change the server's statements under names the
   * protocol uses too: those names are forgotten (`undefined`: all). A name SQL PREPARE gave holds
   * a statement the policy never judged as a Bind would run it, until it is deallocated.
   */
  forgetStatements(names: readonly string[] | undefined, preparedBySql: boolean): void {
    const hit = (name: string) => names === undefined || names.includes(name);
    for (const name of [...this.preparedStatements.keys()]) if (hit(name)) this.preparedStatements.delete(name);
    for (const a of this.awaiting) if (a.kind === 'parse' && hit(a.name)) a.forgotten = true;
    if (preparedBySql) for (const name of names ?? []) this.sqlPrepared.add(name);
    else if (names === undefined) this.sqlPrepared.clear();
    else for (const name of names) this.sqlPrepared.delete(name);
  }

  /**
   * SQL DECLARE and CLOSE create and drop portals under names an Execute can run: the agent's
   * portal of that name (`undefined`: every portal) is forgotten, so rows the policy never judged
   * as that Execute would run them are withheld.
   */
  forgetPortal(name: string | undefined): void {
    if (name === undefined) this.portals.clear();
    else this.portals.delete(name);
    for (const a of this.awaiting) if (a.kind === 'bind' && (name === undefined || a.portal.name === name)) a.portal.forgotten = true;
  }

  /** Whether SQL PREPARE holds this name on the server. */
  preparedBySql(name: string): boolean {
    return this.sqlPrepared.has(name);
  }

  /**
   * A statement blocked by policy: the upstream is sent a stand-in that fails (so transaction
   * state stays right), and its answer is recorded as this statement.
   */
  onBlocked(text: string, decision: Decision): void {
    this.queue.push({ type: 'query', text: this.cut(text), startedAt: performance.now(), decision, blocked: true, ...this.copyStamp() });
  }

  /** The agent sends a Sync of its own; its ReadyForQuery is not for the client. */
  onSilentSync(): void {
    this.syncsSent++;
    this.queue.push({ type: 'sync', silent: true, ...this.copyStamp() });
  }

  /** What a Bind sent now may run: a Parse of that name still in flight, else the one the server holds. */
  private statement(name: string): PreparedStatement | undefined {
    for (let i = this.awaiting.length - 1; i >= 0; i--) {
      const a = this.awaiting[i]!;
      if (a.kind === 'parse' && a.name === name) return a.forgotten ? undefined : a.statement;
    }
    return this.preparedStatements.get(name);
  }

  /** The next ReadyForQuery answers the agent's own Sync. */
  silentSyncAhead(): boolean {
    const head = this.queue.find((p) => p.type !== 'execute');
    return head?.type === 'sync' && head.silent === true;
  }

  /** A client frame that is being forwarded to the upstream (with the policy's decision on its SQL). */
  onClientFrame(code: number, buffer: Buffer, start: number, end: number, decision?: Decision): void {
    switch (code) {
      case ClientCode.Query:
        this.copyAbandoned = false;
        this.queue.push({ type: 'query', text: this.text(buffer, start + 5, end - 1), startedAt: performance.now(), decision, ...this.copyStamp() });
        break;
      case ClientCode.Parse: {
        const body = new BodyReader(buffer, start + 5, end);
        const name = body.cstring();
        const zero = buffer.indexOf(0, body.offset);
        const text = this.text(buffer, body.offset, zero < 0 || zero >= end ? end : zero);
        this.awaiting.push({ kind: 'parse', name, statement: { text, decision }, sync: this.syncsSent });
        break;
      }
      case ClientCode.Bind:
        this.onBind(buffer, start, end);
        break;
      case ClientCode.Execute: {
        const portalName = new BodyReader(buffer, start + 5, end).cstring();
        // What the recording says if the server never runs it (its Bind failed).
        const portal = this.portal(portalName);
        const asked = portal?.statement ?? portal?.asked;
        this.queue.push({
          type: 'execute',
          portalName,
          portal,
          text: asked?.text ?? '',
          decision: asked?.decision,
          parameters: portal?.parameters ?? [],
          startedAt: performance.now(),
          ...this.copyStamp(),
        });
        break;
      }
      case ClientCode.Describe:
        this.awaiting.push({ kind: 'describe', ...statementOrPortal(buffer, start, end), sync: this.syncsSent });
        break;
      case ClientCode.Close:
        this.awaiting.push({ kind: 'close', ...statementOrPortal(buffer, start, end), sync: this.syncsSent });
        break;
      case ClientCode.CopyData:
        this.copyData++;
        break;
      case ClientCode.CopyDone:
      case ClientCode.CopyFail:
        // Ending a COPY the server already failed: it ignores this.
        if (this.copyAbandoned) this.copyAbandoned = false;
        else this.copyEnds++;
        break;
      case ClientCode.Sync:
        this.copyAbandoned = false;
        // The server ignores a Sync that reaches it during COPY FROM STDIN.
        if (this.copiesBegun > this.copyEnds) {
          if (this.copyData > this.copyDataBefore) this.syncAmidCopyData = true;
          break;
        }
        this.syncsSent++;
        this.queue.push({ type: 'sync', ...this.copyStamp() });
        break;
    }
  }

  /**
   * A server frame on its way to the client. Returns the agent's own replies that must follow
   * it (queued refusals whose turn has come), if any.
   */
  onServerFrame(code: number, buffer: Buffer, start: number, end: number, synthetic = false): Buffer[] | undefined {
    switch (code) {
      case ServerCode.RowDescription: {
        const columns = readRowDescription(buffer, start, end);
        // In the extended protocol a RowDescription answers a Describe; in a simple Query, a statement.
        if (this.queue[0]?.type === 'query' || !this.awaiting.some((a) => a.kind === 'describe')) this.useColumns(columns, undefined);
        else this.onDescription(columns);
        return undefined;
      }
      case ServerCode.DataRow:
        if (!this.current) this.resultColumns();
        if (!this.truncated) this.onDataRow(buffer, start, end);
        return undefined;
      case ServerCode.ParseComplete: {
        const parsed = this.answered('parse');
        if (parsed && !parsed.forgotten) this.preparedStatements.set(parsed.name, parsed.statement);
        return undefined;
      }
      case ServerCode.BindComplete: {
        const { portal } = this.answered('bind');
        if (portal.forgotten) return undefined;
        portal.statement = this.preparedStatements.get(portal.statementName);
        this.portals.set(portal.name, portal);
        return undefined;
      }
      case ServerCode.CloseComplete: {
        const closed = this.answered('close');
        if (closed.statement !== undefined) this.preparedStatements.delete(closed.statement);
        if (closed.portal !== undefined) this.portals.delete(closed.portal);
        return undefined;
      }
      case ServerCode.CopyInResponse:
        this.onCopyIn();
        return undefined;
      case ServerCode.NoData:
        this.onDescription(null);
        return undefined;
      case ServerCode.CommandComplete:
        this.complete(new BodyReader(buffer, start + 5, end).cstring(), undefined);
        break;
      case ServerCode.EmptyQueryResponse:
        if (this.queue[0]?.type === 'execute') this.queue.shift();
        this.resetPreview();
        break;
      case ServerCode.PortalSuspended:
        this.complete('', undefined);
        break;
      case ServerCode.ErrorResponse:
        this.onError(buffer, start, end, synthetic);
        break;
      case ServerCode.ReadyForQuery:
        this.transactionStatus = buffer[start + 5] ?? this.transactionStatus;
        while (this.queue[0]?.type === 'execute') this.queue.shift();
        if (this.queue[0]?.type === 'sync') {
          this.syncsAnswered++;
          // Requests of that batch sent after its error reached the agent were skipped too.
          while (this.awaiting[0] !== undefined && this.awaiting[0].sync < this.syncsAnswered) this.awaiting.shift();
        }
        if (this.queue[0]?.type === 'query' || this.queue[0]?.type === 'sync') this.queue.shift();
        // Portals end with their transaction.
        if (this.transactionStatus === 0x49) this.portals.clear();
        this.resetPreview();
        break;
      default:
        return undefined;
    }
    return this.queue[0]?.type === 'local' ? this.takeLocalReplies() : undefined;
  }

  /**
   * Queues the agent's own reply; returns it when it can be written right away (nothing is
   * pending before it), else it leaves with the server frame that precedes it.
   */
  reply(bytes: Buffer): Buffer | undefined {
    if (this.queue.length === 0) return bytes;
    this.queue.push({ type: 'local', bytes });
    return undefined;
  }

  private takeLocalReplies(): Buffer[] | undefined {
    let replies: Buffer[] | undefined;
    while (this.queue[0]?.type === 'local') {
      (replies ??= []).push((this.queue.shift() as { bytes: Buffer }).bytes);
    }
    return replies;
  }

  private onBind(buffer: Buffer, start: number, end: number): void {
    const body = new BodyReader(buffer, start + 5, end);
    const portalName = body.cstring();
    const statementName = body.cstring();
    const formats: number[] = [];
    for (let n = body.int16(); n > 0; n--) formats.push(body.int16());
    const parameters: string[] = [];
    const count = body.int16();
    for (let i = 0; i < count; i++) {
      const length = body.int32();
      if (length < 0) {
        parameters.push('NULL');
        continue;
      }
      const format = formats.length === 1 ? formats[0] : formats[i];
      parameters.push(this.value(body.bytes(length), format ?? 0, this.limits.textBytes));
    }
    const resultFormats: number[] = [];
    for (let n = body.int16(); n > 0; n--) resultFormats.push(body.int16());
    const portal: Portal = { name: portalName, statementName, parameters, resultFormats, asked: this.statement(statementName) };
    this.awaiting.push({ kind: 'bind', portal, sync: this.syncsSent });
  }

  /** The portal an Execute or Describe sent now names: one bound in flight, else the one the server holds. */
  private portal(name: string): Portal | undefined {
    for (let i = this.awaiting.length - 1; i >= 0; i--) {
      const a = this.awaiting[i]!;
      if (a.kind === 'bind' && a.portal.name === name) return a.portal;
    }
    return this.portals.get(name);
  }

  /** The oldest request awaiting its answer, which must be of this kind. */
  private answered<K extends Awaited['kind']>(kind: K): Extract<Awaited, { kind: K }> {
    const first = this.awaiting.shift();
    if (first?.kind === kind) return first as Extract<Awaited, { kind: K }>;
    // Out of step with the server: nothing it runs can be judged any more; the session ends.
    throw new OutOfStep(`the server answered a ${kind} the agent did not expect`);
  }

  /** A RowDescription or NoData answering a Describe: kept with what it describes. */
  private onDescription(columns: ResultColumn[] | null): void {
    const described = this.answered('describe');
    const target =
      described.portal !== undefined ? this.portals.get(described.portal) : described.statement !== undefined ? this.preparedStatements.get(described.statement) : undefined;
    if (target) target.columns = columns;
    // The Describe of the portal about to be executed: its rows follow.
    const head = this.queue[0];
    if (head?.type === 'execute' && head.portal && target === head.portal && columns) this.useColumns(columns, head.portal.resultFormats);
  }

  /**
   * COPY FROM STDIN began: the server takes data until the client's CopyDone or CopyFail, and
   * ignores the Syncs it reads meanwhile. One the client sent after the Query or Execute running
   * this COPY and before it ended it (libpq sends Execute, Sync, then the data) will not be
   * answered. A simple Query may run several COPYs, each ended in turn.
   */
  private onCopyIn(): void {
    this.copiesBegun++;
    this.syncAmidCopyData = false;
    const head = this.queue[0];
    if (head?.type !== 'execute' && head?.type !== 'query') {
      this.copyDataBefore = this.copyData;
      return;
    }
    head.copies = (head.copies ?? 0) + 1;
    const ending = head.copyEnds + head.copies - 1;
    // Data a pipelining client sent before this COPY began on the server is for it.
    this.copyDataBefore = head.copyData;
    for (let i = this.queue.length - 1; i > 0; i--) {
      const p = this.queue[i]!;
      if (p.type !== 'sync' || p.copyEnds !== ending) continue;
      if (p.copyData > head.copyData) this.syncAmidCopyData = true;
      // Requests sent after this Sync belong to the batch before it after all.
      const ordinal = this.syncsAnswered + this.queue.slice(0, i).filter((q) => q.type === 'sync').length;
      this.queue.splice(i, 1);
      this.syncsSent--;
      for (const a of this.awaiting) if (a.sync > ordinal) a.sync--;
    }
  }

  private copyStamp(): CopyStamp {
    return { copyEnds: this.copyEnds, copyData: this.copyData };
  }

  /**
   * The server failed a COPY FROM STDIN the client had not ended: it has left copy mode, so the
   * client's Syncs count again and its end of this COPY will be ignored. A Sync sent between the
   * COPY's data may have been ignored (before the failing row) or answered (after it): the agent
   * cannot tell which, so it stops rather than guess what the server's answers belong to.
   */
  private onCopyFailed(): void {
    if (this.syncAmidCopyData) throw new OutOfStep('a Sync was sent in the middle of COPY data that the server failed');
    this.copyEnds = this.copiesBegun;
    this.copyAbandoned = true;
  }

  /** The result's columns, in the formats Bind asked for when given (a Describe reports formats as unknown). */
  private useColumns(columns: ResultColumn[], resultFormats: number[] | undefined): void {
    const formats = resultFormats ?? [];
    this.current = formats.length === 0 ? columns : columns.map((c, i) => ({ ...c, format: formats[formats.length === 1 ? 0 : i] ?? 0 }));
  }

  private onDataRow(buffer: Buffer, start: number, end: number): void {
    if (this.rows.length >= this.limits.previewRows || this.previewBytes >= this.limits.previewBytes) {
      this.truncated = true;
      return;
    }
    const body = new BodyReader(buffer, start + 5, end);
    const row: unknown[] = [];
    for (let i = body.int16(); i > 0; i--) {
      const length = body.int32();
      if (length < 0) {
        row.push(null);
        continue;
      }
      const budget = this.limits.previewBytes - this.previewBytes;
      if (length > budget) this.truncated = true;
      this.previewBytes += Math.min(length, budget);
      row.push(this.value(body.bytes(length), this.current?.[row.length]?.format ?? 0, Math.max(budget, 0)));
    }
    this.rows.push(row);
  }

  private onError(buffer: Buffer, start: number, end: number, synthetic: boolean): void {
    if (!synthetic && this.copiesBegun > this.copyEnds) this.onCopyFailed();
    const head = this.queue[0];
    // An error in the extended protocol: the server skips everything up to the next Sync, so
    // the requests before it are never answered (the failed one included).
    if (!synthetic && head?.type !== 'query') {
      while (this.awaiting[0] !== undefined && this.awaiting[0].sync === this.syncsAnswered) this.awaiting.shift();
    }
    if (head?.type !== 'query' && head?.type !== 'execute') return;
    const fields = parseErrorFields(buffer, start, end);
    this.complete('', { code: fields.get('C') ?? '', message: fields.get('M') ?? '' });
    // After an error the server skips everything up to the next Sync (not after the agent's own
    // error in place of a CommandComplete: the server carries on).
    if (!synthetic) while (this.queue[0]?.type === 'execute') this.queue.shift();
  }

  private complete(tag: string, error: { code: string; message: string } | undefined): void {
    const head = this.head() ?? this.queue[0];
    if (head?.type !== 'query' && head?.type !== 'execute') {
      this.resetPreview();
      return;
    }
    if (head.type === 'execute') this.queue.shift();
    const now = performance.now();
    const durationMs = now - Math.max(head.startedAt, this.lastCompletedAt);
    this.lastCompletedAt = now;
    const count = /(\d+)$/.exec(tag);
    this.record({
      index: this.index++,
      kind: (tag.split(' ')[0] || firstKeyword(head.text)).toUpperCase(),
      text: this.redact(head.text, head.decision),
      parameters: head.type === 'execute' ? head.parameters.map((p) => this.redact(p, head.decision)) : [],
      commandTag: tag,
      rowCount: count ? Number(count[1]) : 0,
      errorCode: error?.code ?? '',
      errorMessage: error?.message ?? '',
      durationMs: Math.round(durationMs * 1000) / 1000,
      resultJson:
        this.current?.length ? JSON.stringify({ columns: this.current.map((c) => c.name), rows: this.rows, truncated: this.truncated }) : '',
      result: undefined, // the deprecated Struct of earlier versions
      decision: head.decision && {
        action: head.decision.action,
        ruleIds: head.decision.ruleIds,
        policyVersion: head.decision.policyVersion,
        reason: head.decision.reason ?? '',
        maskedCounts: head.maskedCounts ? Object.fromEntries(head.maskedCounts) : {},
      },
      traceId: this.traceId,
    });
    this.resetPreview();
  }

  private resetPreview(): void {
    this.current = undefined;
    this.rows = [];
    this.previewBytes = 0;
    this.truncated = false;
  }

  private cut(text: string): string {
    const bytes = Buffer.byteLength(text);
    if (bytes <= this.limits.textBytes) return text;
    return this.text(Buffer.from(text), 0, bytes);
  }

  /** SQL text of [start, end), cut at the text limit. */
  private text(buffer: Buffer, start: number, end: number): string {
    const limit = this.limits.textBytes;
    if (end - start <= limit) return buffer.toString('utf8', start, end);
    return `${buffer.toString('utf8', start, start + limit)}…[${end - start - limit} more bytes]`;
  }

  /** A parameter or column value: text as is (cut), binary as \x hex (cut). */
  private value(bytes: Buffer, format: number, limit: number): string {
    if (format === 1) {
      const shown = bytes.subarray(0, Math.min(bytes.length, limit >> 1));
      return `\\x${shown.toString('hex')}${shown.length < bytes.length ? '…' : ''}`;
    }
    if (bytes.length <= limit) return bytes.toString('utf8');
    return `${bytes.toString('utf8', 0, limit)}…`;
  }
}

/** First SQL keyword of a statement, past comments and parentheses. */
export function firstKeyword(text: string): string {
  const match = /^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/|\()*([A-Za-z]+)/.exec(text);
  return match?.[1]?.toUpperCase() ?? '';
}

/** The columns a RowDescription describes. */
function readRowDescription(buffer: Buffer, start: number, end: number): ResultColumn[] {
  const body = new BodyReader(buffer, start + 5, end);
  const columns: ResultColumn[] = [];
  for (let i = body.int16(); i > 0; i--) {
    const name = body.cstring();
    const tableOid = body.int32() >>> 0;
    const columnNumber = body.int16();
    const typeOid = body.int32();
    body.bytes(6); // type size, type modifier
    columns.push({ name, tableOid, columnNumber, typeOid, format: body.int16() });
  }
  return columns;
}

/** What a Describe or Close names: a statement ('S') or a portal ('P'). */
function statementOrPortal(buffer: Buffer, start: number, end: number): { statement: string } | { portal: string } {
  const body = new BodyReader(buffer, start + 5, end);
  const kind = body.byte();
  const name = body.cstring();
  return kind === 0x53 ? { statement: name } : { portal: name };
}
