/**
 * The Resend channel adapter (`campaign-kit/channels/resend`): delivers email through Resend's HTTP API
 * (`POST /emails`, `POST /emails/batch`) with the global `fetch`; no SDK needed.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/resend
 */
import { createHash } from "node:crypto";
import { PermanentDeliveryError, RateLimitedError } from "../../errors.js";
import type {
  BatchItemResult,
  BatchSendContext,
  ChannelAdapter,
  OutboundMessage,
  SendContext,
  SendResult,
} from "../../ports/channel.js";
import {
  correlationTags,
  emailParts,
  formatAddress,
  providerIdempotencyKey,
  type UnsubscribeUrl,
} from "./email.js";
import {
  credentialsRefused,
  type HttpAnswer,
  type HttpChannelOptions,
  httpClient,
  isSuccess,
  record,
} from "./http.js";
import { checkNumber, checkString } from "./options.js";
import { sendBuilt } from "./outbound.js";

export { decodeTagValue, type UnsubscribeUrl } from "./email.js";

/** Options for {@link resendChannel}. */
export interface ResendChannelOptions extends HttpChannelOptions {
  /** A Resend API key (`re_...`); a sending-only key is enough. */
  apiKey: string;
  /**
   * Send through `POST /emails/batch`, up to 100 messages a call (default `true`), or one `POST /emails` per
   * message. See {@link resendChannel} for what each means for idempotency.
   */
  batch?: boolean;
  /** How long to wait after `daily_quota_exceeded` without `retry-after`, in ms; defaults to one hour. */
  dailyQuotaRetryAfterMs?: number;
  /** Personalizes the List-Unsubscribe URL per message; see `smtpChannel`'s option of the same name. */
  unsubscribeUrl?: UnsubscribeUrl;
  /** A name for logs and reports; defaults to `"resend"`. */
  name?: string;
}

/** Resend accepts up to 100 emails per `POST /emails/batch` (its batch-sending guide). */
const MAX_BATCH = 100;
/** Resend's idempotency keys are 1 to 256 characters (its errors page, `invalid_idempotency_key`). */
const MAX_KEY = 256;

/** Resend's error bodies are `{ statusCode, name, message }`. */
function errorOf(answer: HttpAnswer): { name?: string; message?: string } {
  const body = record(answer.json);
  return {
    ...(typeof body?.name === "string" ? { name: body.name } : {}),
    ...(typeof body?.message === "string" ? { message: body.message } : {}),
  };
}

/**
 * A {@link ChannelAdapter} for Resend. Each message becomes one email: `from` is `"fromName" <fromAddress>`,
 * `reply_to` the configuration's, `to` the recipient, the rendered subject, `html` and `text`; `headers`
 * carry `X-Campaign-Kit-Message-Id` and, for marketing messages, List-Unsubscribe (as `smtpChannel` builds
 * them); `tags` carry `ck_campaign`, `ck_execution`, `ck_recipient` and `ck_message`, encoded to Resend's
 * tag alphabet (`decodeTagValue` reads them back from webhook events). Resend's email id is the
 * `providerMessageId`.
 *
 * Idempotency: Resend de-duplicates requests by `Idempotency-Key` for 24 hours, per request. With
 * `batch: false` every message is its own request keyed by its message id, so the adapter declares
 * `idempotencyKeys: true`: a retried or resumed message is delivered once. With `batch: true` (the default,
 * because Resend allows 2 requests per second by default, 100 messages each), one key covers a whole batch
 * (derived from its message ids), so a retried batch is delivered once but a batch made of other messages
 * after a crash is not de-duplicated against it: the adapter declares `idempotencyKeys: false` and the
 * ledger's guarantee applies (at most what was in flight is duplicated). Batches use Resend's permissive
 * validation, so one invalid email fails alone.
 *
 * Errors: 429 `rate_limit_exceeded` is a {@link RateLimitedError} waiting `retry-after` (or
 * `ratelimit-reset`, else `defaultRetryAfterMs`), `daily_quota_exceeded` one waiting `retry-after` or
 * `dailyQuotaRetryAfterMs`; `monthly_quota_exceeded` is permanent (it lasts past any delivery window);
 * 401/403 for a missing or invalid key are permanent and say to fix the key, a 403 `validation_error`
 * (unverified domain, test-only account) is permanent with Resend's words; 409
 * `concurrent_idempotent_requests` is retried; 409 `invalid_idempotent_request` is permanent (a different
 * email already went with this key); other 4xx and 451 are permanent; 5xx, timeouts and network errors are
 * retried.
 *
 * Defaults: `baseUrl` `https://api.resend.com`, `timeoutMs` 10,000, `defaultRetryAfterMs` 1,000 (after a 429
 * without `retry-after` or `ratelimit-reset`).
 *
 * @example
 * ```ts
 * import { resendChannel } from "campaign-kit/channels/resend";
 *
 * const email = resendChannel({ apiKey: process.env.RESEND_API_KEY! });
 * await email.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [email] });
 * ```
 */
