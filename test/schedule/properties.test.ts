import { tzOffset, tzScan } from "@date-fns/tz";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Schedule, scheduleSchema, WEEKDAYS } from "../../src/model/schedule.js";
import {
  dueOccurrences,
  instantAt,
  type LocalDateTime,
  localDateTimeOf,
  nextOccurrence,
  type Occurrence,
  occurrenceAt,
  occurrencesBetween,
} from "../../src/schedule/index.js";

const DAY = 86_400_000;
const MINUTE = 60_000;
const ZONES = Intl.supportedValuesOf("timeZone");
const wall = (local: LocalDateTime) =>
  Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0);
const wallAt = (instant: number, zone: string) => wall(localDateTimeOf(new Date(instant), zone));

/** The documented rule: `at` is the first instant at which the zone's clock reads the wall time or later. */
function obeysWallTimeRule(at: Date, local: LocalDateTime, zone: string): boolean {
  const wanted = wall(local);
  if (wallAt(at.getTime(), zone) < wanted) return false;
  return [1, 15 * MINUTE, 30 * MINUTE, 60 * MINUTE, 120 * MINUTE].every(
    (before) => wallAt(at.getTime() - before, zone) < wanted,
  );
}

// An oracle written apart from the implementation: walk every local day with plain day numbers.
const dayNumber = (local: { year: number; month: number; day: number }) =>
  Math.floor(Date.UTC(local.year, local.month - 1, local.day) / DAY);
function oracle(schedule: Schedule, start: Date, until: Date): { index: number; key: string }[] {
  const recurrence = schedule.recurrence!;
  const zone = schedule.timeZone;
  const origin = localDateTimeOf(start, zone);
  const originDay = dayNumber(origin);
  const week = (day: number) => Math.floor((day - 4) / 7); // 1970-01-05, day 4, was a Monday
  const found: { index: number; key: string }[] = [];
  for (let day = originDay; ; day++) {
    const date = new Date(day * DAY);
    const local = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    const n = recurrence.interval;
    const matches =
      recurrence.frequency === "daily"
        ? (day - originDay) % n === 0
        : recurrence.frequency === "weekly"
          ? (week(day) - week(originDay)) % n === 0 &&
            recurrence.daysOfWeek.includes(WEEKDAYS[date.getUTCDay()] ?? "sunday")
          : (local.year * 12 + local.month - (origin.year * 12 + origin.month)) % n === 0 &&
            recurrence.daysOfMonth.includes(local.day);
    if (!matches) continue;
    const at = instantAt({ ...local, hour: recurrence.at.hour, minute: recurrence.at.minute }, zone);
    if (at >= until || (schedule.endAt && at >= schedule.endAt)) return found;
    if (at < start) continue;
    if (schedule.maxOccurrences !== undefined && found.length >= schedule.maxOccurrences) return found;
    found.push({ index: found.length, key: at.toISOString() });
  }
}

const recurrenceArb = fc.oneof(
  fc.record({ frequency: fc.constant("daily"), interval: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    frequency: fc.constant("weekly"),
    interval: fc.integer({ min: 1, max: 3 }),
    daysOfWeek: fc.shuffledSubarray([...WEEKDAYS], { minLength: 1 }),
  }),
  fc.record({
    frequency: fc.constant("monthly"),
    interval: fc.integer({ min: 1, max: 3 }),
    daysOfMonth: fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 1, maxLength: 4 }),
  }),
);
const scheduleArb = fc
  .record({
    timeZone: fc.constantFrom(...ZONES),
    startAt: fc.date({ min: new Date("2000-01-01"), max: new Date("2060-01-01"), noInvalidDate: true }),
    recurrence: recurrenceArb,
    at: fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) }),
    endDays: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
    maxOccurrences: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    sendInProfileTimeZone: fc.boolean(),
  })
  .map(({ startAt, recurrence, at, endDays, ...rest }) =>
    scheduleSchema.parse({
      ...rest,
      startAt,
      recurrence: { ...recurrence, at },
      ...(endDays === undefined ? {} : { endAt: new Date(startAt.getTime() + endDays * DAY) }),
    }),
  );
