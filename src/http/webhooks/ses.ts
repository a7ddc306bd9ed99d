import { verify as verifySignature } from "node:crypto";
import { decodeTagValue } from "../../drivers/channels/email.js";
import type { FeedbackEventInput } from "../../model/feedback.js";
import {
  badBody,
  type FeedbackWebhook,
  instant,
  type Json,
  jsonBody,
  obj,
  signatureInvalid,
  str,
} from "./provider.js";

/** Options for {@link sesWebhook}. */
export interface SesWebhookOptions {
  /**
   * The SNS topics whose notifications are accepted (their ARNs). Without it any topic is, as long as SNS
   * signed the message: name yours, or anyone with an AWS account can send you a signed notification.
   */
  topicArns?: readonly string[];
  /**
   * Fetches the signing certificate (PEM) at a URL already checked to be `https://sns.<region>.amazonaws.com/...`;
   * defaults to `fetch`. Certificates are cached by URL for the process's life.
   */
  fetchCertificate?: (url: string) => Promise<string>;
  /**
   * Confirms a subscription by requesting its `SubscribeURL` (checked to be on SNS's host); defaults to a
   * `fetch` GET. Pass `false` to leave confirmations to you (the call is still answered 200).
   */
  confirmSubscription?: ((url: string) => Promise<void>) | false;
  /** Accepts certificates from hosts other than SNS's: for tests only. */
  certificateHost?: RegExp;
}

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** The fields each SNS message type signs, in the order SNS documents. */
const SIGNED: Record<string, readonly string[]> = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: [
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
  ],
  UnsubscribeConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
};

/** SNS's string to sign: each signed field present, as `name\nvalue\n`. */
export function snsStringToSign(message: Json): string {
  const fields = SIGNED[String(message.Type)] ?? [];
  return fields
    .filter((name) => typeof message[name] === "string")
    .map((name) => `${name}\n${message[name] as string}\n`)
    .join("");
}

function checkedUrl(value: unknown, host: RegExp, what: string): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw signatureInvalid("Amazon SNS", `its ${what} is not a URL`);
  }
  if (url.protocol !== "https:" || !host.test(url.hostname))
    throw signatureInvalid("Amazon SNS", `its ${what} is not on Amazon SNS's host (${url.hostname})`);
  return url.href;
}

/** One SES event (notification or event publishing) as feedback events, one per recipient it names. */
function sesEvents(message: Json, snsMessageId: string, now: number): FeedbackEventInput[] {
  const type = str(message.eventType) ?? str(message.notificationType);
  const mail = obj(message.mail);
  const providerMessageId = str(mail.messageId);
  if (providerMessageId === undefined) return [];
  const tags = obj(mail.tags);
  const tagged = Array.isArray(tags.ck_message) ? str(tags.ck_message[0]) : undefined;
  const messageId = tagged === undefined ? undefined : decodeTagValue(tagged);
  const base = { providerMessageId, provider: "ses", ...(messageId ? { messageId } : {}) };
  const event = (
    fields: Partial<FeedbackEventInput> & Pick<FeedbackEventInput, "type" | "at">,
    i = 0,
  ): FeedbackEventInput => ({ ...base, eventId: `${snsMessageId}:${i}`, ...fields });
  const recipients = (list: unknown, key = "emailAddress") =>
    (Array.isArray(list) ? list : []).map((r) => (typeof r === "string" ? r : str(obj(r)[key])));
  switch (type) {
    case "Delivery": {
      const delivery = obj(message.delivery);
      return recipients(delivery.recipients).map((address, i) =>
        event(
          { type: "delivered", at: instant(delivery.timestamp, now), ...(address ? { address } : {}) },
          i,
        ),
      );
    }
    case "Bounce": {
      const bounce = obj(message.bounce);
      const kind = bounce.bounceType === "Permanent" ? "hard" : "soft";
      const list = Array.isArray(bounce.bouncedRecipients) ? bounce.bouncedRecipients : [];
      return list.map((r, i) => {
        const address = str(obj(r).emailAddress);
        const detail = str(obj(r).diagnosticCode) ?? str(bounce.bounceSubType);
        return event(
          {
            type: "bounced",
            bounce: kind,
            at: instant(bounce.timestamp, now),
            ...(address ? { address } : {}),
            ...(detail ? { detail: detail.slice(0, 1000) } : {}),
          },
          i,
        );
      });
    }
    case "Complaint": {
      const complaint = obj(message.complaint);
      return recipients(complaint.complainedRecipients).map((address, i) =>
        event(
          { type: "complained", at: instant(complaint.timestamp, now), ...(address ? { address } : {}) },
          i,
        ),
      );
    }
    case "Open":
      return [event({ type: "opened", at: instant(obj(message.open).timestamp, now) })];
    case "Click": {
      const click = obj(message.click);
      const url = str(click.link);
      return [event({ type: "clicked", at: instant(click.timestamp, now), ...(url ? { url } : {}) })];
    }
    case "Subscription": {
      const subscription = obj(message.subscription);
      return [event({ type: "unsubscribed", at: instant(subscription.timestamp, now) })];
    }
    default:
      // Send, Reject, DeliveryDelay, RenderingFailure, AmazonSnsSubscriptionSucceeded: not feedback.
      return [];
  }
}

