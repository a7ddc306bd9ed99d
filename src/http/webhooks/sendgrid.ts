import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { FeedbackEventInput } from "../../model/feedback.js";
import { badBody, type FeedbackWebhook, jsonBody, obj, signatureInvalid, str } from "./provider.js";

/** Options for {@link sendgridWebhook}. */
export interface SendgridWebhookOptions {
  /** The Event Webhook's verification key, as SendGrid shows it (base64 of a DER public key, ECDSA P-256). */
  publicKey: string;
  /** How old (or how far ahead) a call's timestamp may be, in seconds; default 300. */
  toleranceSeconds?: number;
}

const TYPES: Record<string, FeedbackEventInput["type"]> = {
  delivered: "delivered",
  bounce: "bounced",
  spamreport: "complained",
  open: "opened",
  click: "clicked",
  unsubscribe: "unsubscribed",
  group_unsubscribe: "unsubscribed",
};

/**
 * SendGrid's Event Webhook with signed events: the ECDSA (P-256, SHA-256) signature in
 * `X-Twilio-Email-Event-Webhook-Signature` over the `...-Timestamp` header followed by the body, verified with
 * the webhook's public key. `delivered`, `bounce` (type `bounce` is hard, `blocked` soft), `spamreport`,
 * `open`, `click`, `unsubscribe` and `group_unsubscribe` are recorded, each counted once by its `sg_event_id`.
 * Events name messages by the `X-Message-Id` part of `sg_message_id` (the ledger's provider id) and the
 * `ck_message` custom argument campaign-kit's SendGrid channel sets.
 *
 * @example
 * ```ts
 * sendgridWebhook({ publicKey: process.env.SENDGRID_WEBHOOK_KEY! }) // POST {basePath}/webhooks/sendgrid
 * ```
 */
export function sendgridWebhook(options: SendgridWebhookOptions): FeedbackWebhook {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(options.publicKey, "base64"), format: "der", type: "spki" });
  } catch (error) {
    throw new TypeError(
      "sendgridWebhook needs the Event Webhook's verification key as SendGrid shows it (base64, DER).",
      { cause: error },
    );
  }
  const tolerance = options.toleranceSeconds ?? 300;
  return {
    name: "sendgrid",
    async handle({ headers, body, now }) {
      const signature = headers.get("x-twilio-email-event-webhook-signature");
      const timestamp = headers.get("x-twilio-email-event-webhook-timestamp");
      if (!signature || !timestamp)
        throw signatureInvalid("SendGrid", "it lacks the signature or timestamp header");
      const seconds = Number(timestamp);
      if (!Number.isFinite(seconds) || Math.abs(now / 1000 - seconds) > tolerance)
        throw signatureInvalid("SendGrid", `its timestamp is more than ${tolerance} s away from now`);
      let valid = false;
      try {
        valid = verify(
          "sha256",
          Buffer.from(timestamp + body, "utf8"),
          key,
          Buffer.from(signature, "base64"),
        );
      } catch {
        valid = false;
      }
      if (!valid) throw signatureInvalid("SendGrid", "its signature doesn't match the body");
      const payload = jsonBody("SendGrid", body);
      if (!Array.isArray(payload)) throw badBody("SendGrid", "it is not an array of events");
      const events: FeedbackEventInput[] = [];
      for (const item of payload) {
        const raw = obj(item);
        const type = TYPES[String(raw.event)];
        if (type === undefined) continue;
        const sgMessageId = str(raw.sg_message_id);
        const tagged = str(raw.ck_message);
        if (sgMessageId === undefined && tagged === undefined) continue;
        const seconds = typeof raw.timestamp === "number" ? raw.timestamp : now / 1000;
        const event: FeedbackEventInput = { type, at: new Date(seconds * 1000), provider: "sendgrid" };
        if (sgMessageId !== undefined) event.providerMessageId = sgMessageId.split(".")[0] as string;
        if (tagged !== undefined && !tagged.startsWith("sha256:")) event.messageId = tagged;
        const eventId = str(raw.sg_event_id);
        if (eventId !== undefined) event.eventId = eventId;
        const address = str(raw.email);
        if (address !== undefined) event.address = address;
        if (type === "bounced") {
          event.bounce = raw.type === "blocked" ? "soft" : "hard";
          const reason = str(raw.reason);
          if (reason !== undefined) event.detail = reason.slice(0, 1000);
        }
        const url = str(raw.url);
        if (type === "clicked" && url !== undefined) event.url = url;
        events.push(event);
      }
      return { events };
    },
  };
}
