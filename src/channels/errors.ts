/**
 * Thrown by a channel adapter when a message can never be delivered (invalid address, content rejected):
 * the dispatcher records it as failed with this reason and does not retry.
 */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentDeliveryError";
  }
}

/**
 * Thrown by a channel adapter when the provider throttles: the dispatcher waits `retryAfterMs`, slows the
 * campaign's rate, retries, and never counts the message as sent until it is.
 */
export class RateLimitedError extends Error {
  /** How long the provider asked to wait, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, options: { retryAfterMs: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RateLimitedError";
    this.retryAfterMs = options.retryAfterMs;
  }
}
