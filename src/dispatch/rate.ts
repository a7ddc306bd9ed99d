import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";

/**
 * What the dispatcher takes tokens from: a campaign's own {@link TokenBucket}, or a budget shared by every
 * worker sending the campaign (`runWorker` passes one kept in storage). `reserve` may answer later when the
 * budget lives elsewhere.
 */
export interface RateGate {
  /** The largest single reservation; `Infinity` when unlimited. */
  readonly burst: number;
  /** Takes `count` tokens now and says how many ms to wait before using them. */
  reserve(count: number): number | Promise<number>;
  /** Gives back tokens reserved but not used. */
  refund(count: number): void;
  /** The provider throttled: hand out nothing for `retryAfterMs` and slow down. */
  slowDown(retryAfterMs: number): void;
}

/** Options for {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Messages per second; `undefined` or `Infinity` means unlimited (the bucket then only honours pauses). */
  ratePerSecond?: number | undefined;
  /** How many tokens may be taken at once after an idle period; defaults to one second's worth (the rate). */
  burst?: number;
  /** Time source; defaults to {@link systemClock}. Tests pass a virtual clock. */
  clock?: Clock;
  /** After a {@link TokenBucket.slowDown}, the rate doubles back towards the configured one every this many ms. */
  recoveryMs?: number;
}

/**
 * A token bucket that reserves rather than polls: {@link TokenBucket.reserve} deducts tokens at once (the level
 * may go negative, a debt) and returns how long the caller must wait before using them. Concurrent callers are
 * thereby served in arrival order without a queue or timers, and over any interval of `t` seconds at most
 * `burst + rate * t` tokens become usable. One bucket per campaign, so one campaign's throttle never stalls
 * another.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ ratePerSecond: 100 });
 * await bucket.take(10); // resolves once 10 tokens are available
 * ```
 */
export class TokenBucket implements RateGate {
  /** The configured rate, in tokens per second (`Infinity` when unlimited). */
  readonly ratePerSecond: number;
  /** The most tokens that can accumulate, and the largest single reservation (`Infinity` when unlimited). */
  readonly burst: number;
  private readonly clock: Clock;
  private readonly recoveryMs: number;
  private rate: number;
  private tokens: number;
  /** The instant at which `tokens` is the level; in the future while paused by {@link slowDown}. */
  private last: number;
  private pausedUntil = 0;
  private lastSlowDownAt = Number.NEGATIVE_INFINITY;

  constructor(options: TokenBucketOptions = {}) {
    this.ratePerSecond = options.ratePerSecond ?? Number.POSITIVE_INFINITY;
    if (!(this.ratePerSecond > 0)) throw new RangeError("ratePerSecond must be positive");
    // Unlimited buckets have no burst to respect: any batch size goes.
    this.burst = Number.isFinite(this.ratePerSecond)
      ? Math.max(1, Math.floor(options.burst ?? this.ratePerSecond))
      : Number.POSITIVE_INFINITY;
    this.clock = options.clock ?? systemClock;
    this.recoveryMs = options.recoveryMs ?? 10_000;
    this.rate = this.ratePerSecond;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  /** Whether the bucket limits anything beyond pauses. */
  get limited(): boolean {
    return Number.isFinite(this.ratePerSecond);
  }

  /** The rate currently applied, in tokens per second: below the configured one after a slow-down. */
  get currentRate(): number {
    return this.rate;
  }

  /**
   * Takes `count` tokens now and returns how many milliseconds to wait before using them (0 when available).
   * `count` must not exceed {@link burst}, or it waits for more than one burst to accrue.
   */
  reserve(count = 1): number {
    const now = this.clock.now();
    if (!Number.isFinite(this.rate)) return this.pausedUntil > now ? this.pausedUntil - now : 0;
    if (this.rate < this.ratePerSecond && now - this.lastSlowDownAt >= this.recoveryMs) {
      this.refill(now);
      this.rate = Math.min(this.ratePerSecond, this.rate * 2);
      this.lastSlowDownAt = now;
    }
    this.refill(now);
    this.tokens -= count;
    const readyAt = this.tokens < 0 ? this.last + (-this.tokens * 1000) / this.rate : this.last;
    return readyAt > now ? Math.ceil(readyAt - now) : 0;
  }

  /** Gives back tokens reserved but not used (the messages were excluded instead of sent). */
  refund(count: number): void {
    if (Number.isFinite(this.rate)) this.tokens = Math.min(this.burst, this.tokens + count);
  }

  /** Reserves `count` tokens and waits until they are usable; rejects when `signal` aborts first. */
  async take(count = 1, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(count);
    if (wait > 0) await this.clock.sleep(wait, signal);
  }

  /**
   * Called when the provider rate-limits: nothing more is handed out for `retryAfterMs`, and a limited bucket
   * halves its rate (down to a sixteenth of the configured one), doubling back every `recoveryMs` after.
   */
  slowDown(retryAfterMs: number): void {
    const now = this.clock.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterMs);
    if (!Number.isFinite(this.rate)) return;
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
    this.last = Math.max(this.last, this.pausedUntil);
    this.rate = Math.max(this.ratePerSecond / 16, this.rate / 2);
    this.lastSlowDownAt = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }
}
