/**
 * The Postmark channel adapter (`campaign-kit/channels/postmark`): delivers email through Postmark's HTTP
 * API (`POST /email`, `POST /email/batch`) with the global `fetch`; no SDK needed.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/postmark
 */
import { PermanentDeliveryError, RateLimitedError } from "../../errors.js";
import type {
  BatchItemResult,
  BatchSendContext,
  ChannelAdapter,
  OutboundMessage,
  SendContext,
  SendResult,
} from "../../ports/channel.js";
import { correlationMetadata, emailParts, formatAddress, type UnsubscribeUrl } from "./email.js";
import { credentialsRefused, type HttpChannelOptions, httpClient, isSuccess, record } from "./http.js";
import { checkString } from "./options.js";
import { sendBuilt } from "./outbound.js";

export type { UnsubscribeUrl } from "./email.js";

/** Options for {@link postmarkChannel}. */
export interface PostmarkChannelOptions extends HttpChannelOptions {
  /** The Postmark server's API token (`X-Postmark-Server-Token`). */
  serverToken: string;
  /**
   * The message stream of each category: transactional messages default to `"outbound"` (Postmark's default
   * transactional stream), marketing ones to `"broadcast"` (its default broadcast stream): Postmark requires
   * bulk mail to go through a broadcast stream.
   */
  messageStreams?: { transactional?: string; marketing?: string };
  /** Send through `POST /email/batch`, up to 500 messages a call (default `true`), or one `POST /email` each. */
  batch?: boolean;
  /** Personalizes the List-Unsubscribe URL per message; see `smtpChannel`'s option of the same name. */
  unsubscribeUrl?: UnsubscribeUrl;
  /** A name for logs and reports; defaults to `"postmark"`. */
  name?: string;
}

/** Postmark's batch endpoint takes up to 500 messages per call (its "Send batch emails" guide). */
const MAX_BATCH = 500;
/** Postmark's custom-metadata FAQ limits a value to 80 characters. */
const MAX_METADATA_VALUE = 80;

/**
 * Postmark API error codes (the `ErrorCode` of an error body; its API overview lists them) that mean the
 * credentials or the account, not the message, are at fault: 10 bad or missing token, 405 not allowed to
 * send (no credits), 412 account pending, 413 account may not send.
 */
const ACCOUNT_CODES = new Set([10, 405, 412, 413]);
/** Codes that may pass: 100 maintenance. */
const RETRYABLE_CODES = new Set([100]);

/** A Postmark answer or batch item: `{ ErrorCode, Message, MessageID?, ... }`. */
interface PostmarkResult {
  ErrorCode?: unknown;
  Message?: unknown;
  MessageID?: unknown;
}

/**
 * The error for a Postmark `ErrorCode` other than 0, wherever it came from (an error answer or one item of
 * a batch answered 200): 429 throttled; account codes permanent with what to fix; 100 retried; the rest
 * (300 invalid request, 406 inactive recipient, 400/401 sender signature...) permanent.
 */
function codeError(code: number, detail: string, retryAfterMs: number): Error {
  if (code === 429) return new RateLimitedError(detail, { retryAfterMs });
  if (ACCOUNT_CODES.has(code))
    return code === 10
      ? credentialsRefused("Postmark", detail)
      : new PermanentDeliveryError(`${detail} (fix the Postmark account to send)`);
  if (RETRYABLE_CODES.has(code)) return new Error(detail);
  return new PermanentDeliveryError(detail);
}

const describe = (result: PostmarkResult): string =>
  [typeof result.ErrorCode === "number" ? `ErrorCode ${result.ErrorCode}` : undefined, result.Message]
    .filter((part) => typeof part === "string" && part !== "")
    .join(": ");

/**
 * A {@link ChannelAdapter} for Postmark. Each message becomes one Postmark message: `From` is
 * `"fromName" <fromAddress>`, `ReplyTo`, `To`, `Subject`, `HtmlBody`, `TextBody`; `MessageStream` by category
 * (`messageStreams`); `Headers` carry `X-Campaign-Kit-Message-Id` and, for marketing, List-Unsubscribe;
 * `Tag` is the campaign id (Postmark groups statistics by tag); `Metadata` carries `ck_campaign`,
 * `ck_execution`, `ck_recipient` and `ck_message` (a value over Postmark's 80 characters becomes
 * `sha256:` + 40 hex digits), returned in Postmark's webhooks. Postmark's `MessageID` is the
 * `providerMessageId`.
 *
 * Postmark has no idempotency key, so the adapter declares `idempotencyKeys: false`: the ledger's
 * guarantee applies (a crash duplicates at most what was in flight). With `batch` (the default) the
 * dispatcher sends up to 500 messages per `POST /email/batch`, whose answer gives each message its own
 * result, in order.
 *
 * Errors, from the HTTP status and Postmark's `ErrorCode`: 429 (or `ErrorCode` 429) is a
 * {@link RateLimitedError} (Postmark sends no `Retry-After`; `defaultRetryAfterMs`); 401 and `ErrorCode` 10
 * are permanent and say to fix the token; 405/412/413 (account may not send) are permanent; 422 with 300
 * (invalid request), 406 (inactive recipient) and the others are permanent; `ErrorCode` 100 (maintenance),
 * 5xx, timeouts and network errors are retried. A whole batch refused gives every message that error.
 *
 * Defaults: `baseUrl` `https://api.postmarkapp.com`, `timeoutMs` 10,000, `defaultRetryAfterMs` 1,000 (after a
 * 429: Postmark documents no `Retry-After`).
 *
 * @example
 * ```ts
 * import { postmarkChannel } from "campaign-kit/channels/postmark";
 *
 * const email = postmarkChannel({ serverToken: process.env.POSTMARK_SERVER_TOKEN! });
 * await email.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [email] });
 * ```
 */
