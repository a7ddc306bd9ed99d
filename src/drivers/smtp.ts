/**
 * The SMTP channel adapter (`campaign-kit/smtp`): delivers email through a nodemailer transporter the host
 * creates and owns.
 *
 * @packageDocumentation
 * @module campaign-kit/smtp
 */
import { createHash } from "node:crypto";
import { PermanentDeliveryError, RateLimitedError } from "../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../ports/channel.js";
import { emailParts, type UnsubscribeUrl } from "./channels/email.js";
import { checkNumber, optionError } from "./channels/options.js";

/**
 * The mail {@link smtpChannel} hands to the transporter: a subset of nodemailer's `SendMailOptions`, so any
 * nodemailer transporter (SMTP, pool, SES, stream...) accepts it.
 */
export interface SmtpMail {
  /** The configuration's sender. */
  from: { name: string; address: string };
  /** The recipient's address. */
  to: string;
  /** The configuration's reply-to address, when it has one. */
  replyTo?: string;
  /** The rendered subject. */
  subject: string;
  /** The rendered HTML body. */
  html?: string;
  /** The rendered text body. */
  text?: string;
  /** The `Message-ID` header, angle brackets included. */
  messageId: string;
  /** Extra headers: the campaign-kit message id, List-Unsubscribe. */
  headers: Record<string, string>;
}

/**
 * What {@link smtpChannel} needs from its transporter: the two methods it calls. A nodemailer `Transporter`
 * (`nodemailer.createTransport(...)`, nodemailer 6 or later) has both; typing it structurally keeps nodemailer's
 * types out of campaign-kit's public API.
 */
export interface SmtpTransporter {
  /** Submits one mail; resolves once the server accepted it. */
  sendMail(mail: SmtpMail): Promise<{ messageId?: string }>;
  /** Connects and authenticates without sending; rejects when that fails. */
  verify(): Promise<unknown>;
}

/** Options for {@link smtpChannel}. */
export interface SmtpChannelOptions {
  /** The transporter mail goes through. You create it, size its pool and close it. */
  transporter: SmtpTransporter;
  /** A name for logs and reports; defaults to `"smtp"`. */
  name?: string;
  /**
   * Personalizes the `List-Unsubscribe` URL of one message, from the configuration's `listUnsubscribe.url`
   * (called only when it is set); by default that URL is used as is. Make it identify the recipient (a
   * signed token) when you offer one-click unsubscription: the mailbox provider's POST carries nothing else.
   *
   * @example
   * ```ts
   * unsubscribeUrl: ({ message, url }) => `${url}?t=${sign(message.recipientId)}`
   * ```
   */
  unsubscribeUrl?: UnsubscribeUrl;
  /**
   * How long to wait after a `421` (service unavailable, the usual throttling reply), in ms, when the reply
   * does not say; defaults to 60,000.
   */
  throttleRetryAfterMs?: number;
}

/**
 * The `Message-ID` {@link smtpChannel} gives a message: `<ck.` + 40 hex digits of the SHA-256 of the message
 * id + `@` + the configuration's subdomain + `>`. Hashing makes any message id (campaign-kit's contain `:`)
 * fit the header's syntax; being a pure function of the message id, it is the same on every attempt, so a
 * receiver or relay that de-duplicates on `Message-ID` keeps one copy of a message sent twice (after a crash
 * or a timeout). Use it to match bounces and complaints, which quote the `Message-ID`, back to messages.
 *
 * @example
 * ```ts
 * smtpMessageId({ id: "m:6:spring:5:run-1:email:p-42", subdomain: "news.acme.com" });
 * // "<ck.5c1f…@news.acme.com>"
 * ```
 */
