/** Requests and tokens one identity used on one connection in the current window. */
interface Usage {
  windowStart: number;
  windowEnd: number;
  requests: number;
  tokens: number;
}

export interface BudgetLimits {
  windowSeconds: number;
  requests?: number;
  tokens?: number;
}

/**
 * Per-identity budgets of an LLM connection, in fixed windows, in memory (per agent). Tokens are
 * counted from the usage each response reports, so the request that crosses the limit is served
 * and the next one is refused.
 */
export class RequestBudgets {
  private readonly usage = new Map<string, Usage>();
  private prunedAt = 0;

  /** The refusal text, or undefined when the request may go; counts the request when it may. */
  admit(key: string, limits: BudgetLimits, now: number): { ruleId: string; reason: string } | undefined {
    const u = this.current(key, limits, now);
    if (limits.requests !== undefined && u.requests >= limits.requests)
      return { ruleId: 'budget:requests', reason: `request budget of ${limits.requests} per ${limits.windowSeconds} s used up` };
    if (limits.tokens !== undefined && u.tokens >= limits.tokens)
      return { ruleId: 'budget:tokens', reason: `token budget of ${limits.tokens} per ${limits.windowSeconds} s used up` };
    u.requests++;
    return undefined;
  }

  addTokens(key: string, limits: BudgetLimits, tokens: number, now: number): void {
    if (tokens > 0) this.current(key, limits, now).tokens += tokens;
  }

  /** Identities and connections with a window still open (for tests). */
  get size(): number {
    return this.usage.size;
  }

  private current(key: string, limits: BudgetLimits, now: number): Usage {
    let u = this.usage.get(key);
    if (!u || now - u.windowStart >= limits.windowSeconds * 1000) {
      u = { windowStart: now, windowEnd: 0, requests: 0, tokens: 0 };
      this.usage.set(key, u);
    }
    // The connection's window may have changed since this one opened.
    u.windowEnd = u.windowStart + limits.windowSeconds * 1000;
    // Windows of identities that stopped calling would otherwise stay forever.
    if (now - this.prunedAt >= 60_000) {
      this.prunedAt = now;
      for (const [other, usage] of this.usage) if (usage.windowEnd <= now && other !== key) this.usage.delete(other);
    }
    return u;
  }
}
