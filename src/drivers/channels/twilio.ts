/**
 * The Twilio SMS channel (`campaign-kit/channels/twilio`): sends each message through Twilio's Programmable
 * Messaging REST API, with `fetch` and no Twilio SDK.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/twilio
 */
import { RateLimitedError } from "../../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../../ports/channel.js";
import { type HttpAnswer, type HttpChannelOptions, httpClient, record } from "./http.js";
import { checkNumber, optionError } from "./options.js";
import { addressOf, partsFor } from "./outbound.js";

export type { HttpChannelOptions } from "./http.js";

/** Options for {@link twilioChannel}. */
export interface TwilioChannelOptions extends HttpChannelOptions {
  /** The account messages are sent from (`AC` + 32 hex digits); it is in every request's path. */
  accountSid: string;
  /** The account's auth token; give it or `apiKey`, not both. */
  authToken?: string;
  /** An API key (`SK...`) and its secret, Twilio's recommended credentials in production. */
  apiKey?: { sid: string; secret: string };
  /**
   * Where Twilio posts delivery status updates (`StatusCallback`): a URL, or a function of the message (to
   * put its id in the URL and match receipts back). Omitted, the Messaging Service's or number's own applies.
   *
   * @example
   * ```ts
   * statusCallback: (message) => `https://hooks.example.com/twilio/status?m=${encodeURIComponent(message.id)}`
   * ```
   */
  statusCallback?: string | ((message: OutboundMessage) => string | undefined);
  /**
   * How long to wait when Twilio refuses a message because the sender's queue is full (error 21611), in ms;
   * defaults to 60,000. The queue drains at the sender's rate, so a longer wait than a `429`'s is needed.
   */
  queueFullRetryAfterMs?: number;
  /** A name for logs and reports; defaults to `"twilio"`. */
  name?: string;
}

const DEFAULTS = { baseUrl: "https://api.twilio.com", timeoutMs: 10_000, defaultRetryAfterMs: 1000 };

// Twilio error codes that mean "later", though they come as a 400: the sender's queue holds more than its
// rate can send in 10 hours (https://www.twilio.com/docs/errors/21611).
const QUEUE_FULL = 21611;

/**
 * Twilio's exception body, `{ code, message, more_info, status }`
 * (https://www.twilio.com/docs/usage/twilios-response), read defensively.
 */
function twilioException(answer: HttpAnswer): { code?: number; message?: string } {
  const body = record(answer.json);
  const code = typeof body?.code === "number" ? body.code : undefined;
  const message = typeof body?.message === "string" ? body.message : undefined;
  return { ...(code === undefined ? {} : { code }), ...(message === undefined ? {} : { message }) };
}

/**
 * A {@link ChannelAdapter} that sends SMS through Twilio's Programmable Messaging API: one
 * `POST /2010-04-01/Accounts/{accountSid}/Messages.json` per message, form-encoded, with HTTP basic auth (the
 * account SID and auth token, or an API key and secret). The form carries `To` (the message's address),
 * `From` (the configuration's `senderNumber`), `MessagingServiceSid` when the configuration has
 * `messagingServiceSid` (Twilio then applies that service's features; the number must be in its sender pool),
 * `Body`, and `StatusCallback` when set. The result's `providerMessageId` is the Message's `sid` (`SM...`).
 *
 * Capabilities are `{ batch: false, idempotencyKeys: false }`: the Messages API takes one recipient per
 * request and documents no idempotency key (Twilio's `I-Twilio-Idempotency-Token` is a header Twilio puts on
 * the webhooks it sends you, not one it reads), so a message whose request timed out after Twilio accepted
 * it may be sent twice on retry; the ledger bounds that to what was in flight.
 *
 * Answers steer the dispatcher:
 * - `2xx`: sent.
 * - `429` (Twilio `20429`, too many concurrent requests, never processed): {@link RateLimitedError}, waiting
 *   `Retry-After` or `defaultRetryAfterMs` (1 s). `400` with `21611` (sender queue full):
 *   {@link RateLimitedError} waiting `queueFullRetryAfterMs` (60 s). `503` with `Retry-After`: the same.
 * - `401`, `403` (credentials, account), `404` (unknown account SID: the configuration, not the recipient),
 *   `5xx`, network errors and timeouts: a plain `Error`, retried.
 * - other `4xx`: {@link campaign-kit!PermanentDeliveryError | PermanentDeliveryError} naming Twilio's code
 *   and message, such as `21211` (invalid `To`), `21610` (the recipient replied STOP), `21614` (not a mobile
 *   number), `21408` (region not enabled).
 *
 * @example
 * ```ts
 * import { createCampaignKit } from "campaign-kit";
 * import { twilioChannel } from "campaign-kit/channels/twilio";
 *
 * const sms = twilioChannel({
 *   accountSid: process.env.TWILIO_ACCOUNT_SID!,
 *   apiKey: { sid: process.env.TWILIO_API_KEY!, secret: process.env.TWILIO_API_SECRET! },
 * });
 * await sms.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [sms] });
 * // An SMS configuration: { channel: "sms", settings: { provider: "twilio", senderNumber: "+15017122661" } }
 * ```
 */
