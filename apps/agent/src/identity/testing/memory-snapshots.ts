import type { ConfigSnapshot } from '@portcullis/proto';
import type { SnapshotSource } from '../../snapshot/snapshot-source.js';

/** A SnapshotSource held in memory, for tests: `apply` behaves like a snapshot from the stream. */
export class MemorySnapshots implements SnapshotSource {
  private snapshot: ConfigSnapshot | undefined;
  private readonly listeners: ((next: ConfigSnapshot, previous: ConfigSnapshot | undefined) => void)[] = [];

  constructor(initial?: ConfigSnapshot) {
    this.snapshot = initial;
  }

  current(): ConfigSnapshot | undefined {
    return this.snapshot;
  }

  onApplied(listener: (next: ConfigSnapshot, previous: ConfigSnapshot | undefined) => void): void {
    this.listeners.push(listener);
  }

  apply(next: ConfigSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    for (const listener of this.listeners) listener(next, previous);
  }
}
