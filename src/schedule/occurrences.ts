import type { TZDate } from "@date-fns/tz";
import {
  addDays,
  addMonths,
  differenceInCalendarDays,
  differenceInCalendarMonths,
  getDaysInMonth,
  startOfISOWeek,
  startOfMonth,
} from "date-fns";
import { CampaignKitError } from "../errors.js";
import type { LocalTime } from "../model/common.js";
import { type Recurrence, type Schedule, WEEKDAYS } from "../model/schedule.js";
import {
  calendarDay,
  dayFields,
  instantAt,
  type LocalDateTime,
  localDateTimeOf,
  worldDueRange,
} from "./profile-time-zone.js";

/** One occurrence of a schedule. */
export interface Occurrence {
  /** 0 for the first occurrence at or after the start, then 1, 2...: stable while the schedule and start are. */
  index: number;
  /** When it is due in the schedule's time zone. */
  at: Date;
  /** A stable key to claim it by in storage: `at` as an ISO 8601 UTC string. */
  key: string;
  /** Its wall time in the schedule's zone; with `sendInProfileTimeZone`, the wall time in each profile's zone. */
  local: LocalDateTime;
  /**
   * When a scheduler should start it: `at`, or with `sendInProfileTimeZone` the first instant `local` arrives
   * anywhere on Earth (UTC+14), since profiles in zones ahead of the campaign's are due before `at`.
   */
  opensAt: Date;
}

/** Where a schedule without `startAt` starts. */
export interface ScheduleAnchor {
  /** When the campaign was activated: the start of a schedule without `startAt`; ignored when it has one. */
  activatedAt?: Date | undefined;
}

/** A rule's calendar, cut in periods (a day, a week, a month, times the interval) holding numbered slots. */
interface Grid {
  /** The days of period `period`'s slots, in order. */
  slotsIn(period: number): TZDate[];
  /** How many slots periods 0 to `period - 1` hold. */
  countBefore(period: number): number;
  /** The period holding slot number `slot`. */
  periodOfSlot(slot: number): number;
  /** The period holding `day` (negative before the first). */
  periodOf(day: TZDate): number;
}

/** A monthly rule may name days some months lack; the calendar repeats every 400 years, 4800 months. */
const EMPTY_PERIODS_LIMIT = 4800;

function gridOf(recurrence: Recurrence, origin: TZDate): Grid {
  const n = recurrence.interval;
  switch (recurrence.frequency) {
    case "daily":
      return {
        slotsIn: (period) => [addDays(origin, period * n)],
        countBefore: (period) => period,
        periodOfSlot: (slot) => slot,
        periodOf: (day) => Math.floor(differenceInCalendarDays(day, origin) / n),
      };
    case "weekly": {
      // Weeks start on Monday (ISO 8601, RFC 5545's default), and the start's week is period 0.
      const monday = startOfISOWeek(origin);
      const offsets = recurrence.daysOfWeek
        .map((day) => (WEEKDAYS.indexOf(day) + 6) % 7)
        .sort((a, b) => a - b);
      return {
        slotsIn: (period) => offsets.map((offset) => addDays(monday, period * 7 * n + offset)),
        countBefore: (period) => period * offsets.length,
        periodOfSlot: (slot) => Math.floor(slot / offsets.length),
        periodOf: (day) => Math.floor(differenceInCalendarDays(day, monday) / (7 * n)),
      };
    }
    case "monthly": {
      const firstMonth = startOfMonth(origin);
      const days = [...recurrence.daysOfMonth].sort((a, b) => a - b);
      const slotsIn = (period: number) => {
        const month = addMonths(firstMonth, period * n);
        const length = getDaysInMonth(month);
        return days.filter((day) => day <= length).map((day) => addDays(month, day - 1));
      };
      // Months differ in length, so counting walks them: 12 cheap steps a year.
      const countBefore = (period: number) => {
        let count = 0;
        for (let p = 0; p < period; p++) count += slotsIn(p).length;
        return count;
      };
      const periodOfSlot = (slot: number) => {
        let count = 0;
        let p = 0;
        for (let empty = 0; empty < EMPTY_PERIODS_LIMIT; p++) {
          const size = slotsIn(p).length;
          if (count + size > slot) return p;
          count += size;
          empty = size === 0 ? empty + 1 : 0;
        }
        return p;
      };
      return {
        slotsIn,
        countBefore,
        periodOfSlot,
        periodOf: (day) => Math.floor(differenceInCalendarMonths(day, firstMonth) / n),
      };
    }
  }
}

function* slotsFrom(grid: Grid, period: number): Generator<{ slot: number; day: TZDate }> {
  let slot = grid.countBefore(period);
  for (let p = period, empty = 0; empty < EMPTY_PERIODS_LIMIT; p++) {
    const days = grid.slotsIn(p);
    empty = days.length === 0 ? empty + 1 : 0;
    for (const day of days) yield { slot: slot++, day };
  }
}

