import { IdentityBudgets, StatementBudget, type CompiledPolicy } from '@portcullis/policy';

/**
 * What each identity received through this agent in the last hour, counted while the policy in
 * force sets hourly limits. One count per agent (agents do not share it), kept across policy
 * versions: saving an unrelated rule does not give everyone a fresh hour.
 */
const hourly = new IdentityBudgets();

/** The data budget of one statement of `subject`, or undefined when the policy sets none. */
export function statementBudget(compiled: CompiledPolicy, subject: string, now: Date): StatementBudget | undefined {
  const budgets = compiled.policy.budgets;
  if (!budgets) return undefined;
  if (hasHourlyLimits(compiled)) return hourly.statement(subject, budgets.perIdentity!, budgets.statement ?? {}, now);
  return budgets.statement ? new StatementBudget(budgets.statement) : undefined;
}

/** Adds what a statement sent to the identity's hourly usage (no-op without hourly limits). */
export function recordUsage(compiled: CompiledPolicy, subject: string, rows: number, bytes: number, now: Date): void {
  if (hasHourlyLimits(compiled)) hourly.record(subject, rows, bytes, now);
}

function hasHourlyLimits(compiled: CompiledPolicy): boolean {
  const perIdentity = compiled.policy.budgets?.perIdentity;
  return Boolean(perIdentity && (perIdentity.rowsPerHour || perIdentity.bytesPerHour));
}
