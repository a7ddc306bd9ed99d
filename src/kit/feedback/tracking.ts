import { createHmac, timingSafeEqual } from "node:crypto";
import { CampaignKitError } from "../../errors.js";
import type { OutboundMessage } from "../../ports/channel.js";

/** Options for the kit's tracking: see `CampaignKitOptions.tracking` and docs/tracking.md. */
export interface TrackingOptions {
  /**
   * The key tracking links are signed with (HMAC-SHA256): at least 32 characters, kept secret and stable,
   * since links in mail already sent carry signatures made with it.
   */
  secret: string;
  /**
   * Where the feedback handler of `campaign-kit/http` is served, public: links become
   * `${baseUrl}/t/c/<token>`, the pixel `${baseUrl}/t/o/<token>`, the one-click unsubscribe
   * `${baseUrl}/t/u/<token>`. An `https:` URL in production.
   */
  baseUrl: string;
  /** Secrets used before `secret`, still accepted for links already sent while you rotate. */
  previousSecrets?: readonly string[];
}

/** What a tracking token stands for. */
export type TrackingTarget =
  | { kind: "open"; messageId: string }
  | { kind: "click"; messageId: string; url: string }
  | { kind: "unsubscribe"; messageId: string; address?: string };

const KIND_CODES = { open: "o", click: "c", unsubscribe: "u" } as const;

const sign = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(payload).digest().subarray(0, 16);

/** A token for `target`: its fields as base64url JSON, a dot, and a 128-bit HMAC of them. */
export function trackingToken(secret: string, target: TrackingTarget): string {
  const fields: string[] = [KIND_CODES[target.kind], target.messageId];
  if (target.kind === "click") fields.push(target.url);
  if (target.kind === "unsubscribe" && target.address !== undefined) fields.push(target.address);
  const payload = Buffer.from(JSON.stringify(fields)).toString("base64url");
  return `${payload}.${sign(secret, payload).toString("base64url")}`;
}

function invalid(reason: string): CampaignKitError {
  return new CampaignKitError(
    "TRACKING_TOKEN_INVALID",
    `This tracking link is not one campaign-kit made: ${reason}.`,
    { details: { problem: reason } },
  );
}

/** What `token` stands for, if one of `secrets` signed it for `kind`; `TRACKING_TOKEN_INVALID` otherwise. */
export function readTrackingToken(
  secrets: readonly string[],
  kind: TrackingTarget["kind"],
  token: string,
): TrackingTarget {
  const [payload, signature, ...rest] = token.split(".");
  if (!payload || !signature || rest.length > 0 || token.length > 8192) throw invalid("it is malformed");
  const given = Buffer.from(signature, "base64url");
  const signed = secrets.some((secret) => {
    const expected = sign(secret, payload);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) throw invalid("its signature doesn't match");
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw invalid("it is malformed");
  }
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === "string")) throw invalid("it is malformed");
  const [code, messageId, extra] = fields as string[];
  if (code !== KIND_CODES[kind] || !messageId) throw invalid(`it is not a ${kind} link`);
  if (kind === "click") {
    if (extra === undefined) throw invalid("it names no link");
    return { kind, messageId, url: extra };
  }
  if (kind === "unsubscribe")
    return extra === undefined ? { kind, messageId } : { kind, messageId, address: extra };
  return { kind, messageId };
}

// `<a ... href="http(s)://...">`, the URL quoted; other schemes (mailto:, tel:, #anchors) are left alone.
const LINK = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

const decodeEntities = (url: string) =>
  url.replaceAll("&amp;", "&").replaceAll("&#38;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'");
const encodeAttribute = (url: string) => url.replaceAll("&", "&amp;").replaceAll('"', "&quot;");

/**
 * The message with tracking applied, as its configuration opts in: each `http(s)` link of the HTML (but
 * those of an `<a>` with `data-ck-notrack`) replaced by a signed redirect to it, a 1x1 pixel before
 * `</body>` (or at the end), and, for marketing email, the one-click unsubscribe URL. Text bodies are left
 * as written: a rewritten link there would be visible.
 */
export function applyTracking(options: TrackingOptions, message: OutboundMessage): OutboundMessage {
  const { configuration } = message;
  if (configuration.channel !== "email" || message.content.channel !== "email") return message;
  const tracking = configuration.settings.tracking;
  if (tracking === undefined) return message;
  const base = options.baseUrl.replace(/\/+$/, "");
  const token = (target: TrackingTarget) => trackingToken(options.secret, target);
  const content = { ...message.content };
  if (content.html !== undefined && tracking.clicks) {
    content.html = content.html.replace(LINK, (whole, start: string, quote: string, href: string) => {
      if (/\bdata-ck-notrack\b/i.test(whole)) return whole;
      const url = decodeEntities(href);
      const redirect = `${base}/t/c/${token({ kind: "click", messageId: message.id, url })}`;
      return `${start}${quote}${encodeAttribute(redirect)}${quote}`;
    });
  }
  if (content.html !== undefined && tracking.opens) {
    const pixel = `<img src="${base}/t/o/${token({ kind: "open", messageId: message.id })}" width="1" height="1" alt="" style="display:none">`;
    const end = content.html.search(/<\/body>/i);
    content.html =
      end === -1 ? content.html + pixel : content.html.slice(0, end) + pixel + content.html.slice(end);
  }
  const tracked: OutboundMessage = { ...message, content };
  if (tracking.unsubscribe && message.category === "marketing") {
    const target: TrackingTarget = { kind: "unsubscribe", messageId: message.id };
    if (message.to !== undefined) target.address = message.to;
    tracked.listUnsubscribeUrl = `${base}/t/u/${token(target)}`;
  }
  return tracked;
}