export function resendChannel(options: ResendChannelOptions): ChannelAdapter {
  const factory = "resendChannel";
  checkString(factory, "apiKey", options?.apiKey);
  const dailyQuotaRetryAfterMs = options.dailyQuotaRetryAfterMs ?? 3_600_000;
  checkNumber(factory, "dailyQuotaRetryAfterMs", dailyQuotaRetryAfterMs);
  const batch = options.batch ?? true;
  const auth = { authorization: `Bearer ${options.apiKey}` };
  const http = httpClient({
    ...options,
    provider: "Resend",
    factory,
    defaults: { baseUrl: "https://api.resend.com", timeoutMs: 10_000, defaultRetryAfterMs: 1000 },
    describe: (answer) => {
      const { name, message } = errorOf(answer);
      return name || message ? [name, message].filter(Boolean).join(": ") : undefined;
    },
    classify: (answer, detail, retryAfterMs) => {
      const { name } = errorOf(answer);
      if (name === "daily_quota_exceeded")
        return new RateLimitedError(detail, {
          retryAfterMs: answer.headers.has("retry-after") ? retryAfterMs : dailyQuotaRetryAfterMs,
        });
      if (name === "monthly_quota_exceeded")
        return new PermanentDeliveryError(`${detail} (raise the plan's monthly quota to send more)`);
      if (name === "concurrent_idempotent_requests") return new Error(detail);
      // A 403 `validation_error` is about the sender (an unverified domain, a test-only account), which
      // Resend's message names: permanent, but no credentials problem.
      if (answer.status === 403 && name === "validation_error") return new PermanentDeliveryError(detail);
      // A 400 "API key is invalid" is a credentials problem too, whatever the status.
      if (name === "missing_api_key" || name === "invalid_api_key" || /api key is invalid/i.test(detail))
        return credentialsRefused("Resend", detail);
      return undefined;
    },
  });

  /** The JSON body of one email in Resend's send-email shape. */
  function emailBody(message: OutboundMessage): Record<string, unknown> {
    const parts = emailParts(message, factory, options.unsubscribeUrl);
    const body: Record<string, unknown> = {
      from: formatAddress(parts.from),
      to: [parts.to],
      subject: parts.subject,
      headers: parts.headers,
      tags: correlationTags(parts.correlation),
    };
    if (parts.replyTo !== undefined) body.reply_to = parts.replyTo;
    if (parts.html !== undefined) body.html = parts.html;
    if (parts.text !== undefined) body.text = parts.text;
    return body;
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const answer = await http.request({
      path: "/emails",
      headers: { ...auth, "idempotency-key": providerIdempotencyKey(context.idempotencyKey, MAX_KEY) },
      json: emailBody(message),
      signal: context.signal,
    });
    const id = record(answer.json)?.id;
    return typeof id === "string" ? { providerMessageId: id } : undefined;
  }

  async function sendBatch(
    messages: readonly OutboundMessage[],
    context: BatchSendContext,
  ): Promise<BatchItemResult[]> {
    return sendBuilt(messages, emailBody, async (bodies, built) => {
      const ids = built.map((message) => message.id);
      // One message alone keeps its own key, so it de-duplicates against a `send` of it too.
      const key =
        ids.length === 1
          ? providerIdempotencyKey(ids[0]!, MAX_KEY)
          : `ck-batch-${createHash("sha256").update(ids.join("\n"), "utf8").digest("hex")}`;
      const answer = await http.exchange({
        path: "/emails/batch",
        headers: { ...auth, "idempotency-key": key, "x-batch-validation": "permissive" },
        json: bodies,
        signal: context.signal,
      });
      if (!isSuccess(answer.status)) {
        const error = http.failure(answer);
        return bodies.map(() => ({ ok: false, error }));
      }
      const { data = [], errors = [] } = (answer.json ?? {}) as {
        data?: Array<{ id?: unknown }>;
        errors?: Array<{ index?: unknown; message?: unknown }>;
      };
      const failed = new Map<number, string>();
      for (const e of errors) if (typeof e.index === "number") failed.set(e.index, String(e.message ?? ""));
      // Ids pair with emails only when every email was accepted: with errors, Resend lists only the
      // accepted ones' ids and does not say which is which.
      const pairIds = failed.size === 0 && data.length === bodies.length;
      return bodies.map((_, position): BatchItemResult => {
        const reason = failed.get(position);
        if (reason !== undefined)
          return { ok: false, error: new PermanentDeliveryError(`Resend refused the email: ${reason}`) };
        const id = pairIds ? data[position]?.id : undefined;
        return typeof id === "string" ? { ok: true, providerMessageId: id } : { ok: true };
      });
    });
  }

  const adapter: ChannelAdapter = {
    name: options.name ?? "resend",
    channel: "email",
    capabilities: batch
      ? { batch: true, idempotencyKeys: false, maxBatchSize: MAX_BATCH }
      : { batch: false, idempotencyKeys: true },
    send,
    async verify() {
      // Listing domains needs a full-access key; a sending-only key is refused with `restricted_api_key`,
      // which still proves the key is valid.
      const answer = await http.exchange({ path: "/domains", headers: auth });
      if (isSuccess(answer.status)) return;
      if (answer.status === 401 && errorOf(answer).name === "restricted_api_key") return;
      throw http.failure(answer);
    },
  };
  if (batch) adapter.sendBatch = sendBatch;
  return adapter;
}
