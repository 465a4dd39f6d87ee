import {
  analyzeSql,
  decide,
  numericShape,
  PreparedStatements,
  type Decision,
  type SqlAnalysis,
} from '@portcullis/policy';
import type { ActivePolicy, PolicyInForce } from '../../policy/active-policy.js';

/** Their facts depend on what the session prepared before, not on the text alone. */
const SESSION_STATE_KINDS: ReadonlySet<string> = new Set(['PREPARE', 'EXECUTE', 'DEALLOCATE']);
/** Distinct statement shapes remembered per session; a client past this starts over. */
const MAX_REMEMBERED = 512;

/**
 * The policy's decisions on the SQL of one session, and the analyses behind them.
 *
 * Why it remembers: clients repeat a handful of statement shapes (pgbench -S sends one shape with
 * a new constant each time, ORMs a few dozen), and analysis plus decision is the costliest work
 * per statement. A decision depends only on the statement's analysis, the session's identity and
 * connection (fixed), the policy, and the clock (rule time windows). So it is reused for texts of
 * the same numeric shape while the same compiled policy is in force, unless that policy has time
 * windows or the statement reads or changes the session's SQL-level prepared statements.
 */
export class StatementJudge {
  /** SQL-level PREPARE statements seen, so EXECUTE is judged by what it runs. */
  private readonly prepared = new PreparedStatements();
  /** Statement analyses by decision, for table-qualified column masks. */
  private readonly analyses = new WeakMap<Decision, SqlAnalysis>();
  private readonly remembered = new Map<string, Decision>();
  private rememberedFor: PolicyInForce | undefined;
  private timeless = false;

  constructor(
    private readonly policy: ActivePolicy,
    private readonly connection: string,
    private readonly identity: { subject: string; groups: readonly string[] },
  ) {}

  /** The decision on one SQL text; anything that goes wrong blocks (fail closed). */
  judge(text: string): Decision {
    const active = this.policy.current();
    if (active !== this.rememberedFor) {
      this.remembered.clear();
      this.rememberedFor = active;
      this.timeless = !active.compiled.policy.rules.some((r) => r.match.notBefore || r.match.notAfter);
    }
    const key = this.timeless ? (numericShape(text) ?? text) : undefined;
    const known = key === undefined ? undefined : this.remembered.get(key);
    if (known) return known;
    try {
      const analysis = analyzeSql(text, { prepared: this.prepared.map });
      const decision = decide(
        { connection: this.connection, identity: this.identity, sql: analysis },
        active.compiled,
        new Date(),
      );
      if (decision.action !== 'block' && decision.action !== 'review') this.prepared.remember(analysis);
      this.analyses.set(decision, analysis);
      if (key !== undefined && !analysis.statements.some((s) => SESSION_STATE_KINDS.has(s.kind))) {
        if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
        this.remembered.set(key, decision);
      }
      return decision;
    } catch (error) {
      return {
        action: 'block',
        reason: `statement refused: the policy could not be evaluated (${(error as Error).message})`,
        ruleIds: [],
        policyVersion: active.version,
        considered: [],
      };
    }
  }

  /** The analysis a decision of this session was made on. */
  analysisOf(decision: Decision): SqlAnalysis | undefined {
    return this.analyses.get(decision);
  }
}
