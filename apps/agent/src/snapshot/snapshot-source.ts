import type { ConfigSnapshot } from '@portcullis/proto';

/**
 * The agent's view of its desired state: the last snapshot applied (from the control plane or,
 * at start, from disk). Readers take `current()` per use and never cache it, so a new snapshot
 * (a deleted connection, a revoked grant, a disabled identity) applies to the next check.
 */
export interface SnapshotSource {
  current(): ConfigSnapshot | undefined;
  /** Called after each snapshot is applied, with the previous one (if any). */
  onApplied(listener: (next: ConfigSnapshot, previous: ConfigSnapshot | undefined) => void): void;
}