function wallTime(day: TZDate, at: LocalTime): LocalDateTime {
  return { ...dayFields(day), hour: at.hour, minute: at.minute };
}

/**
 * The instant of a slot. A gap pushes a time forward at most to the gap's end, which stays before the next
 * day's time unless the gap swallows that too (over 24 hours, which tzdb does not have today): such a slot
 * gives `undefined`, so occurrences stay strictly increasing whatever the zone.
 */
function slotInstant(zone: string, day: TZDate, at: LocalTime): Date | undefined {
  const instant = instantAt(wallTime(day, at), zone);
  const shown = localDateTimeOf(instant, zone);
  if (shown.day === day.getUTCDate() && shown.month === day.getUTCMonth() + 1) return instant;
  return instant < instantAt(wallTime(addDays(day, 1), at), zone) ? instant : undefined;
}

interface Plan {
  schedule: Schedule;
  start: Date;
  /** For a recurrence: its grid and the slot number of occurrence 0, absent when there is none. */
  recurring?: { grid: Grid; at: LocalTime; first: number | undefined };
}

function invalid(message: string): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", message, { details: { issues: [{ path: "", message }] } });
}

function checkDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalid(`\`${name}\` must be a valid Date`);
}

function planOf(schedule: Schedule, anchor: ScheduleAnchor): Plan {
  const start = schedule.startAt ?? anchor.activatedAt;
  if (start === undefined) {
    throw invalid("A schedule without `startAt` starts when the campaign is activated: pass `activatedAt`");
  }
  checkDate(start, schedule.startAt ? "startAt" : "activatedAt");
  const recurrence = schedule.recurrence;
  if (!recurrence) return { schedule, start };
  const grid = gridOf(recurrence, calendarDay(localDateTimeOf(start, schedule.timeZone)));
  let first: number | undefined;
  for (const { slot, day } of slotsFrom(grid, 0)) {
    const at = slotInstant(schedule.timeZone, day, recurrence.at);
    if (at === undefined || at < start) continue;
    if (schedule.endAt === undefined || at < schedule.endAt) first = slot;
    break;
  }
  return { schedule, start, recurring: { grid, at: recurrence.at, first } };
}

function occurrence(schedule: Schedule, index: number, at: Date, local: LocalDateTime): Occurrence {
  const opensAt = schedule.sendInProfileTimeZone ? worldDueRange(local).first : at;
  return { index, at, key: at.toISOString(), local, opensAt: opensAt < at ? opensAt : at };
}

/** The occurrences from slot `fromSlot` on, in order, until the end, `endAt` or `maxOccurrences`. */
function* walk(plan: Plan, fromSlot: number): Generator<Occurrence> {
  const { schedule, start, recurring } = plan;
  if (!recurring) {
    if (fromSlot <= 0 && (schedule.endAt === undefined || start < schedule.endAt)) {
      yield occurrence(schedule, 0, start, localDateTimeOf(start, schedule.timeZone));
    }
    return;
  }
  const { grid, at, first } = recurring;
  if (first === undefined) return;
  const from = Math.max(fromSlot, first);
  for (const { slot, day } of slotsFrom(grid, grid.periodOfSlot(from))) {
    if (slot < from) continue;
    const index = slot - first;
    if (schedule.maxOccurrences !== undefined && index >= schedule.maxOccurrences) return;
    const instant = slotInstant(schedule.timeZone, day, at);
    if (instant === undefined) continue;
    if (schedule.endAt !== undefined && instant >= schedule.endAt) return;
    yield occurrence(schedule, index, instant, wallTime(day, at));
  }
}

/** The first slot that may fall at or after `instant`: from the period of the day before, for DST shifts. */
function slotNear(plan: Plan, instant: Date): number {
  if (!plan.recurring) return 0;
  const { grid } = plan.recurring;
  const day = addDays(calendarDay(localDateTimeOf(instant, plan.schedule.timeZone)), -1);
  return grid.countBefore(Math.max(0, grid.periodOf(day)));
}

/**
 * The occurrences of `schedule` due in `[from, to)`, in strictly increasing order, at most `limit` of them.
 *
 * Each recurring occurrence is at `recurrence.at` local time in `schedule.timeZone`, by the rule of
 * {@link instantAt}: a time skipped when clocks spring forward is sent at the end of the gap (02:30 becomes
 * 03:00 in Paris on the last Sunday of March), a time that occurs twice is sent once, the first time.
 * Periods are counted from the start's day, week (Monday to Sunday) or month; a day of the month a month
 * lacks (31 in April) is skipped. Only occurrences in `[start, endAt)` count, where the start is `startAt`
 * or, without one, `activatedAt`; indexes count from the first, and stop below `maxOccurrences`.
 * Without a recurrence there is one occurrence, at the start.
 *
 * @example
 * ```ts
 * const schedule = scheduleSchema.parse({
 *   timeZone: "Europe/Paris",
 *   startAt: "2026-03-27T00:00:00Z",
 *   recurrence: { frequency: "daily", at: { hour: 9, minute: 0 } },
 * });
 * occurrencesBetween(schedule, { from: new Date("2026-03-28T00:00:00Z"), to: new Date("2026-03-30T00:00:00Z") });
 * // [{ index: 1, at: 2026-03-28T08:00:00Z, ... }, { index: 2, at: 2026-03-29T07:00:00Z, ... }]
 * ```
 */
