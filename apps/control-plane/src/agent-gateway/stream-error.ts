import type { status } from '@grpc/grpc-js';

/** Ends an agent's Connect stream with this gRPC status; `details` is shown to the agent. */
export class StreamError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }
}
