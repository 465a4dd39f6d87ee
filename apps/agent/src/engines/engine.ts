/**
 * One engine per protocol (postgres, http), registered by name in main.ts. An engine owns its
 * listener and every client connection on it; it reads config per connection from the
 * SnapshotSource, checks identity with the shared verifier and access checks, and reports to
 * the Recorder.
 */
export interface Engine {
  readonly protocol: 'postgres' | 'http';
  /** Start listening; resolves with the bound address once ready. */
  listen(): Promise<{ host: string; port: number }>;
  /** End every client session of this subject now (identity disabled), with the reason given. */
  endSessionsOf(subject: string, reason: string): number;
  /** Number of live client sessions. */
  liveSessions(): number;
  close(): Promise<void>;
}