export function postmarkChannel(options: PostmarkChannelOptions): ChannelAdapter {
  const factory = "postmarkChannel";
  checkString(factory, "serverToken", options?.serverToken);
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  const streams = {
    transactional: options.messageStreams?.transactional ?? "outbound",
    marketing: options.messageStreams?.marketing ?? "broadcast",
  };
  const batch = options.batch ?? true;
  const auth = { "x-postmark-server-token": options.serverToken };
  const http = httpClient({
    ...options,
    provider: "Postmark",
    factory,
    defaults: { baseUrl: "https://api.postmarkapp.com", timeoutMs: 10_000, defaultRetryAfterMs },
    describe: (answer) => {
      const body = record(answer.json);
      return body ? describe(body) || undefined : undefined;
    },
    classify: (answer, detail, retryAfterMs) => {
      const code = record(answer.json)?.ErrorCode;
      return typeof code === "number" && code !== 0 && answer.status !== 401 && answer.status < 500
        ? codeError(code, detail, retryAfterMs)
        : undefined;
    },
  });

  function messageBody(message: OutboundMessage): Record<string, unknown> {
    const parts = emailParts(message, factory, options.unsubscribeUrl);
    const body: Record<string, unknown> = {
      From: formatAddress(parts.from),
      To: parts.to,
      Subject: parts.subject,
      MessageStream: streams[message.category],
      Headers: Object.entries(parts.headers).map(([Name, Value]) => ({ Name, Value })),
      Tag: parts.correlation.campaignId,
      Metadata: correlationMetadata(parts.correlation, MAX_METADATA_VALUE),
    };
    if (parts.replyTo !== undefined) body.ReplyTo = parts.replyTo;
    if (parts.html !== undefined) body.HtmlBody = parts.html;
    if (parts.text !== undefined) body.TextBody = parts.text;
    return body;
  }

  /** One message's result in a 2xx answer, which may still refuse it with a non-zero `ErrorCode`. */
  function resultOf(result: PostmarkResult): BatchItemResult {
    const code = typeof result.ErrorCode === "number" ? result.ErrorCode : 0;
    if (code !== 0)
      return {
        ok: false,
        error: codeError(code, `Postmark refused the message: ${describe(result)}`, defaultRetryAfterMs),
      };
    return typeof result.MessageID === "string"
      ? { ok: true, providerMessageId: result.MessageID }
      : { ok: true };
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const answer = await http.request({
      path: "/email",
      headers: auth,
      json: messageBody(message),
      signal: context.signal,
    });
    const result = resultOf(record(answer.json) ?? {});
    if (!result.ok) throw result.error;
    return result.providerMessageId === undefined
      ? undefined
      : { providerMessageId: result.providerMessageId };
  }

  async function sendBatch(
    messages: readonly OutboundMessage[],
    context: BatchSendContext,
  ): Promise<BatchItemResult[]> {
    return sendBuilt(messages, messageBody, async (bodies) => {
      const answer = await http.exchange({
        path: "/email/batch",
        headers: auth,
        json: bodies,
        signal: context.signal,
      });
      const items = Array.isArray(answer.json) ? (answer.json as PostmarkResult[]) : undefined;
      // The batch answer is 200 even when some messages are refused: each item has its own ErrorCode, in order.
      if (isSuccess(answer.status) && items?.length === bodies.length) return items.map(resultOf);
      const error = isSuccess(answer.status)
        ? new Error(`Postmark answered the batch of ${bodies.length} with ${items?.length ?? "no"} results`)
        : http.failure(answer);
      return bodies.map(() => ({ ok: false, error }));
    });
  }

  const adapter: ChannelAdapter = {
    name: options.name ?? "postmark",
    channel: "email",
    capabilities: batch
      ? { batch: true, idempotencyKeys: false, maxBatchSize: MAX_BATCH }
      : { batch: false, idempotencyKeys: false },
    send,
    async verify() {
      // `GET /server` needs the server token and nothing else: it answers 401 for a wrong one.
      await http.request({ path: "/server", headers: auth });
    },
  };
  if (batch) adapter.sendBatch = sendBatch;
  return adapter;
}