export function smtpMessageId(message: { id: string; subdomain: string }): string {
  const hash = createHash("sha256").update(message.id, "utf8").digest("hex").slice(0, 40);
  return `<ck.${hash}@${message.subdomain}>`;
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

const isSmtpError = (error: unknown): error is SmtpError => error instanceof Error;

/** Reads "try again in 30 seconds" / "retry after 5 minutes" from a reply's text, as milliseconds. */
function retryAfterIn(response: string | undefined): number | undefined {
  const match = response?.match(/(?:in|after)\s+(\d+)\s*(s|sec|secs|seconds?|m|min|mins|minutes?)\b/i);
  if (!match) return undefined;
  return Number(match[1]) * (match[2]!.toLowerCase().startsWith("m") ? 60_000 : 1000);
}

/**
 * Turns a transporter failure into the error that steers the dispatcher (see {@link smtpChannel} for the
 * table). Exported so a custom adapter over another SMTP client can classify alike.
 */
export function classifySmtpError(error: unknown, throttleRetryAfterMs = 60_000): Error {
  if (!isSmtpError(error)) return new Error(String(error), { cause: error });
  const code = error.responseCode;
  const reply = error.response ?? error.message;
  if (code === undefined) {
    // No reply at all: nodemailer refused the envelope itself (no or invalid recipient), so it never will go.
    if (error.code === "EENVELOPE") return new PermanentDeliveryError(error.message, { cause: error });
    return error; // connection, DNS, TLS, timeout: retried as is
  }
  if (code === 421) {
    return new RateLimitedError(`SMTP server is unavailable or throttling: ${reply}`, {
      retryAfterMs: retryAfterIn(reply) ?? throttleRetryAfterMs,
      cause: error,
    });
  }
  if (code >= 500 && code < 600) {
    // RFC 5321 §4.5.3.1.10: a 552 to RCPT TO ("mailbox full") is to be treated as the temporary 452.
    if (code === 552 && error.command === "RCPT TO") return error;
    // Refused at the greeting or at login: the server or our credentials, not this message.
    if (error.command === "CONN" || error.command?.startsWith("AUTH")) return error;
    return new PermanentDeliveryError(`SMTP server rejected the message: ${reply}`, { cause: error });
  }
  return error; // 4xx: greylisting, mailbox busy, local error, too many recipients: retried
}

/**
 * A {@link ChannelAdapter} that sends email through a nodemailer transporter. It builds each mail from the
 * message and its email configuration: `From: "fromName" <fromAddress>`, `Reply-To`, `To`, subject, HTML
 * and text parts, a deterministic `Message-ID` (see {@link smtpMessageId}), an `X-Campaign-Kit-Message-Id`
 * header with the message id, and for marketing messages, when the configuration has `listUnsubscribe`, the
 * `List-Unsubscribe` header (plus `List-Unsubscribe-Post: List-Unsubscribe=One-Click` when `oneClick` and a
 * URL are set, per RFC 8058; sign those headers with DKIM in your transporter).
 *
 * Capabilities are `{ batch: false, idempotencyKeys: false }`: SMTP cannot promise a retried submission is
 * not delivered twice. The stable `Message-ID` is the de-duplication handle instead: providers and receivers
 * that de-duplicate on it keep one copy.
 *
 * Failures are classified from the SMTP reply:
 * - `421` (service unavailable, the common throttling reply): {@link RateLimitedError}, waiting what the
 *   reply text says ("try again in 30 seconds") or `throttleRetryAfterMs`.
 * - other `4xx` (`450`, `451`, `452`...) and connection errors, timeouts: rethrown as is, so retried.
 * - `5xx`: {@link PermanentDeliveryError}, except `552` to `RCPT TO` (mailbox full, temporary per RFC 5321)
 *   and a `5xx` at the greeting or to `AUTH` (the server or credentials are at fault, not the message, so
 *   the audience is not marked undeliverable; call `verify()` before a run to catch it), which are retried.
 *   A `554` to the message itself (spam or policy rejection) is permanent.
 *
 * @example
 * ```ts
 * import nodemailer from "nodemailer";
 * import { smtpChannel } from "campaign-kit/smtp";
 *
 * const transporter = nodemailer.createTransport({ host: "smtp.example.com", port: 587, pool: true, auth });
 * const email = smtpChannel({ transporter });
 * await email.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [email] });
 * ```
 */
export function smtpChannel(options: SmtpChannelOptions): ChannelAdapter {
  const factory = "smtpChannel";
  const { transporter } = options;
  if (typeof transporter?.sendMail !== "function" || typeof transporter.verify !== "function")
    throw optionError(
      factory,
      "`transporter` must be a nodemailer transporter (`nodemailer.createTransport(...)`).",
    );
  const throttleRetryAfterMs = options.throttleRetryAfterMs ?? 60_000;
  checkNumber(factory, "throttleRetryAfterMs", throttleRetryAfterMs);

  function mailFor(message: OutboundMessage): SmtpMail {
    const parts = emailParts(message, factory, options.unsubscribeUrl);
    const mail: SmtpMail = {
      from: parts.from,
      to: parts.to,
      subject: parts.subject,
      messageId: smtpMessageId({ id: message.id, subdomain: parts.subdomain }),
      headers: parts.headers,
    };
    if (parts.replyTo !== undefined) mail.replyTo = parts.replyTo;
    if (parts.html !== undefined) mail.html = parts.html;
    if (parts.text !== undefined) mail.text = parts.text;
    return mail;
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const mail = mailFor(message);
    // A submission can't be cancelled midway, but a stopped dispatch must not start one.
    context.signal.throwIfAborted();
    let info: { messageId?: string };
    try {
      info = await transporter.sendMail(mail);
    } catch (error) {
      throw classifySmtpError(error, throttleRetryAfterMs);
    }
    return { providerMessageId: info.messageId ?? mail.messageId };
  }

  return {
    name: options.name ?? "smtp",
    channel: "email",
    capabilities: { batch: false, idempotencyKeys: false },
    send,
    async verify() {
      await transporter.verify();
    },
  };
}
