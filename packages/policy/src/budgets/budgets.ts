/**
 * Data budgets as pure state machines: the caller passes counts and the time.
 *
 * When a budget is exceeded the agent stops sending the statement's rows, discards the rest of
 * the result, and ends the statement with an ErrorResponse carrying BUDGET_SQLSTATE (53400,
 * configuration_limit_exceeded) and a message naming the limit ("row budget of 1000 rows per
 * statement exceeded"); rows already sent stay sent. An HTTP response is cut the same way and
 * the client sees the stream end with an error event (or a 429 if nothing was sent yet).
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

/** Counts one statement's result. */
export class StatementBudget {
  rows = 0;
  bytes = 0;
  /** Which limit was crossed, for the error message. */
  exceededBy?: string;

  constructor(private readonly limits: StatementLimits) {}

  /** Call for each row before sending it; a row that crosses a limit is not sent. */
  onRow(bytes: number): BudgetVerdict {
    if (this.exceededBy) return 'exceeded';
    const { maxRows, maxBytes } = this.limits;
    if (maxRows !== undefined && this.rows + 1 > maxRows) this.exceededBy = `row budget of ${maxRows} rows`;
    else if (maxBytes !== undefined && this.bytes + bytes > maxBytes)
      this.exceededBy = `byte budget of ${maxBytes} bytes`;
    if (this.exceededBy) return 'exceeded';
    this.rows++;
    this.bytes += bytes;
    return 'ok';
  }
}

const HOUR_MS = 3_600_000;
const SLOT_MS = 60_000; // a sliding hour kept as 60 one-minute slots

interface Usage {
  /** slot start (ms) -> [rows, bytes] */
  slots: Map<number, [number, number]>;
}

/**
 * Rows and bytes per identity over the last hour (a sliding window of one-minute slots).
 * One instance per agent; `statement()` gives each statement a budget that also stops at what
 * the identity has left this hour.
 */
export class IdentityBudgets {
  private readonly usage = new Map<string, Usage>();

  constructor(
    private readonly limits: IdentityLimits,
    private readonly perStatement: StatementLimits = {},
  ) {}

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
  check(subject: string, now: Date): BudgetVerdict {
    const { rows, bytes } = this.used(subject, now);
    const { rowsPerHour, bytesPerHour } = this.limits;
    return (rowsPerHour !== undefined && rows >= rowsPerHour) || (bytesPerHour !== undefined && bytes >= bytesPerHour)
      ? 'exceeded'
      : 'ok';
  }

  /** A statement budget bounded by the per-statement limits and what the identity has left. */
  statement(subject: string, now: Date): StatementBudget {
    const { rows, bytes } = this.used(subject, now);
    const left = (limit: number | undefined, used: number) =>
      limit === undefined ? undefined : Math.max(0, limit - used);
    const min = (a: number | undefined, b: number | undefined) =>
      a === undefined ? b : b === undefined ? a : Math.min(a, b);
    return new StatementBudget({
      maxRows: min(this.perStatement.maxRows, left(this.limits.rowsPerHour, rows)),
      maxBytes: min(this.perStatement.maxBytes, left(this.limits.bytesPerHour, bytes)),
    });
  }

  /** Adds what a statement sent (call when it ends, exceeded or not). */
  record(subject: string, rows: number, bytes: number, now: Date): void {
    let u = this.usage.get(subject);
    if (!u) this.usage.set(subject, (u = { slots: new Map() }));
    const slot = now.getTime() - (now.getTime() % SLOT_MS);
    const cur = u.slots.get(slot) ?? [0, 0];
    u.slots.set(slot, [cur[0] + rows, cur[1] + bytes]);
  }
}
