import type { CompiledPolicy } from '@portcullis/policy';

/**
 * The policy in force on this agent, compiled once per snapshot (detectors built, rules
 * validated). Engines read `current()` per statement or request and never cache it, so a new
 * policy applies to the next one; a snapshot whose policy cannot be compiled is rejected whole
 * and the previous policy stays.
 */
export interface ActivePolicy {
  current(): { compiled: CompiledPolicy; version: number; hashKey: string };
}
