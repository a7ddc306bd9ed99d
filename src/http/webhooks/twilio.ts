import { createHmac } from "node:crypto";
import type { FeedbackEventInput } from "../../model/feedback.js";
import { badBody, type FeedbackWebhook, sameSecret, signatureInvalid } from "./provider.js";

/** Options for {@link twilioWebhook}. */
export interface TwilioWebhookOptions {
  /** The account's auth token (Twilio signs callbacks with it, even when you send with an API key). */
  authToken: string;
  /**
   * The URL Twilio called, as it called it (the `StatusCallback` you configured), for the signature: by
   * default the request's URL, which a proxy or load balancer in front of the app may have changed.
   */
  url?: (request: { url: string; headers: Headers }) => string;
}

/** Error codes that mean the number will never take messages. */
const UNREACHABLE = new Set(["21211", "21610", "21614", "30003", "30005", "30006"]);

/** `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the auth token, over the URL then each sorted key and value. */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  const keys = [...new Set(params.keys())].sort();
  let data = url;
  for (const key of keys) for (const value of params.getAll(key).sort()) data += key + value;
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/**
 * Twilio's message status callbacks (`StatusCallback`), checked with `X-Twilio-Signature`: `delivered`,
 * `undelivered` and `failed` (hard when the error code says the number can never receive: 21211, 21610,
 * 21614, 30003, 30005, 30006; soft otherwise), and `read` (WhatsApp) as an open. Events name messages by
 * `MessageSid` (the ledger's provider id), one per (message, status).
 *
 * @example
 * ```ts
 * twilioWebhook({ authToken: process.env.TWILIO_AUTH_TOKEN!, url: () => "https://example.com/campaign-kit/webhooks/twilio" })
 * ```
 */
export function twilioWebhook(options: TwilioWebhookOptions): FeedbackWebhook {
  if (typeof options?.authToken !== "string" || options.authToken.length === 0)
    throw new TypeError("twilioWebhook needs the account's auth token: twilioWebhook({ authToken }).");
  return {
    name: "twilio",
    async handle({ url, headers, body, now }) {
      const signature = headers.get("x-twilio-signature");
      if (!signature) throw signatureInvalid("Twilio", "it has no X-Twilio-Signature header");
      const params = new URLSearchParams(body);
      const signedUrl = options.url ? options.url({ url, headers }) : url;
      if (!sameSecret(signature, twilioSignature(options.authToken, signedUrl, params)))
        throw signatureInvalid("Twilio", "its X-Twilio-Signature doesn't match the URL and parameters");
      const sid = params.get("MessageSid") ?? params.get("SmsSid");
      const status = params.get("MessageStatus") ?? params.get("SmsStatus");
      if (!sid || !status) throw badBody("Twilio", "it has no MessageSid or MessageStatus");
      const base = {
        providerMessageId: sid,
        eventId: `${sid}:${status}`,
        // Status callbacks carry no time: the event is as old as the call.
        at: new Date(now),
        provider: "twilio",
        ...(params.get("To") ? { address: params.get("To") as string } : {}),
      };
      const code = params.get("ErrorCode") ?? "";
      switch (status) {
        case "delivered":
          return { events: [{ ...base, type: "delivered" }] };
        case "read":
          return { events: [{ ...base, type: "opened" }] };
        case "undelivered":
        case "failed": {
          const event: FeedbackEventInput = {
            ...base,
            type: "bounced",
            bounce: UNREACHABLE.has(code) ? "hard" : "soft",
          };
          if (code) event.detail = `Twilio error ${code}`;
          return { events: [event] };
        }
        default:
          return { events: [] };
      }
    },
  };
}
