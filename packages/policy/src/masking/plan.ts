import type { CompiledPolicy, Decision } from '../decide/decide.js';
import { createMaskContext, type MaskContext } from './text.js';

/**
 * The masking context for a decision: the entities its mask plan names, in its style, with the
 * policy's detectors. Undefined when the decision masks no entities.
 */
export function maskContextFor(
  compiled: CompiledPolicy,
  decision: Decision,
  hashKey?: string | Uint8Array,
): MaskContext | undefined {
  const plan = decision.masks;
  if (!plan || plan.entities.length === 0) return undefined;
  return createMaskContext({ scanner: compiled.scanner, entities: plan.entities, style: plan.style, hashKey });
}
