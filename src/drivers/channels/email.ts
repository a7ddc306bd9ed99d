/**
 * What every email channel builds the same way from a message and its email configuration: the checked
 * parts (sender, recipient, content), the headers (the message id, List-Unsubscribe), the idempotency key in
 * a form providers accept, and the correlation values (campaign, execution, recipient, message) in forms
 * that fit providers' tag and metadata rules, so delivery feedback can be matched back to messages.
 *
 * Internal to campaign-kit, except {@link decodeTagValue}, which provider subpaths re-export.
 */
import { createHash } from "node:crypto";
import { PermanentDeliveryError } from "../../errors.js";
import type { OutboundMessage } from "../../ports/channel.js";
import { addressOf, partsFor } from "./outbound.js";

/** Personalizes the configuration's List-Unsubscribe URL for one message; see the email channels' options. */
export type UnsubscribeUrl = (input: { message: OutboundMessage; url: string }) => string;

/**
 * The `List-Unsubscribe` (and, per RFC 8058, `List-Unsubscribe-Post`) headers of a marketing message whose
 * configuration has `listUnsubscribe`; none for transactional messages.
 */
export function listUnsubscribeHeaders(
  message: OutboundMessage,
  unsubscribeUrl?: UnsubscribeUrl,
): Record<string, string> {
  const { configuration } = message;
  if (configuration.channel !== "email" || message.category !== "marketing") return {};
  const unsubscribe = configuration.settings.listUnsubscribe;
  const kitUrl = message.listUnsubscribeUrl;
  if (unsubscribe === undefined && kitUrl === undefined) return {};
  const configured = unsubscribe?.url;
  // The kit's own one-click URL wins over the configured one: it records the unsubscription itself.
  const url =
    kitUrl ??
    (configured !== undefined && unsubscribeUrl ? unsubscribeUrl({ message, url: configured }) : configured);
  const mailto = unsubscribe?.mailto;
  const targets = [mailto && `<mailto:${mailto}>`, url && `<${url}>`].filter(Boolean);
  const headers: Record<string, string> = {};
  if (targets.length > 0) headers["List-Unsubscribe"] = targets.join(", ");
  if ((kitUrl !== undefined || unsubscribe?.oneClick) && url)
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  return headers;
}

/** One email, checked and ready to map onto a provider's request. */
export interface EmailParts {
  /** The sender's display name and address. */
  from: { name: string; address: string };
  /** The recipient's address. */
  to: string;
  /** The configuration's sending subdomain (`news.acme.com`). */
  subdomain: string;
  /** The reply-to address, when the configuration has one. */
  replyTo?: string;
  /** The configuration's IP pool, when it has one. */
  ipPool?: string;
  /** The rendered subject. */
  subject: string;
  /** The rendered HTML body. */
  html?: string;
  /** The rendered text body. */
  text?: string;
  /** `X-Campaign-Kit-Message-Id` and, for marketing, List-Unsubscribe. */
  headers: Record<string, string>;
  /** What to correlate delivery feedback with, as given. */
  correlation: Correlation;
}

/** The ids that tie a provider's events back to one message. */
export interface Correlation {
  /** The campaign's id. */
  campaignId: string;
  /** The execution's id. */
  executionId: string;
  /** The recipient's profile id. */
  recipientId: string;
  /** The message id (also the idempotency key). */
  messageId: string;
}

/**
 * Checks `message` is an email with an address and builds its parts; throws {@link PermanentDeliveryError}
 * when it can never be sent by `adapter` (wrong channel, no address, no body).
 */
export function emailParts(
  message: OutboundMessage,
  adapter: string,
  unsubscribeUrl?: UnsubscribeUrl,
): EmailParts {
  const { configuration, content } = partsFor(message, "email", adapter);
  const to = addressOf(message, "email address");
  if (!content.html && !content.text)
    throw new PermanentDeliveryError(`Message ${message.id} has neither an HTML nor a text body.`);
  const settings = configuration.settings;
  const parts: EmailParts = {
    from: { name: settings.fromName, address: settings.fromAddress },
    to,
    subdomain: settings.subdomain,
    subject: content.subject,
    headers: { "X-Campaign-Kit-Message-Id": message.id, ...listUnsubscribeHeaders(message, unsubscribeUrl) },
    correlation: {
      campaignId: message.campaignId,
      executionId: message.executionId,
      recipientId: message.recipientId,
      messageId: message.id,
    },
  };
  if (settings.replyTo !== undefined) parts.replyTo = settings.replyTo;
  if (settings.ipPool !== undefined) parts.ipPool = settings.ipPool;
  if (content.html) parts.html = content.html;
  if (content.text) parts.text = content.text;
  return parts;
}

