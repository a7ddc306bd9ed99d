import { TZDate, tzOffset } from "@date-fns/tz";
import { addDays } from "date-fns";
import { isTimeZone } from "../model/common.js";
import type { QuietHours } from "../model/delivery-controls.js";

/**
 * A wall-clock date and time with no zone attached: what a clock on the wall shows. `month` is 1-12.
 * `second` and `millisecond` default to 0.
 */
export interface LocalDateTime {
  /** The full year, such as 2026. */
  year: number;
  /** 1 (January) to 12. */
  month: number;
  /** Day of the month, from 1. */
  day: number;
  /** 0 to 23. */
  hour: number;
  /** 0 to 59. */
  minute: number;
  /** 0 to 59; 0 when absent. */
  second?: number;
  /** 0 to 999; 0 when absent. */
  millisecond?: number;
}

/** Which instant to take when a wall time occurs twice (the hour repeated when clocks fall back). */
export type Disambiguation = "earlier" | "later";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The zones furthest ahead of and behind UTC: a wall time arrives there first and last on Earth. */
const FIRST_ZONE = "Etc/GMT-14";
const LAST_ZONE = "Etc/GMT+12";

// Wall times are compared as the number a UTC clock showing those fields would read: an ordering key, not an
// instant, so comparisons stay exact across dates and months.
function wallKey(local: LocalDateTime): number {
  return Date.UTC(
    local.year,
    local.month - 1,
    local.day,
    local.hour,
    local.minute,
    local.second ?? 0,
    local.millisecond ?? 0,
  );
}

function wallKeyOf(instant: number, zone: string): number {
  return wallKey(localDateTimeOf(new Date(instant), zone));
}

/**
 * The wall-clock date and time of `instant` in `zone`.
 *
 * @example
 * ```ts
 * localDateTimeOf(new Date("2026-07-01T07:00:00Z"), "Europe/Paris"); // { year: 2026, month: 7, day: 1, hour: 9, minute: 0, ... }
 * ```
 */
export function localDateTimeOf(instant: Date, zone: string): Required<LocalDateTime> {
  const local = new TZDate(instant.getTime(), zone);
  return {
    year: local.getFullYear(),
    month: local.getMonth() + 1,
    day: local.getDate(),
    hour: local.getHours(),
    minute: local.getMinutes(),
    second: local.getSeconds(),
    millisecond: local.getMilliseconds(),
  };
}

/**
 * The instant `zone`'s clocks show `local`: **the first instant at which the wall clock reads `local` or
 * later**. So a time that occurs twice when clocks fall back resolves to the earlier instant (pass
 * `"later"` to get the second), and a time skipped when clocks spring forward resolves to the end of the gap:
 * 02:30 on the last Sunday of March in Europe/Paris is 03:00 CEST.
 *
 * @example
 * ```ts
 * instantAt({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, "Europe/Paris"); // 2026-03-29T01:00:00Z (03:00 CEST)
 * instantAt({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, "Europe/Paris"); // 2026-10-25T00:30:00Z (02:30 CEST)
 * ```
 */
export function instantAt(
  local: LocalDateTime,
  zone: string,
  disambiguation: Disambiguation = "earlier",
): Date {
  const wall = wallKey(local);
  // Not `new TZDate(y, m, d, h, min, zone)`: at DST edges its pick goes through the host's own zone, so an
  // ambiguous 02:30 in Paris comes out as the earlier instant on one machine and the later on another. Each
  // offset the zone uses around that wall time gives one candidate instant; keep those that really show it.
  const before = tzOffset(zone, new Date(wall - DAY_MS));
  const after = tzOffset(zone, new Date(wall + DAY_MS));
  const offsets = new Set([before, tzOffset(zone, new Date(wall)), after]);
  const matches = [...offsets]
    .map((offset) => wall - offset * MINUTE_MS)
    .filter((candidate) => wallKeyOf(candidate, zone) === wall)
    .sort((a, b) => a - b);
  const picked = disambiguation === "earlier" ? matches[0] : matches.at(-1);
  if (picked !== undefined) return new Date(picked);
  // The wall time is in a gap: find the transition, the first instant whose clock reads past it. The clock
  // reads before the gap at `low` and after it at `high`, so halving converges on the transition.
  let low = Math.min(wall - after * MINUTE_MS, wall - before * MINUTE_MS);
  let high = Math.max(wall - after * MINUTE_MS, wall - before * MINUTE_MS);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (wallKeyOf(middle, zone) >= wall) high = middle;
    else low = middle;
  }
  return new Date(high);
}

/**
 * A calendar day as midnight UTC, so date-fns's day, week and month maths never meet a DST change.
 * @internal
 */
export function calendarDay(date: { year: number; month: number; day: number }): TZDate {
  return new TZDate(Date.UTC(date.year, date.month - 1, date.day), "UTC");
}

/**
 * The year, month (1-12) and day of a {@link calendarDay}.
 * @internal
 */
export function dayFields(day: Date): { year: number; month: number; day: number } {
  return { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() };
}

/** `zone` when it is a time zone this runtime knows, else `fallback`. */
function zoneOr(zone: string | null | undefined, fallback: string): string {
  return zone && isTimeZone(zone) ? zone : fallback;
}

