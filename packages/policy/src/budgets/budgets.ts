/**
 * Data budgets as pure state machines: the caller passes counts and the time.
 *
 * When a budget is exceeded the agent stops sending the statement's rows, discards the rest of
 * the result, and ends the statement with an ErrorResponse carrying BUDGET_SQLSTATE (53400,
 * configuration_limit_exceeded) and a message naming the limit ("row budget of 1000 rows per
 * statement exceeded", "hourly row budget of 50000 rows (120 left this hour) exceeded"); rows
 * already sent stay sent. An HTTP response is cut the same way and the client sees the stream end
 * with an error event (or a 429 if nothing was sent yet).
 */
export const BUDGET_SQLSTATE = '53400';

export type BudgetVerdict = 'ok' | 'exceeded';

export interface StatementLimits {
  maxRows?: number;
  maxBytes?: number;
}

export interface IdentityLimits {
  rowsPerHour?: number;
  bytesPerHour?: number;
}

/** Counts one statement's result against the tighter of its own limits and what the hour has left. */
export class StatementBudget {
  rows = 0;
  bytes = 0;
  /** The limit that was crossed, in words for the error message. */
  exceededBy?: string;
  private readonly rowLimit: Limit;
  private readonly byteLimit: Limit;

  constructor(perStatement: StatementLimits, hourly?: { limits: IdentityLimits; used: { rows: number; bytes: number } }) {
    this.rowLimit = tighter('row', perStatement.maxRows, hourly?.limits.rowsPerHour, hourly?.used.rows ?? 0);
    this.byteLimit = tighter('byte', perStatement.maxBytes, hourly?.limits.bytesPerHour, hourly?.used.bytes ?? 0);
  }

  /** Call for each row before sending it; a row that crosses a limit is not sent. */
  onRow(bytes: number): BudgetVerdict {
    if (this.exceededBy) return 'exceeded';
    if (this.rowLimit.max !== undefined && this.rows + 1 > this.rowLimit.max) this.exceededBy = this.rowLimit.says;
    else if (this.byteLimit.max !== undefined && this.bytes + bytes > this.byteLimit.max) this.exceededBy = this.byteLimit.says;
    if (this.exceededBy) return 'exceeded';
    this.rows++;
    this.bytes += bytes;
    return 'ok';
  }
}

interface Limit {
  max?: number;
  says?: string;
}

/** The tighter of a per-statement limit and what an hourly one leaves, with the words for it. */
function tighter(unit: 'row' | 'byte', perStatement: number | undefined, perHour: number | undefined, used: number): Limit {
  const left = perHour === undefined ? undefined : Math.max(0, perHour - used);
  if (left !== undefined && (perStatement === undefined || left < perStatement)) {
    return { max: left, says: `hourly ${unit} budget of ${perHour} ${unit}s (${left} left this hour)` };
  }
  if (perStatement !== undefined) return { max: perStatement, says: `${unit} budget of ${perStatement} ${unit}s per statement` };
  return {};
}

const HOUR_MS = 3_600_000;
const SLOT_MS = 60_000; // a sliding hour kept as 60 one-minute slots

interface Usage {
  /** slot start (ms) -> [rows, bytes] */
  slots: Map<number, [number, number]>;
}

/**
 * Rows and bytes per identity over the last hour (a sliding window of one-minute slots), one
 * instance per agent. Usage is kept apart from the limits, which come with each call: a new
 * policy version changes what an identity may still receive, never what it already received.
 */
export class IdentityBudgets {
  private readonly usage = new Map<string, Usage>();
  private prunedAt = 0;

  /** What `subject` used in the hour before `now`. */
  used(subject: string, now: Date): { rows: number; bytes: number } {
    const u = this.usage.get(subject);
    let rows = 0;
    let bytes = 0;
    if (!u) return { rows, bytes };
    const oldest = now.getTime() - HOUR_MS;
    for (const [slot, [r, b]] of u.slots) {
      if (slot + SLOT_MS <= oldest) u.slots.delete(slot);
      else {
        rows += r;
        bytes += b;
      }
    }
    if (u.slots.size === 0) this.usage.delete(subject);
    return { rows, bytes };
  }

  /** Whether `subject` may start a statement at all (nothing left this hour: 'exceeded'). */
  check(subject: string, limits: IdentityLimits, now: Date): BudgetVerdict {
    const { rows, bytes } = this.used(subject, now);
    const { rowsPerHour, bytesPerHour } = limits;
    return (rowsPerHour !== undefined && rows >= rowsPerHour) || (bytesPerHour !== undefined && bytes >= bytesPerHour)
      ? 'exceeded'
      : 'ok';
  }

  /** A statement budget bounded by the per-statement limits and what the identity has left. */
  statement(subject: string, limits: IdentityLimits, perStatement: StatementLimits, now: Date): StatementBudget {
    return new StatementBudget(perStatement, { limits, used: this.used(subject, now) });
  }

  /** Adds what a statement sent (call when it ends, exceeded or not). */
  record(subject: string, rows: number, bytes: number, now: Date): void {
    let u = this.usage.get(subject);
    if (!u) this.usage.set(subject, (u = { slots: new Map() }));
    const slot = now.getTime() - (now.getTime() % SLOT_MS);
    const cur = u.slots.get(slot) ?? [0, 0];
    u.slots.set(slot, [cur[0] + rows, cur[1] + bytes]);
    // Identities that stopped coming back would otherwise stay forever.
    if (now.getTime() - this.prunedAt >= SLOT_MS) {
      this.prunedAt = now.getTime();
      for (const other of this.usage.keys()) this.used(other, now);
    }
  }

  /** Identities with usage kept (for tests and metrics). */
  get size(): number {
    return this.usage.size;
  }
}