/**
 * `"Display Name" <address>`, the name quoted (RFC 5322) so commas and other punctuation in it can't split
 * the address list. With `encodeWord`, a non-ASCII name is written as an RFC 2047 encoded word, as providers
 * that take a raw header value (SES) require.
 */
export function formatAddress(from: { name: string; address: string }, encodeWord = false): string {
  // Any character outside printable ASCII.
  if (encodeWord && /[^\x20-\x7e]/.test(from.name))
    return `=?UTF-8?B?${Buffer.from(from.name, "utf8").toString("base64")}?= <${from.address}>`;
  return `"${from.name.replace(/["\\]/g, "\\$&")}" <${from.address}>`;
}

const digest = (value: string, hexDigits: number): string =>
  createHash("sha256").update(value, "utf8").digest("hex").slice(0, hexDigits);

/**
 * An idempotency key a provider accepts: the key itself when it is printable ASCII of at most `maxLength`
 * characters (campaign-kit's message ids usually are), else `ck-` + 64 hex digits of its SHA-256. Pure, so
 * every attempt of a message sends the same key.
 */
export function providerIdempotencyKey(key: string, maxLength: number): string {
  return /^[\x21-\x7e]+$/.test(key) && key.length <= maxLength ? key : `ck-${digest(key, 64)}`;
}

/**
 * A value in the character set SES and Resend allow in tags (ASCII letters, digits, `_`, `-`; at most
 * `maxLength`): letters, digits and `-` are kept, every other UTF-8 byte becomes `_` and two upper-case hex
 * digits (`:` is `_3A`, `_` is `_5F`), so {@link decodeTagValue} gets the id back. A value whose encoding is
 * longer than `maxLength` becomes `_x` + 40 hex digits of its SHA-256 (which no encoding produces), so it
 * stays a stable handle.
 */
export function encodeTagValue(value: string, maxLength = 256): string {
  let encoded = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9-]/.test(char) ? char : `_${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded.length > 0 && encoded.length <= maxLength ? encoded : `_x${digest(value, 40)}`;
}

/**
 * The id a tag value written by campaign-kit's SES or Resend channel stands for, or `undefined` when the
 * value is a digest of an id too long for a tag or was not written by campaign-kit. The channels write
 * letters, digits and `-` as they are and every other UTF-8 byte as `_` and two upper-case hex digits.
 *
 * @example
 * ```ts
 * decodeTagValue("m_3A6_3Aspring_3A5_3Arun-1_3Aemail_3Ap-42"); // "m:6:spring:5:run-1:email:p-42"
 * ```
 */
export function decodeTagValue(value: string): string | undefined {
  if (!/^(?:[A-Za-z0-9-]|_[0-9A-F]{2})+$/.test(value)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "_") {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(value.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The correlation ids as tags (`ck_campaign`, `ck_execution`, `ck_recipient`, `ck_message`), tag-encoded. */
export function correlationTags(correlation: Correlation): Array<{ name: string; value: string }> {
  return [
    { name: "ck_campaign", value: encodeTagValue(correlation.campaignId) },
    { name: "ck_execution", value: encodeTagValue(correlation.executionId) },
    { name: "ck_recipient", value: encodeTagValue(correlation.recipientId) },
    { name: "ck_message", value: encodeTagValue(correlation.messageId) },
  ];
}

/**
 * The correlation ids as free-form metadata (`ck_campaign`...), as they are; a value longer than
 * `maxLength` becomes `sha256:` + 40 hex digits of it, so it still fits and stays stable.
 */
export function correlationMetadata(correlation: Correlation, maxLength = Infinity): Record<string, string> {
  const fitted = (value: string) => (value.length <= maxLength ? value : `sha256:${digest(value, 40)}`);
  return {
    ck_campaign: fitted(correlation.campaignId),
    ck_execution: fitted(correlation.executionId),
    ck_recipient: fitted(correlation.recipientId),
    ck_message: fitted(correlation.messageId),
  };
}
