import { isPermanentDeliveryError, isRateLimitedError } from "../errors.js";

/** How the dispatcher retries retryable failures. */
export interface RetryOptions {
  /** Send attempts per message for retryable errors, the first included; defaults to 3. */
  attempts?: number;
  /** Delay before the first retry, in ms, doubled each time; defaults to 200. */
  baseDelayMs?: number;
  /** Upper bound of one delay, in ms; defaults to 30 000. */
  maxDelayMs?: number;
  /**
   * How many times one message may be re-sent after the provider rate-limited it before it is recorded as
   * failed; defaults to 10. These don't use up `attempts`: throttling says nothing about the message.
   */
  rateLimitedAttempts?: number;
}

/** {@link RetryOptions} with every default applied. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** Applies the defaults of {@link RetryOptions}. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  return {
    attempts: Math.max(1, options.attempts ?? 3),
    baseDelayMs: Math.max(0, options.baseDelayMs ?? 200),
    maxDelayMs: Math.max(0, options.maxDelayMs ?? 30_000),
    rateLimitedAttempts: Math.max(0, options.rateLimitedAttempts ?? 10),
  };
}

/**
 * The delay before retry number `retry` (1 for the first): exponential backoff with "equal jitter", half the
 * exponential delay plus a random share of the other half, so retries spread out without collapsing to 0.
 */
export function backoffDelay(retry: number, options: ResolvedRetryOptions, random: () => number): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** How the dispatcher treats a send error. */
export type ErrorKind = "permanent" | "rate-limited" | "retryable";

/**
 * Classifies an adapter's error: the error classes steer, anything else is retryable. By name as well as by
 * class, because an adapter from a subpath may throw another copy's classes: the CommonJS build bundles one
 * per entry.
 */
export function classifyError(error: unknown): ErrorKind {
  if (isPermanentDeliveryError(error)) return "permanent";
  if (isRateLimitedError(error)) return "rate-limited";
  return "retryable";
}

/** A short reason for the ledger. */
export function errorReason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
