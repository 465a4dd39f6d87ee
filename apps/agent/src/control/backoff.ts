/**
 * Exponential backoff with full jitter: each delay is uniform in [0, min(cap, initial * 2^n)),
 * so a fleet of agents does not reconnect in lockstep after a control-plane restart, and no
 * delay exceeds the cap.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (ceiling < this.maxMs) this.attempt++;
    return this.random() * ceiling;
  }

  reset(): void {
    this.attempt = 0;
  }
}
