import { z } from "zod";
import { hasUnpairedSurrogate } from "./input-guard.js";

const knownZones = new Map<string, boolean>();

/** Whether `zone` is an IANA time zone name this runtime knows (`Europe/Paris`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    knownZones.set(zone, known);
  }
  return known;
}

/** An IANA time zone name, such as `Europe/Paris`. */
export const timeZoneSchema = z
  .string()
  .refine(isTimeZone, { message: "Expected an IANA time zone name such as 'Europe/Paris' or 'UTC'" });

// Also on the string branch: zod reports a union's failure through the branch whose type matched, so a bad
// string would otherwise say only "Invalid ISO datetime", without the offset it needs.
const INSTANT_MESSAGE =
  "Expected a Date or an ISO 8601 date-time with an offset, such as '2026-12-01T09:00:00Z'";

/**
 * An instant: a `Date` or an ISO 8601 date-time string with an offset (`2026-12-01T09:00:00Z`), parsed into a
 * `Date`.
 */
export const instantSchema = z
  .union([z.date(), z.iso.datetime({ offset: true, error: INSTANT_MESSAGE })], { error: INSTANT_MESSAGE })
  .transform((value) => (typeof value === "string" ? new Date(value) : value))
  .refine((date) => !Number.isNaN(date.getTime()), { message: "Expected a valid date" });

/** The longest id, in characters. */
export const ID_MAX_LENGTH = 200;

/** An identifier: 1 to 200 characters, no control characters, valid Unicode. */
export const idSchema = z
  .string()
  .min(1, "An id can't be empty")
  .max(ID_MAX_LENGTH, `An id is at most ${ID_MAX_LENGTH} characters`)
  // `*`, not `+`: emptiness is min(1)'s to report, else an empty id gets two issues.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  .regex(/^[^\u0000-\u001f\u007f]*$/, "An id can't contain control characters")
  .refine((id) => !hasUnpairedSurrogate(id), "An id can't contain an unpaired UTF-16 surrogate");

/** The channels a campaign action can send on. */
export const CHANNELS = ["email", "sms", "push", "webhook"] as const;
/** A channel: `email`, `sms`, `push` or `webhook`. */
export const channelSchema = z.enum(CHANNELS, {
  error: `Expected a channel, one of: ${CHANNELS.join(", ")}`,
});
/** A channel a campaign action sends on. */
export type Channel = z.infer<typeof channelSchema>;

/** Campaign category: marketing sends need consent; transactional ones don't. */
export const categorySchema = z.enum(["marketing", "transactional"]);
/** `marketing` or `transactional`. */
export type Category = z.infer<typeof categorySchema>;

/** An email address. */
export const emailAddressSchema = z.email({ error: "Expected an email address such as 'news@example.com'" });

/** A phone number in E.164 form: `+` then 2 to 15 digits, no leading zero. */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{1,14}$/, "Expected an E.164 phone number such as '+33612345678'");

/** An `http:` or `https:` URL. */
export const httpUrlSchema = z.url({
  protocol: /^https?$/,
  error: "Expected an http(s) URL such as 'https://example.com/hook'",
});

/** A local time of day: hour 0-23 and minute 0-59. */
export const localTimeSchema = z.object({
  hour: z.number().int().min(0).max(23),
  minute: z.number().int().min(0).max(59).default(0),
});
/** A local wall-clock time of day. */
export type LocalTime = z.infer<typeof localTimeSchema>;

/** A free-form bag of named values: profile attributes, trigger context. */
export const attributesSchema = z.record(z.string(), z.unknown());

/**
 * `T` with every array and object readonly, all the way down. Operations take their inputs as
 * `ReadonlyDeep<...>` so that objects written `as const` are accepted as well as mutable ones.
 */
export type ReadonlyDeep<T> = T extends Date | ((...args: never[]) => unknown)
  ? T
  : T extends readonly (infer U)[]
    ? readonly ReadonlyDeep<U>[]
    : T extends object
      ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> }
      : T;
