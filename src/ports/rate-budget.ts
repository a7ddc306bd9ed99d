/**
 * A rate budget shared by every process sending one campaign: the campaign's `rateLimit` is one limit for
 * all its workers together, not one per worker.
 *
 * Why it looks like this: a GCRA (generic cell rate algorithm) keeps a token bucket as a single number per
 * key, its theoretical arrival time (TAT), so taking tokens is one atomic read-modify-write: in SQL one
 * `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` on one row per campaign, once per slice of messages
 * (never per message). Taking reserves: the caller learns how long to wait before using what it took, so
 * concurrent workers are served in arrival order without polling. The time is the store's own (PostgreSQL's
 * clock), so workers on machines whose clocks drift still share one budget.
 *
 * The reference implementation is the memory one inside `memoryStorage()`; `postgresStorage()` keeps one
 * row per campaign in `rate_budgets`.
 */

/** A shared GCRA budget; see the module documentation. */
export interface RateBudget {
  /**
   * Takes `count` tokens of `key`'s budget (`ratePerSecond` tokens a second, at most `burst` at once after
   * an idle period) and says how long to wait before using them, in ms. A negative `count` gives tokens
   * back (never more than an idle budget holds). Atomic per key.
   */
  take(params: {
    key: string;
    count: number;
    ratePerSecond: number;
    burst: number;
  }): Promise<{ waitMs: number }>;
  /**
   * Hands out nothing of `key`'s budget for `ms` from now (a provider asked to slow down), for every process
   * sharing it.
   */
  pause(params: { key: string; ms: number; ratePerSecond: number; burst: number }): Promise<void>;
}

/**
 * A {@link RateBudget} in this process's memory: the reference, and what `memoryStorage()` carries (a memory
 * store is never shared between processes, so neither is its budget).
 */
export function memoryRateBudget(now: () => number = Date.now): RateBudget {
  const tats = new Map<string, number>();
  return {
    async take({ key, count, ratePerSecond, burst }) {
      const t = now();
      const interval = 1000 / ratePerSecond;
      const tat = Math.max(Math.max(tats.get(key) ?? t, t) + count * interval, t);
      tats.set(key, tat);
      return { waitMs: Math.max(0, Math.ceil(tat - t - burst * interval)) };
    },
    async pause({ key, ms, ratePerSecond, burst }) {
      const t = now();
      tats.set(key, Math.max(tats.get(key) ?? t, t + ms + (burst * 1000) / ratePerSecond));
    },
  };
}