/**
 * Amazon SES feedback through Amazon SNS: bounce, complaint and delivery notifications, or event publishing
 * (delivery, bounce, complaint, open, click, subscription) on a configuration set, delivered by an SNS HTTPS
 * subscription. Every message's signature is verified with the SNS certificate it names (version 1,
 * SHA1withRSA, and 2, SHA256withRSA), fetched only from SNS's own host; a subscription confirmation is
 * verified, then confirmed by requesting its `SubscribeURL`. Events name messages by SES's message id (the
 * ledger's provider id) and by the `ck_message` tag campaign-kit's SES channel sets.
 *
 * @example
 * ```ts
 * import { feedbackApi, sesWebhook } from "campaign-kit/http";
 *
 * const feedback = feedbackApi(kit, {
 *   webhooks: [sesWebhook({ topicArns: ["arn:aws:sns:eu-west-1:123456789012:ses-feedback"] })],
 * });
 * // SNS subscription endpoint: https://example.com/campaign-kit/webhooks/ses
 * ```
 */
export function sesWebhook(options: SesWebhookOptions = {}): FeedbackWebhook {
  const certificates = new Map<string, Promise<string>>();
  const host = options.certificateHost ?? SNS_HOST;
  const fetchCertificate =
    options.fetchCertificate ??
    (async (url: string) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
      return response.text();
    });
  const confirm =
    options.confirmSubscription === false
      ? undefined
      : (options.confirmSubscription ??
        (async (url: string) => {
          const response = await fetch(url);
          if (!response.ok) throw new Error(`Confirming the SNS subscription answered ${response.status}`);
        }));

  async function certificate(url: string): Promise<string> {
    let pending = certificates.get(url);
    if (pending === undefined) {
      pending = fetchCertificate(url);
      certificates.set(url, pending);
      // A failed fetch is not kept: the next message tries again.
      pending.catch(() => certificates.delete(url));
    }
    return pending;
  }

  return {
    name: "ses",
    async handle({ body, now }) {
      const message = obj(jsonBody("Amazon SNS", body));
      const type = str(message.Type);
      if (type === undefined || SIGNED[type] === undefined)
        throw badBody(
          "Amazon SNS",
          "its Type is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation",
        );
      const signature = str(message.Signature);
      if (signature === undefined) throw signatureInvalid("Amazon SNS", "it has no Signature");
      const version = message.SignatureVersion;
      if (version !== "1" && version !== "2")
        throw signatureInvalid("Amazon SNS", `its SignatureVersion is ${String(version)}, not 1 or 2`);
      const certUrl = checkedUrl(message.SigningCertURL ?? message.SigningCertUrl, host, "SigningCertURL");
      let pem: string;
      try {
        pem = await certificate(certUrl);
      } catch (error) {
        throw Object.assign(signatureInvalid("Amazon SNS", "its signing certificate could not be fetched"), {
          cause: error,
        });
      }
      let valid = false;
      try {
        valid = verifySignature(
          version === "1" ? "RSA-SHA1" : "RSA-SHA256",
          Buffer.from(snsStringToSign(message), "utf8"),
          pem,
          Buffer.from(signature, "base64"),
        );
      } catch {
        valid = false;
      }
      if (!valid) throw signatureInvalid("Amazon SNS", "its signature doesn't match its certificate");
      const topic = str(message.TopicArn);
      if (options.topicArns !== undefined && (topic === undefined || !options.topicArns.includes(topic)))
        throw signatureInvalid("Amazon SNS", `topic ${topic} is not one of the accepted topicArns`);
      if (type === "SubscriptionConfirmation") {
        const url = checkedUrl(message.SubscribeURL, host, "SubscribeURL");
        return { events: [], ...(confirm ? { confirm: () => confirm(url) } : {}) };
      }
      if (type === "UnsubscribeConfirmation") return { events: [] };
      const text = str(message.Message);
      if (text === undefined) throw badBody("Amazon SNS", "its notification has no Message");
      const inner = obj(jsonBody("Amazon SES", text));
      return { events: sesEvents(inner, str(message.MessageId) ?? "sns", now) };
    },
  };
}
