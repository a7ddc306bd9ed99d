import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../ports/channel.js";
import { parseRetryAfter, readExcerpt } from "./channels/http.js";

/** Options for {@link webhookChannel}. */
export interface WebhookChannelOptions {
  /** The `fetch` to call; defaults to the global one. Pass your own for proxies, mTLS or instrumentation. */
  fetch?: typeof fetch;
  /** How long one request may take, body included, in ms; defaults to 10,000. A timeout is retried. */
  timeoutMs?: number;
  /** A name for logs and reports; defaults to `"webhook"`. */
  name?: string;
  /** How long to wait after a 429 without a usable `Retry-After`, in ms; defaults to 1,000. */
  defaultRetryAfterMs?: number;
}

// 4xx statuses where the same request may succeed later: a timeout, "too early". Every 5xx but those in
// PERMANENT_5XX is retried too.
const RETRYABLE = new Set([408, 425]);
// 5xx that describe the request rather than the server's health: retrying cannot help.
const PERMANENT_5XX = new Set([501, 505]);
function isJson(payload: string): boolean {
  try {
    JSON.parse(payload);
    return true;
  } catch {
    return false;
  }
}

// Only the origin goes into error messages: webhook URLs often carry secrets in their path or query.
const where = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return "the webhook URL";
  }
};

/**
 * A {@link ChannelAdapter} that delivers each rendered webhook payload as one HTTP request to the channel
 * configuration's URL, with its method (POST or PUT) and headers, plus `Idempotency-Key: <message id>` and a
 * `Content-Type` (`application/json` when the payload parses as JSON, else `text/plain`; a `Content-Type` in
 * the configuration's headers wins).
 *
 * It declares `idempotencyKeys: true` because every attempt of one message carries the same `Idempotency-Key`:
 * the exactly-once promise then holds when the receiver de-duplicates on that header, as the IETF
 * "Idempotency-Key" draft and most payment-style APIs do. A receiver that ignores it may see a message twice
 * after a crash or a timeout.
 *
 * Responses steer the dispatcher: 2xx is sent; 429, and 503 with a `Retry-After`, throw a
 * {@link RateLimitedError}; 408, 425, 5xx and network errors or timeouts throw a plain (retried) `Error`;
 * other 4xx, 501, 505 and 3xx (redirects are not followed, since a redirected POST may silently become a GET
 * without its payload) throw a {@link PermanentDeliveryError} with the status and a short excerpt of the body.
 * Stopping the dispatch aborts a request in flight.
 *
 * @example
 * ```ts
 * import { createCampaignKit, webhookChannel } from "campaign-kit";
 *
 * const kit = await createCampaignKit({ storage, channels: [webhookChannel({ timeoutMs: 5_000 })] });
 * // A webhook configuration: { channel: "webhook", settings: { url: "https://hooks.example.com/in", headers: { authorization: "Bearer ..." } } }
 * ```
 */
export function webhookChannel(options: WebhookChannelOptions = {}): ChannelAdapter {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  if (typeof doFetch !== "function")
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "webhookChannel: no `fetch`; pass one in `options.fetch`.",
    );
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new CampaignKitError("VALIDATION_FAILED", "webhookChannel: `timeoutMs` must be a positive number.");
  if (!(Number.isFinite(defaultRetryAfterMs) && defaultRetryAfterMs >= 0))
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "webhookChannel: `defaultRetryAfterMs` must be a non-negative number.",
    );

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const { configuration, content } = message;
    if (configuration.channel !== "webhook" || content.channel !== "webhook")
      throw new PermanentDeliveryError(
        `webhookChannel cannot send a ${content.channel} message with a ${configuration.channel} configuration.`,
      );
    const { url, method, headers: configured } = configuration.settings;
    const headers = new Headers(configured);
    if (!headers.has("content-type"))
      headers.set("content-type", isJson(content.payload) ? "application/json" : "text/plain; charset=utf-8");
    headers.set("idempotency-key", context.idempotencyKey);

    context.signal.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: content.payload,
        redirect: "manual",
        signal: AbortSignal.any([context.signal, timeout]),
      });
    } catch (error) {
      // A stop is not a delivery failure: surface the caller's own reason untouched.
      if (context.signal.aborted) throw context.signal.reason;
      if (timeout.aborted)
        throw new Error(`Webhook ${where(url)} did not answer within ${timeoutMs} ms.`, { cause: error });
      const reason =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new Error(`Webhook request to ${where(url)} failed: ${reason}`, { cause: error });
    }

    const { status } = response;
    if (status >= 200 && status < 300) {
      // Delivered: the body is not needed, and a connection reset while reading it must not turn a
      // delivered message into a retried one.
      await response.body?.cancel().catch(() => {});
      return undefined;
    }
    const body = await readExcerpt(response);
    const detail = `Webhook ${where(url)} answered ${status}${body ? `: ${body}` : ""}`;
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    if (status === 429)
      throw new RateLimitedError(detail, { retryAfterMs: retryAfterMs ?? defaultRetryAfterMs });
    if (status === 503 && retryAfterMs !== undefined) throw new RateLimitedError(detail, { retryAfterMs });
    if (RETRYABLE.has(status) || (status >= 500 && !PERMANENT_5XX.has(status))) throw new Error(detail);
    throw new PermanentDeliveryError(detail);
  }

  return {
    name: options.name ?? "webhook",
    channel: "webhook",
    capabilities: { batch: false, idempotencyKeys: true },
    send,
  };
}
