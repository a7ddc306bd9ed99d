/**
 * The SendGrid channel adapter (`campaign-kit/channels/sendgrid`): delivers email through SendGrid's v3
 * Mail Send API (`POST /v3/mail/send`) with the global `fetch`; no SDK needed.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/sendgrid
 */
import { PermanentDeliveryError } from "../../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../../ports/channel.js";
import { correlationMetadata, emailParts, type UnsubscribeUrl } from "./email.js";
import { credentialsRefused, type HttpAnswer, type HttpChannelOptions, httpClient, record } from "./http.js";
import { checkString } from "./options.js";

export type { UnsubscribeUrl } from "./email.js";

/** Options for {@link sendgridChannel}. */
export interface SendgridChannelOptions extends HttpChannelOptions {
  /** A SendGrid API key (`SG....`) with the `mail.send` scope. */
  apiKey: string;
  /** The API's base URL; defaults to `https://api.sendgrid.com` (`https://api.eu.sendgrid.com` for EU data residency). */
  baseUrl?: string;
  /** Personalizes the List-Unsubscribe URL per message; see `smtpChannel`'s option of the same name. */
  unsubscribeUrl?: UnsubscribeUrl;
  /** A name for logs and reports; defaults to `"sendgrid"`. */
  name?: string;
}

/** SendGrid's category names are at most 255 characters (Mail Send reference, `categories`). */
const MAX_CATEGORY = 255;

/** SendGrid's error bodies are `{ errors: [{ message, field?, help? }] }`. */
function describe(answer: HttpAnswer): string | undefined {
  const errors = record(answer.json)?.errors as Array<{ message?: unknown; field?: unknown }> | undefined;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors
    .map((e) =>
      typeof e.field === "string" && e.field ? `${e.field}: ${String(e.message)}` : String(e.message),
    )
    .join("; ");
}

/**
 * A {@link ChannelAdapter} for SendGrid. Each message is one Mail Send request with one personalization:
 * `personalizations[0].to` the recipient, `from` `{ email: fromAddress, name: fromName }`, `reply_to`,
 * `subject`, `content` (`text/plain` then `text/html`, the order SendGrid requires); `headers` carry
 * `X-Campaign-Kit-Message-Id` and, for marketing, List-Unsubscribe; `custom_args` carry `ck_campaign`,
 * `ck_execution`, `ck_recipient` and `ck_message` (SendGrid's Event Webhook returns them with every event);
 * `categories` is the campaign id; `ip_pool_name` is the configuration's `ipPool`. The `X-Message-Id`
 * response header is the `providerMessageId`.
 *
 * Capabilities are `{ batch: false, idempotencyKeys: false }`. SendGrid has no idempotency key: a retried
 * request after a timeout may deliver twice, as the ledger's guarantee allows (at most what was in flight).
 * Its only batch form, several personalizations in one request, is no batch of campaign-kit messages:
 * personalizations share one body (each message here is rendered for its recipient), one invalid address
 * refuses the whole request, and they share one `X-Message-Id`, so per-message results can't be told apart.
 *
 * Errors: 429 is a `RateLimitedError` waiting until `X-RateLimit-Reset` (or `Retry-After`, else
 * `defaultRetryAfterMs`); 401 (bad key) is permanent and says to fix the key, 403 (unverified sender identity,
 * no `mail.send` scope) is permanent and says to fix the sender or the scope; 400 and 413 are permanent with SendGrid's field messages; 5xx,
 * timeouts and network errors are retried.
 *
 * Defaults: `timeoutMs` 10,000, `defaultRetryAfterMs` 1,000 (after a 429 without `X-RateLimit-Reset` or
 * `Retry-After`).
 *
 * @example
 * ```ts
 * import { sendgridChannel } from "campaign-kit/channels/sendgrid";
 *
 * const email = sendgridChannel({ apiKey: process.env.SENDGRID_API_KEY! });
 * await email.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [email] });
 * ```
 */
export function sendgridChannel(options: SendgridChannelOptions): ChannelAdapter {
  const factory = "sendgridChannel";
  checkString(factory, "apiKey", options?.apiKey);
  const auth = { authorization: `Bearer ${options.apiKey}` };
  const http = httpClient({
    ...options,
    provider: "SendGrid",
    factory,
    defaults: { baseUrl: "https://api.sendgrid.com", timeoutMs: 10_000, defaultRetryAfterMs: 1000 },
    describe,
    // A 403 is an unverified sender identity or a key without the scope: no message can go until fixed.
    classify: (answer, detail) =>
      answer.status === 403
        ? new PermanentDeliveryError(
            `${detail} (verify the configuration's sender identity in SendGrid and give the key the mail.send scope)`,
          )
        : undefined,
  });

  function mailBody(message: OutboundMessage): Record<string, unknown> {
    const parts = emailParts(message, factory, options.unsubscribeUrl);
    const content: Array<{ type: string; value: string }> = [];
    if (parts.text !== undefined) content.push({ type: "text/plain", value: parts.text });
    if (parts.html !== undefined) content.push({ type: "text/html", value: parts.html });
    const body: Record<string, unknown> = {
      personalizations: [{ to: [{ email: parts.to }] }],
      from: { email: parts.from.address, name: parts.from.name },
      subject: parts.subject,
      content,
      headers: parts.headers,
      custom_args: correlationMetadata(parts.correlation),
      categories: [correlationMetadata(parts.correlation, MAX_CATEGORY).ck_campaign],
    };
    if (parts.replyTo !== undefined) body.reply_to = { email: parts.replyTo };
    if (parts.ipPool !== undefined) body.ip_pool_name = parts.ipPool;
    return body;
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const answer = await http.request({
      path: "/v3/mail/send",
      headers: auth,
      json: mailBody(message),
      signal: context.signal,
    });
    const id = answer.headers.get("x-message-id");
    return id ? { providerMessageId: id } : undefined;
  }

  return {
    name: options.name ?? "sendgrid",
    channel: "email",
    capabilities: { batch: false, idempotencyKeys: false },
    send,
    async verify() {
      // `GET /v3/scopes` lists what the key may do: it must be valid and include `mail.send`.
      const answer = await http.request({ path: "/v3/scopes", headers: auth });
      const scopes = record(answer.json)?.scopes;
      if (!Array.isArray(scopes) || !scopes.includes("mail.send"))
        throw credentialsRefused("SendGrid", "SendGrid's API key lacks the mail.send scope");
    },
  };
}