/**
 * The instant a profile is due for an occurrence sent in profiles' own time zones: the occurrence's wall
 * time (`occurrence.local`) in the profile's zone, or in the campaign's zone when the profile has none or an
 * unknown one. The DST rule is {@link instantAt}'s.
 *
 * @example
 * ```ts
 * const local = { year: 2026, month: 12, day: 1, hour: 9, minute: 0 };
 * profileDueAt(local, "America/New_York", "Europe/Paris"); // 2026-12-01T14:00:00Z
 * profileDueAt(local, undefined, "Europe/Paris"); // 2026-12-01T08:00:00Z
 * ```
 */
export function profileDueAt(
  local: LocalDateTime,
  profileZone: string | null | undefined,
  campaignZone: string,
): Date {
  return instantAt(local, zoneOr(profileZone, campaignZone));
}

/**
 * When the last of `zones` reaches the wall time `local`, plus `windowMs` (say the delivery window): an
 * occurrence sent in profiles' time zones stays live until then. Profiles without a known zone use
 * `campaignZone`, which is also the answer's zone when `zones` is empty. Pass the distinct zones of the
 * audience; when they are unknown, {@link worldDueRange} bounds every zone.
 *
 * @example
 * ```ts
 * const local = { year: 2026, month: 12, day: 1, hour: 9, minute: 0 };
 * lastZoneDueAt(local, ["Asia/Tokyo", "America/Los_Angeles", undefined], "Europe/Paris"); // 2026-12-01T17:00:00Z
 * ```
 */
export function lastZoneDueAt(
  local: LocalDateTime,
  zones: Iterable<string | null | undefined>,
  campaignZone: string,
  windowMs = 0,
): Date {
  const seen = new Set<string>();
  for (const zone of zones) seen.add(zoneOr(zone, campaignZone));
  if (seen.size === 0) seen.add(campaignZone);
  let last = Number.NEGATIVE_INFINITY;
  for (const zone of seen) last = Math.max(last, instantAt(local, zone).getTime());
  return new Date(last + windowMs);
}

/**
 * When the wall time `local` first and last arrives anywhere on Earth (UTC+14 and UTC-12): the bounds of an
 * occurrence sent in profiles' time zones when the audience's zones are not known in advance.
 *
 * @example
 * ```ts
 * worldDueRange({ year: 2026, month: 12, day: 1, hour: 9, minute: 0 });
 * // { first: 2026-11-30T19:00:00Z, last: 2026-12-01T21:00:00Z }
 * ```
 */
export function worldDueRange(local: LocalDateTime): { first: Date; last: Date } {
  return { first: instantAt(local, FIRST_ZONE), last: instantAt(local, LAST_ZONE) };
}

/** The part of {@link QuietHours} these helpers read: a local start and end, which may wrap midnight. */
export type QuietWindow = Pick<QuietHours, "start" | "end">;

function minutesOfDay(time: { hour: number; minute: number }): number {
  return time.hour * 60 + time.minute;
}

/**
 * Whether `instant` falls in quiet hours in `zone`, by the wall clock: from `start` included to `end` excluded,
 * wrapping midnight when `end` is before `start` (22:00 to 07:00). When clocks fall back, the repeated hour
 * is quiet both times if it is in the range.
 *
 * @example
 * ```ts
 * const quiet = { start: { hour: 22, minute: 0 }, end: { hour: 7, minute: 0 } };
 * isInQuietHours(new Date("2026-07-01T03:00:00Z"), quiet, "Europe/Paris"); // true (05:00 in Paris)
 * ```
 */
export function isInQuietHours(instant: Date, quietHours: QuietWindow, zone: string): boolean {
  const local = localDateTimeOf(instant, zone);
  const now = minutesOfDay(local);
  const start = minutesOfDay(quietHours.start);
  const end = minutesOfDay(quietHours.end);
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * The first instant at or after `instant` outside quiet hours in `zone`: `instant` itself when it is not in
 * quiet hours, else when the clock next reads `end` (by {@link instantAt}'s rule, so an `end` inside a
 * spring-forward gap is the end of the gap).
 *
 * @example
 * ```ts
 * const quiet = { start: { hour: 22, minute: 0 }, end: { hour: 7, minute: 0 } };
 * quietHoursEnd(new Date("2026-06-30T21:00:00Z"), quiet, "Europe/Paris"); // 2026-07-01T05:00:00Z (07:00 in Paris)
 * ```
 */
export function quietHoursEnd(instant: Date, quietHours: QuietWindow, zone: string): Date {
  if (!isInQuietHours(instant, quietHours, zone)) return instant;
  const local = localDateTimeOf(instant, zone);
  const wraps = minutesOfDay(quietHours.start) > minutesOfDay(quietHours.end);
  // In a wrapping range, a time after `start` ends tomorrow; any other quiet time ends today.
  const endsTomorrow = wraps && minutesOfDay(local) >= minutesOfDay(quietHours.start);
  const day = addDays(calendarDay(local), endsTomorrow ? 1 : 0);
  const end = { ...dayFields(day), hour: quietHours.end.hour, minute: quietHours.end.minute };
  const first = instantAt(end, zone);
  // In the second pass of a repeated hour, the first pass of `end` is already behind us.
  return first > instant ? first : instantAt(end, zone, "later");
}
