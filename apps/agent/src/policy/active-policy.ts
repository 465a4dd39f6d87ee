import { compilePolicy, type CompiledPolicy } from '@portcullis/policy';
import type { ConfigSnapshot } from '@portcullis/proto';

/**
 * The policy in force on this agent, compiled once per snapshot (detectors built, rules
 * validated). Engines read `current()` per statement or request and never cache it, so a new
 * policy applies to the next one; a snapshot whose policy cannot be compiled is rejected whole
 * and the previous policy stays.
 */
export interface ActivePolicy {
  current(): { compiled: CompiledPolicy; version: number; hashKey: string };
}

export type PolicyInForce = ReturnType<ActivePolicy['current']>;

/**
 * Served while a snapshot carries no policy (a control plane older than policies): the
 * guardrails, everything else allowed, nothing masked. Version 0 in recordings says so.
 */
const NO_POLICY: PolicyInForce = {
  compiled: compilePolicy({ version: 0, defaultAction: 'allow' }),
  version: 0,
  hashKey: '',
};

/**
 * The ActivePolicy of the agent, fed by the snapshot store: `compile` runs while a snapshot is
 * validated (a failure rejects the snapshot), `install` when it is swapped in.
 */
export class SnapshotPolicy implements ActivePolicy {
  private active: PolicyInForce = NO_POLICY;

  current(): PolicyInForce {
    return this.active;
  }

  /** Compiles the snapshot's policy; reuses the one in force when version and key are the same. */
  compile(snapshot: ConfigSnapshot): { ok: true; policy: PolicyInForce } | { ok: false; error: string } {
    const policy = snapshot.policy;
    if (!policy) return { ok: true, policy: NO_POLICY };
    if (policy.version === this.active.version && policy.hashKey === this.active.hashKey && this.active !== NO_POLICY) {
      return { ok: true, policy: this.active };
    }
    if (!policy.document) return { ok: false, error: `policy ${policy.version}: document is missing` };
    try {
      const compiled = compilePolicy({ ...(policy.document as object), version: policy.version } as never);
      return { ok: true, policy: { compiled, version: policy.version, hashKey: policy.hashKey } };
    } catch (err) {
      return { ok: false, error: `policy ${policy.version}: ${(err as Error).message}` };
    }
  }

  install(policy: PolicyInForce): void {
    this.active = policy;
  }
}
