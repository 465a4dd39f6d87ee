import { IdentityBudgets, StatementBudget, type CompiledPolicy } from '@portcullis/policy';

/**
 * Per-identity usage is kept per compiled policy: a policy version that changes the limits
 * starts counting afresh (usage does not carry across versions), one count per agent.
 */
const byPolicy = new WeakMap<CompiledPolicy, IdentityBudgets>();

/** The data budget of one statement of `subject`, or undefined when the policy sets none. */
export function statementBudget(compiled: CompiledPolicy, subject: string, now: Date): StatementBudget | undefined {
  const budgets = compiled.policy.budgets;
  if (!budgets) return undefined;
  if (budgets.perIdentity && (budgets.perIdentity.rowsPerHour || budgets.perIdentity.bytesPerHour)) {
    let identity = byPolicy.get(compiled);
    if (!identity) byPolicy.set(compiled, (identity = new IdentityBudgets(budgets.perIdentity, budgets.statement)));
    return identity.statement(subject, now);
  }
  return budgets.statement ? new StatementBudget(budgets.statement) : undefined;
}

/** Adds what a statement sent to the identity's hourly usage (no-op without hourly limits). */
export function recordUsage(compiled: CompiledPolicy, subject: string, rows: number, bytes: number, now: Date): void {
  byPolicy.get(compiled)?.record(subject, rows, bytes, now);
}
