/** An error the user can act on: printed as one line on stderr, then the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Wrong or missing input: exit code 2, as for a command line the parser refused. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** Turns a failed fetch into "cannot reach <what> at <url>: <reason>". */
export function unreachable(what: string, url: string, err: unknown): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const reason =
    e.name === 'TimeoutError' ? 'timed out' : (NETWORK_REASONS[e.cause?.code ?? ''] ?? e.cause?.message ?? e.message);
  return new CliError(`cannot reach ${what} at ${url}: ${reason}`);
}