export function occurrencesBetween(
  schedule: Schedule,
  options: { from: Date; to: Date; limit?: number } & ScheduleAnchor,
): Occurrence[] {
  checkDate(options.from, "from");
  checkDate(options.to, "to");
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw invalid("`limit` must be a number of occurrences, 0 or more");
  const plan = planOf(schedule, options);
  const found: Occurrence[] = [];
  if (limit === 0) return found;
  for (const next of walk(plan, slotNear(plan, options.from))) {
    if (next.at >= options.to) break;
    if (next.at < options.from) continue;
    found.push(next);
    if (found.length >= limit) break;
  }
  return found;
}

/**
 * The first occurrence of `schedule` strictly after `after`, or `undefined` when there is none (past
 * `endAt`, `maxOccurrences` reached, a one-shot already due). Occurrences follow {@link occurrencesBetween}'s
 * rules.
 *
 * @example
 * ```ts
 * const next = nextOccurrence(schedule, { after: new Date() });
 * if (next) await clock.sleep(next.opensAt.getTime() - Date.now());
 * ```
 */
export function nextOccurrence(
  schedule: Schedule,
  options: { after: Date } & ScheduleAnchor,
): Occurrence | undefined {
  checkDate(options.after, "after");
  const plan = planOf(schedule, options);
  for (const next of walk(plan, slotNear(plan, options.after))) if (next.at > options.after) return next;
  return undefined;
}

/**
 * The occurrence numbered `index` (0 is the first), or `undefined` when it does not exist: past `endAt` or
 * `maxOccurrences`, or a slot swallowed by a gap of over a day. Costs no enumeration for daily and
 * weekly rules, and a step per month for monthly ones.
 *
 * @example
 * ```ts
 * occurrenceAt(schedule, { index: 0 })?.at; // when the schedule first sends
 * ```
 */
export function occurrenceAt(
  schedule: Schedule,
  options: { index: number } & ScheduleAnchor,
): Occurrence | undefined {
  if (!Number.isInteger(options.index) || options.index < 0)
    throw invalid("`index` must be an integer, 0 or more");
  const plan = planOf(schedule, options);
  const first = plan.recurring ? plan.recurring.first : 0;
  if (first === undefined) return undefined;
  const next = walk(plan, first + options.index).next();
  return !next.done && next.value.index === options.index ? next.value : undefined;
}

/**
 * The occurrences a scheduler must start at `now`: those whose `opensAt` is at or before `now`, after
 * occurrence `lastOccurrenceIndex` (the last one it claimed) and after the instant `since`, in order, at most
 * `limit` (100 by default; call again for more). Passing `lastOccurrenceIndex` or `since` jumps straight to
 * the right period, so a campaign that has run for years costs no more than a new one. Missed occurrences are
 * returned too, oldest first: whether to send them late is the caller's call (see the delivery window).
 *
 * @example
 * ```ts
 * for (const due of dueOccurrences(schedule, { now: new Date(clock.now()), lastOccurrenceIndex: 41 })) {
 *   if (await storage.claimOccurrence({ campaignId, key: due.key })) await startOccurrence(due);
 * }
 * ```
 */
export function dueOccurrences(
  schedule: Schedule,
  options: {
    now: Date;
    lastOccurrenceIndex?: number | undefined;
    since?: Date | undefined;
    limit?: number;
  } & ScheduleAnchor,
): Occurrence[] {
  checkDate(options.now, "now");
  if (options.since !== undefined) checkDate(options.since, "since");
  const last = options.lastOccurrenceIndex;
  if (last !== undefined && (!Number.isInteger(last) || last < -1)) {
    throw invalid("`lastOccurrenceIndex` must be an integer, -1 or more");
  }
  const limit = options.limit ?? 100;
  if (!(limit >= 0)) throw invalid("`limit` must be a number of occurrences, 0 or more");
  const plan = planOf(schedule, options);
  const first = plan.recurring ? plan.recurring.first : 0;
  if (first === undefined || limit === 0) return [];
  let from = last === undefined ? first : first + last + 1;
  if (options.since !== undefined) from = Math.max(from, slotNear(plan, options.since));
  const due: Occurrence[] = [];
  for (const next of walk(plan, from)) {
    if (next.opensAt > options.now) break;
    if (options.since !== undefined && next.at <= options.since) continue;
    if (last !== undefined && next.index <= last) continue;
    due.push(next);
    if (due.length >= limit) break;
  }
  return due;
}
