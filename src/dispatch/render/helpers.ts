import { TZDate } from "@date-fns/tz";
import { format } from "date-fns";
import type { HelperOptions } from "handlebars";

/** Whether a template value counts as missing: `undefined`, `null` or the empty string. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

/**
 * `{{fallback profile.firstName "there"}}`: the value, or the default when it is missing. Wrapping a variable
 * in `fallback` is how a template says it may be missing; plain `{{profile.firstName}}` makes it required.
 */
export function fallbackHelper(value: unknown, ...rest: unknown[]): unknown {
  // Handlebars appends its options object; a lone `{{fallback x}}` falls back to "".
  const defaultValue = rest.length >= 2 ? rest[0] : "";
  return isBlank(value) ? defaultValue : value;
}

function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === "string" || typeof value === "number") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/**
 * `{{formatDate profile.renewsAt "d MMMM yyyy"}}`, optionally `{{formatDate date "HH:mm" "Europe/Paris"}}` or
 * `timeZone="Europe/Paris"`: a date-fns `format` pattern (default `yyyy-MM-dd`) in an IANA zone, UTC when
 * none is given so output never depends on the server's zone. Accepts a `Date`, an ISO string or epoch ms;
 * anything else renders as "".
 */
export function formatDateHelper(value: unknown, ...rest: unknown[]): string {
  const options = rest.pop() as HelperOptions | undefined;
  const date = toDate(value);
  if (!date) return "";
  const pattern = typeof rest[0] === "string" ? rest[0] : "yyyy-MM-dd";
  const hashZone = options?.hash?.timeZone;
  const zone = typeof rest[1] === "string" ? rest[1] : typeof hashZone === "string" ? hashZone : "UTC";
  // A pattern or zone that only arrives at send time (from context) and is bad renders as missing, like a
  // bad date, rather than failing the whole batch; literal ones are rejected before the campaign is made.
  try {
    return format(new TZDate(date.getTime(), zone), pattern);
  } catch {
    return "";
  }
}

/**
 * `{{#if (eq profile.tier "gold")}}`: whether two values are strictly equal. Handlebars has no comparison of
 * its own, and without one a template can't branch on an attribute's value.
 */
export function eqHelper(left: unknown, right: unknown): boolean {
  return left === right;
}

/**
 * `{"name": {{json profile.firstName}}}`: the value as JSON (`null` when missing), quotes and all. Webhook
 * payloads are JSON written as templates; without this a name holding a quote would break the payload. Leave
 * a space before a closing brace that follows it (`{{json x}} }`): `}}}` would close a triple-stash.
 */
export function jsonHelper(value: unknown): string {
  return JSON.stringify(value ?? null);
}
