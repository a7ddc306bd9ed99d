import { createHmac } from "node:crypto";
import { decodeTagValue } from "../../drivers/channels/email.js";
import type { FeedbackEventInput } from "../../model/feedback.js";
import {
  badBody,
  type FeedbackWebhook,
  instant,
  jsonBody,
  obj,
  sameSecret,
  signatureInvalid,
  str,
} from "./provider.js";

/** Options for {@link resendWebhook}. */
export interface ResendWebhookOptions {
  /** The webhook's signing secret, as Resend shows it (`whsec_...`). */
  secret: string;
  /** How old (or how far ahead) a call's `svix-timestamp` may be, in seconds; default 300, as Svix's libraries. */
  toleranceSeconds?: number;
}

/**
 * Verifies a Svix signature (Resend signs its webhooks with Svix): HMAC-SHA256 with the secret's
 * base64-decoded part over `${svix-id}.${svix-timestamp}.${body}`, any of the `v1,` signatures in
 * `svix-signature` matching, the timestamp within the tolerance (which stops replays).
 */
export function verifySvix(
  provider: string,
  secret: string,
  headers: Headers,
  body: string,
  now: number,
  toleranceSeconds = 300,
): string {
  const id = headers.get("svix-id") ?? headers.get("webhook-id");
  const timestamp = headers.get("svix-timestamp") ?? headers.get("webhook-timestamp");
  const signatures = headers.get("svix-signature") ?? headers.get("webhook-signature");
  if (!id || !timestamp || !signatures)
    throw signatureInvalid(provider, "it lacks the svix-id, svix-timestamp or svix-signature header");
  const seconds = Number(timestamp);
  if (!Number.isFinite(seconds) || Math.abs(now / 1000 - seconds) > toleranceSeconds)
    throw signatureInvalid(provider, `its timestamp is more than ${toleranceSeconds} s away from now`);
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  const matches = signatures
    .split(" ")
    .filter((part) => part.startsWith("v1,"))
    .some((part) => sameSecret(Buffer.from(part.slice(3), "base64"), expected));
  if (!matches) throw signatureInvalid(provider, "no v1 signature matches the body");
  return id;
}

const TYPES: Record<string, FeedbackEventInput["type"]> = {
  "email.delivered": "delivered",
  "email.bounced": "bounced",
  "email.complained": "complained",
  "email.opened": "opened",
  "email.clicked": "clicked",
};

/**
 * Resend's webhooks, signed with Svix: `email.delivered`, `email.bounced` (a `Permanent` bounce is hard,
 * others soft), `email.complained`, `email.opened`, `email.clicked`. Events name messages by Resend's email
 * id (the ledger's provider id) and the `ck_message` tag campaign-kit's Resend channel sets; the Svix
 * message id makes a retried delivery count once.
 *
 * @example
 * ```ts
 * resendWebhook({ secret: process.env.RESEND_WEBHOOK_SECRET! }) // POST {basePath}/webhooks/resend
 * ```
 */
export function resendWebhook(options: ResendWebhookOptions): FeedbackWebhook {
  if (typeof options?.secret !== "string" || options.secret.length === 0)
    throw new TypeError(
      "resendWebhook needs the webhook's signing secret: resendWebhook({ secret: 'whsec_...' }).",
    );
  return {
    name: "resend",
    async handle({ headers, body, now }) {
      const svixId = verifySvix("Resend", options.secret, headers, body, now, options.toleranceSeconds);
      const payload = obj(jsonBody("Resend", body));
      const kind = str(payload.type);
      if (kind === undefined) throw badBody("Resend", "it has no type");
      const type = TYPES[kind];
      if (type === undefined) return { events: [] };
      const data = obj(payload.data);
      const providerMessageId = str(data.email_id);
      if (providerMessageId === undefined) throw badBody("Resend", "its data has no email_id");
      const tags = data.tags;
      const tagged = Array.isArray(tags)
        ? str(obj(tags.find((t) => obj(t).name === "ck_message")).value)
        : str(obj(tags).ck_message);
      const messageId = tagged === undefined ? undefined : decodeTagValue(tagged);
      const to = Array.isArray(data.to) ? str(data.to[0]) : str(data.to);
      const event: FeedbackEventInput = {
        type,
        providerMessageId,
        eventId: svixId,
        at: instant(payload.created_at ?? data.created_at, now),
        provider: "resend",
      };
      if (messageId !== undefined) event.messageId = messageId;
      if (to !== undefined) event.address = to;
      if (type === "bounced") {
        const bounce = obj(data.bounce);
        event.bounce = bounce.type === "Permanent" ? "hard" : "soft";
        const detail = str(bounce.message);
        if (detail !== undefined) event.detail = detail.slice(0, 1000);
      }
      if (type === "clicked") {
        const link = str(obj(data.click).link);
        if (link !== undefined) event.url = link;
      }
      return { events: [event] };
    },
  };
}
