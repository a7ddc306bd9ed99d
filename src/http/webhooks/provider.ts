import { timingSafeEqual } from "node:crypto";
import { CampaignKitError } from "../../errors.js";
import type { FeedbackEventInput } from "../../model/feedback.js";

/** One webhook call as a provider parser sees it: the raw body, for signatures computed over its bytes. */
export interface WebhookRequest {
  /** The URL the provider called, as it called it (Twilio signs it). */
  url: string;
  /** The request's headers. */
  headers: Headers;
  /** The body, exactly as received, as UTF-8 text. */
  body: string;
  /**
   * Now, in ms since the epoch, for signature timestamps' tolerance and events that carry no time: the
   * system clock, as providers sign with real time.
   */
  now: number;
}

/** What a provider's webhook makes of a verified call. */
export interface WebhookParsed {
  /** The feedback events it carries (possibly none: a provider's test ping, an event the kit doesn't count). */
  events: FeedbackEventInput[];
  /**
   * Something to do before answering, after the signature was verified: Amazon SNS's subscription
   * confirmation fetches the `SubscribeURL`.
   */
  confirm?: () => Promise<void>;
}

/**
 * A provider's delivery-feedback webhook: verifies that a call comes from the provider, then turns its body
 * into feedback events. Made by `sesWebhook`, `resendWebhook`, `postmarkWebhook`, `sendgridWebhook` and
 * `twilioWebhook`; implement it for another provider.
 */
export interface FeedbackWebhook {
  /** The provider's name, the last segment of its route (`ses` serves `POST {basePath}/webhooks/ses`). */
  readonly name: string;
  /**
   * Checks the call and parses it. Throw `CampaignKitError("WEBHOOK_SIGNATURE_INVALID")` when it is not
   * from the provider (answered 401) and `VALIDATION_FAILED` when its body is malformed (400); anything else
   * is answered 500.
   */
  handle(request: WebhookRequest): Promise<WebhookParsed>;
}

/** The refusal of a call whose signature or credentials don't check out: a 401. */
export function signatureInvalid(provider: string, why: string): CampaignKitError {
  return new CampaignKitError(
    "WEBHOOK_SIGNATURE_INVALID",
    `This ${provider} webhook call is not signed by ${provider}: ${why}. Check the signing secret or key the ` +
      "webhook was set up with.",
    { details: { provider } },
  );
}

/** The refusal of a body that isn't what the provider sends: a 400. */
export function badBody(provider: string, why: string, cause?: unknown): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", `This ${provider} webhook body is malformed: ${why}.`, {
    cause,
    details: { issues: [{ path: "", message: why }] },
  });
}

/** The body as JSON, or a 400. */
export function jsonBody(provider: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badBody(provider, "it is not JSON", error);
  }
}

/** Compares two secrets in constant time (different lengths are simply unequal). */
export function sameSecret(a: string | Buffer, b: string | Buffer): boolean {
  const x = Buffer.isBuffer(a) ? a : Buffer.from(a);
  const y = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A plain object, for reading untrusted JSON. */
export type Json = Record<string, unknown>;

/** `value` as an object, or `{}`. */
export const obj = (value: unknown): Json =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};

/** `value` when it is a non-empty string. */
export const str = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 ? value : undefined;

/** An instant from a provider's timestamp (ISO text, or seconds since the epoch), else `fallback`. */
export function instant(value: unknown, fallback: number): Date {
  if (typeof value === "number" && Number.isFinite(value)) return new Date(value * 1000);
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return new Date(parsed);
  }
  return new Date(fallback);
}
