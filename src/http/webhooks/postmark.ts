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

/**
 * Options for {@link postmarkWebhook}. Postmark doesn't sign webhooks; it documents protecting them with
 * HTTP basic auth in the webhook URL (`https://user:pass@example.com/...`) and custom headers: give either
 * or both, and every call must carry them.
 */
export interface PostmarkWebhookOptions {
  /** The credentials in the webhook's URL, sent by Postmark as `Authorization: Basic ...`. */
  basicAuth?: { username: string; password: string };
  /** A custom header the webhook is set up to send (`X-Webhook-Token: <secret>`). */
  header?: { name: string; value: string };
}

/** Postmark's bounce types that mean the address will never take mail. */
const HARD_BOUNCES = new Set(["HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamNotification"]);

/**
 * Postmark's webhooks: `Delivery`, `Bounce` (hard for `HardBounce`, `BadEmailAddress`, `ManuallyDeactivated`
 * and `SpamNotification`, soft otherwise), `SpamComplaint`, `Open`, `Click` and `SubscriptionChange`
 * (suppressing sending is an unsubscription). Calls are checked against the basic-auth credentials or the
 * custom header the webhook was set up with. Events name messages by Postmark's `MessageID` (the ledger's
 * provider id) and the `ck_message` metadata campaign-kit's Postmark channel sets.
 *
 * @example
 * ```ts
 * postmarkWebhook({ basicAuth: { username: "postmark", password: process.env.POSTMARK_HOOK_PASSWORD! } })
 * ```
 */
export function postmarkWebhook(options: PostmarkWebhookOptions): FeedbackWebhook {
  if (!options?.basicAuth && !options?.header)
    throw new TypeError(
      "postmarkWebhook needs basicAuth or a header to check calls against: Postmark doesn't sign webhooks.",
    );
  const expectedAuth =
    options.basicAuth &&
    `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString("base64")}`;
  return {
    name: "postmark",
    async handle({ headers, body, now }) {
      if (expectedAuth && !sameSecret(headers.get("authorization") ?? "", expectedAuth))
        throw signatureInvalid("Postmark", "its basic-auth credentials are missing or wrong");
      if (options.header && !sameSecret(headers.get(options.header.name) ?? "", options.header.value))
        throw signatureInvalid("Postmark", `its ${options.header.name} header is missing or wrong`);
      const payload = obj(jsonBody("Postmark", body));
      const record = str(payload.RecordType);
      if (record === undefined) throw badBody("Postmark", "it has no RecordType");
      const providerMessageId = str(payload.MessageID);
      if (providerMessageId === undefined) return { events: [] };
      const metadata = obj(payload.Metadata);
      const tagged = str(metadata.ck_message);
      const address = str(payload.Recipient) ?? str(payload.Email);
      const base = {
        providerMessageId,
        provider: "postmark",
        ...(tagged && !tagged.startsWith("sha256:") ? { messageId: tagged } : {}),
        ...(address ? { address } : {}),
      };
      const id = str(String(payload.ID ?? "")) ?? "";
      const event = (fields: Pick<FeedbackEventInput, "type" | "at"> & Partial<FeedbackEventInput>) => {
        const made: FeedbackEventInput = { ...base, ...fields };
        // Postmark's ID identifies bounces and complaints; others are told apart by type, message and time.
        if (id !== "") made.eventId = `${record}:${id}`;
        return made;
      };
      switch (record) {
        case "Delivery":
          return { events: [event({ type: "delivered", at: instant(payload.DeliveredAt, now) })] };
        case "Bounce": {
          const detail = str(payload.Description) ?? str(payload.Details);
          return {
            events: [
              event({
                type: "bounced",
                bounce: HARD_BOUNCES.has(String(payload.Type)) ? "hard" : "soft",
                at: instant(payload.BouncedAt, now),
                ...(detail ? { detail: detail.slice(0, 1000) } : {}),
              }),
            ],
          };
        }
        case "SpamComplaint":
          return { events: [event({ type: "complained", at: instant(payload.BouncedAt, now) })] };
        case "Open":
          return { events: [event({ type: "opened", at: instant(payload.ReceivedAt, now) })] };
        case "Click": {
          const url = str(payload.OriginalLink);
          return {
            events: [
              event({ type: "clicked", at: instant(payload.ReceivedAt, now), ...(url ? { url } : {}) }),
            ],
          };
        }
        case "SubscriptionChange":
          return payload.SuppressSending === true
            ? { events: [event({ type: "unsubscribed", at: instant(payload.ChangedAt, now) })] }
            : { events: [] };
        default:
          return { events: [] };
      }
    },
  };
}
