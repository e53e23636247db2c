/**
 * How mcp-jobs paces its retries of a server that cannot be reached: exponential backoff from `startMs`, capped at
 * `maxMs`, each delay shortened by up to `jitter` of itself at random so that many waiting steps do not knock in
 * step. The cap is short on purpose: the time from a server coming back to a wait noticing is at most one delay.
 */
export interface BackoffPolicy {
  startMs: number;
  maxMs: number;
  /** 0 (none) to 1: the share of each delay that may be taken off at random. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { startMs: 200, maxMs: 1_000, jitter: 0.5 };

export interface Backoff {
  /** The delay before the next attempt. */
  next(): number;
  /** Starts again from the shortest delay (the server answered). */
  reset(): void;
}

export function backoff(policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): Backoff {
  let attempt = 0;
  return {
    next() {
      const full = Math.min(policy.maxMs, policy.startMs * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.max(1, Math.round(full * (1 - policy.jitter * random())));
    },
    reset() {
      attempt = 0;
    },
  };
}