export function twilioChannel(options: TwilioChannelOptions): ChannelAdapter {
  const factory = "twilioChannel";
  const { accountSid, authToken, apiKey } = options;
  if (typeof accountSid !== "string" || !/^AC[0-9a-f]{32}$/i.test(accountSid))
    throw optionError(factory, "`accountSid` must be your account SID, `AC` followed by 32 hex digits.");
  if ((authToken === undefined) === (apiKey === undefined))
    throw optionError(factory, "pass either `authToken` or `apiKey: { sid, secret }`, exactly one of them.");
  if (authToken !== undefined && (typeof authToken !== "string" || authToken === ""))
    throw optionError(factory, "`authToken` must be a non-empty string.");
  if (apiKey !== undefined && !(/^SK[0-9a-f]{32}$/i.test(apiKey.sid ?? "") && apiKey.secret))
    throw optionError(
      factory,
      "`apiKey` must be `{ sid, secret }` with `sid` starting `SK` followed by 32 hex digits.",
    );
  const queueFullRetryAfterMs = options.queueFullRetryAfterMs ?? 60_000;
  checkNumber(factory, "queueFullRetryAfterMs", queueFullRetryAfterMs);

  const [user, password] = apiKey ? [apiKey.sid, apiKey.secret] : [accountSid, authToken as string];
  const authorization = `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
  const http = httpClient({
    ...options,
    provider: "Twilio",
    factory,
    defaults: DEFAULTS,
    // 401 and 403 blame the credentials or the account, not the recipient: a wrong key never marks a whole
    // audience undeliverable; verify() catches it early.
    setupFaults: "retry",
    describe(answer) {
      const { code, message } = twilioException(answer);
      if (code === undefined) return message;
      return `${code}${message ? ` ${message}` : ""} (https://www.twilio.com/docs/errors/${code})`;
    },
    classify(answer, detail) {
      if (twilioException(answer).code === QUEUE_FULL)
        return new RateLimitedError(detail, { retryAfterMs: queueFullRetryAfterMs });
      // The account SID in the path is unknown to these credentials: fixing the options fixes every message.
      if (answer.status === 404) return new Error(detail);
      return undefined;
    },
  });

  function formFor(message: OutboundMessage): Record<string, string | undefined> {
    const { configuration, content } = partsFor(message, "sms", factory);
    const callback = options.statusCallback;
    return {
      To: addressOf(message, "phone number"),
      From: configuration.settings.senderNumber,
      MessagingServiceSid: configuration.settings.messagingServiceSid,
      Body: content.body,
      StatusCallback: typeof callback === "function" ? callback(message) : callback,
    };
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const answer = await http.request({
      path: messagesPath,
      headers: { authorization },
      form: formFor(message),
      signal: context.signal,
    });
    const sid = record(answer.json)?.sid;
    return typeof sid === "string" ? { providerMessageId: sid } : undefined;
  }

  return {
    name: options.name ?? "twilio",
    channel: "sms",
    capabilities: { batch: false, idempotencyKeys: false },
    send,
    // Lists one message: it proves the credentials and the account SID, and works with a standard API key,
    // which may not read the Account resource itself.
    async verify() {
      await http.request({ method: "GET", path: `${messagesPath}?PageSize=1`, headers: { authorization } });
    },
  };
}
