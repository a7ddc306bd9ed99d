import { PermanentDeliveryError } from "../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../ports/channel.js";
import { type HttpChannelOptions, httpClient } from "./channels/http.js";
import { partsFor } from "./channels/outbound.js";

/** Options for {@link webhookChannel}. */
export interface WebhookChannelOptions extends Omit<HttpChannelOptions, "baseUrl"> {
  /** A name for logs and reports; defaults to `"webhook"`. */
  name?: string;
}

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
 * Stopping the dispatch aborts a request in flight. Defaults: `timeoutMs` 10,000, `defaultRetryAfterMs` 1,000
 * (after a 429 without a usable `Retry-After`).
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
  const http = httpClient({
    ...options,
    provider: "Webhook",
    factory: "webhookChannel",
    defaults: { timeoutMs: 10_000, defaultRetryAfterMs: 1000 },
    // A receiver's 401 or 403 is about the configured headers: permanent, as any 4xx, in its own words.
    classify: (answer, detail) =>
      answer.status === 401 || answer.status === 403 ? new PermanentDeliveryError(detail) : undefined,
  });

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const { configuration, content } = partsFor(message, "webhook", "webhookChannel");
    const { url, method, headers: configured } = configuration.settings;
    const headers = new Headers(configured);
    if (!headers.has("content-type"))
      headers.set("content-type", isJson(content.payload) ? "application/json" : "text/plain; charset=utf-8");
    headers.set("idempotency-key", context.idempotencyKey);
    // Delivered needs no body, and a connection reset while reading one must not turn a delivered message
    // into a retried one.
    await http.request({
      url,
      method,
      headers,
      body: content.payload,
      signal: context.signal,
      provider: `Webhook ${where(url)}`,
      ignoreSuccessBody: true,
    });
    return undefined;
  }

  return {
    name: options.name ?? "webhook",
    channel: "webhook",
    capabilities: { batch: false, idempotencyKeys: true },
    send,
  };
}