// A window somewhere in the first year or so, up to 90 days long.
const windowArb = fc.record({
  fromDays: fc.integer({ min: -20, max: 300 }),
  days: fc.integer({ min: 0, max: 90 }),
  nowFraction: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe("occurrences (properties)", () => {
  it("match an independent day-by-day oracle in any zone, and obey the wall-time rule", () => {
    fc.assert(
      fc.property(scheduleArb, windowArb, (schedule, window) => {
        const start = schedule.startAt!;
        const from = new Date(start.getTime() + window.fromDays * DAY);
        const to = new Date(from.getTime() + window.days * DAY);
        const found = occurrencesBetween(schedule, { from, to });
        const expected = oracle(schedule, start, to).filter(({ key }) => key >= from.toISOString());
        expect(found.map(({ index, key }) => ({ index, key }))).toEqual(expected);
        let previous: Occurrence | undefined;
        for (const occurrence of found) {
          expect(occurrence.at >= from && occurrence.at < to && occurrence.at >= start).toBe(true);
          if (schedule.endAt) expect(occurrence.at < schedule.endAt).toBe(true);
          if (schedule.maxOccurrences) expect(occurrence.index).toBeLessThan(schedule.maxOccurrences);
          if (previous) {
            expect(occurrence.at > previous.at).toBe(true);
            expect(occurrence.index).toBeGreaterThan(previous.index);
          }
          expect(obeysWallTimeRule(occurrence.at, occurrence.local, schedule.timeZone)).toBe(true);
          expect(occurrence.opensAt <= occurrence.at).toBe(true);
          previous = occurrence;
        }
      }),
      { numRuns: 150 },
    );
  });

  it("agree across entry points: occurrenceAt, nextOccurrence, dueOccurrences", () => {
    fc.assert(
      fc.property(scheduleArb, windowArb, (schedule, window) => {
        const start = schedule.startAt!;
        const to = new Date(start.getTime() + (window.fromDays + window.days + 20) * DAY);
        const all = occurrencesBetween(schedule, { from: start, to });
        for (const occurrence of [all[0], all.at(-1), all[Math.floor(all.length / 2)]]) {
          if (occurrence) expect(occurrenceAt(schedule, { index: occurrence.index })).toEqual(occurrence);
        }
        // Inside [start, to), the range `all` enumerates: a fraction close to 1 can round up onto `to` itself.
        const now = new Date(
          Math.min(start.getTime() + window.nowFraction * (to.getTime() - start.getTime()), to.getTime() - 1),
        );
        const next = all.find((occurrence) => occurrence.at > now);
        if (next) expect(nextOccurrence(schedule, { after: now })).toEqual(next);
        const last = Math.floor(window.nowFraction * all.length) - 1;
        // With profile time zones an occurrence opens up to 14 h before its `at`: one just past `to` may be due.
        const opened = occurrencesBetween(schedule, { from: start, to: new Date(to.getTime() + DAY) });
        const due = opened.filter((occurrence) => occurrence.opensAt <= now && occurrence.index > last);
        expect(dueOccurrences(schedule, { now, lastOccurrenceIndex: last, limit: 1000 })).toEqual(due);
      }),
      { numRuns: 100 },
    );
  });

  // Zones that change offset: the random cases above rarely land on a change, so aim at one.
  const changing = ZONES.filter(
    (zone) => tzOffset(zone, new Date("2026-01-15")) !== tzOffset(zone, new Date("2026-07-15")),
  );
  it("send a time next to a DST change once, at the first instant the clock reads it or later", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...changing),
        fc.integer({ min: 2001, max: 2040 }),
        fc.integer({ min: -90, max: 150 }),
        fc.boolean(),
        (zone, year, shiftMinutes, second) => {
          const changes = tzScan(zone, {
            start: new Date(Date.UTC(year, 0, 1)),
            end: new Date(Date.UTC(year, 11, 31)),
          });
          const change = second ? changes.at(-1) : changes[0];
          if (!change) return;
          // A wall time from an hour and a half before the clock's reading just before the change to two
          // and a half hours after: in the gap, in the repeated hour, or either side.
          const shifted = new Date(wallAt(change.date.getTime() - MINUTE, zone) + shiftMinutes * MINUTE);
          const local = {
            year: shifted.getUTCFullYear(),
            month: shifted.getUTCMonth() + 1,
            day: shifted.getUTCDate(),
            hour: shifted.getUTCHours(),
            minute: shifted.getUTCMinutes(),
          };
          const schedule = scheduleSchema.parse({
            timeZone: zone,
            startAt: new Date(change.date.getTime() - 3 * DAY),
            recurrence: { frequency: "daily", at: { hour: local.hour, minute: local.minute } },
          });
          const found = occurrencesBetween(schedule, {
            from: new Date(change.date.getTime() - 2 * DAY),
            to: new Date(change.date.getTime() + 2 * DAY),
          });
          const wanted = wall(local);
          const onDay = found.filter((occurrence) => wall(occurrence.local) === wanted);
          expect(onDay).toHaveLength(1);
          expect(obeysWallTimeRule(onDay[0]!.at, local, zone)).toBe(true);
          for (const [i, occurrence] of found.entries()) {
            if (i > 0) expect(occurrence.at > found[i - 1]!.at).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
