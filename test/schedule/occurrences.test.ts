import { afterEach, describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import { type Schedule, scheduleSchema } from "../../src/model/schedule.js";
import {
  dueOccurrences,
  instantAt,
  nextOccurrence,
  occurrenceAt,
  occurrencesBetween,
} from "../../src/schedule/index.js";

const schedule = (input: Record<string, unknown>): Schedule => scheduleSchema.parse(input);
const keys = (found: { key: string }[]) => found.map((occurrence) => occurrence.key);
const between = (s: Schedule, from: string, to: string) =>
  occurrencesBetween(s, { from: new Date(from), to: new Date(to) });

describe("occurrencesBetween: DST", () => {
  it("keeps a 09:00 Europe/Paris send at 09:00 local across both changes", () => {
    const daily = schedule({
      timeZone: "Europe/Paris",
      startAt: "2026-03-27T00:00:00Z",
      recurrence: { frequency: "daily", at: { hour: 9, minute: 0 } },
    });
    expect(keys(between(daily, "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z"))).toEqual([
      "2026-03-27T08:00:00.000Z",
      "2026-03-28T08:00:00.000Z",
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
    ]);
    expect(keys(between(daily, "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z"))).toEqual([
      "2026-10-24T07:00:00.000Z",
      "2026-10-25T08:00:00.000Z",
      "2026-10-26T08:00:00.000Z",
    ]);
  });

  it("sends a skipped 02:30 at the end of the gap and a repeated 02:30 once, the first time (Paris)", () => {
    const daily = schedule({
      timeZone: "Europe/Paris",
      startAt: "2026-03-27T00:00:00Z",
      recurrence: { frequency: "daily", at: { hour: 2, minute: 30 } },
    });
    expect(keys(between(daily, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"))).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST: 02:00-03:00 does not exist
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
    expect(keys(between(daily, "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z"))).toEqual([
      "2026-10-24T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST, not again at 02:30 CET (01:30Z)
      "2026-10-26T01:30:00.000Z", // 02:30 CET
    ]);
  });

  it("applies the same rule in America/New_York", () => {
    const gap = schedule({
      timeZone: "America/New_York",
      startAt: "2026-03-07T00:00:00Z",
      recurrence: { frequency: "daily", at: { hour: 2, minute: 30 } },
    });
    expect(keys(between(gap, "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z"))).toEqual([
      "2026-03-07T07:30:00.000Z", // 02:30 EST
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-09T06:30:00.000Z", // 02:30 EDT
    ]);
    const overlap = schedule({
      timeZone: "America/New_York",
      startAt: "2026-10-31T00:00:00Z",
      recurrence: { frequency: "daily", at: { hour: 1, minute: 30 } },
    });
    expect(keys(between(overlap, "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z"))).toEqual([
      "2026-10-31T05:30:00.000Z", // 01:30 EDT
      "2026-11-01T05:30:00.000Z", // 01:30 EDT, not again at 01:30 EST (06:30Z)
      "2026-11-02T06:30:00.000Z", // 01:30 EST
    ]);
  });

  describe("whatever the host's own time zone", () => {
    const saved = process.env.TZ;
    afterEach(() => {
      process.env.TZ = saved;
    });
    it.each(["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"])(
      "TZ=%s",
      (host) => {
        process.env.TZ = host;
        const gap = { year: 2026, month: 3, day: 29, hour: 2, minute: 30 };
        const overlap = { year: 2026, month: 10, day: 25, hour: 2, minute: 30 };
        expect(instantAt(gap, "Europe/Paris").toISOString()).toBe("2026-03-29T01:00:00.000Z");
        expect(instantAt(overlap, "Europe/Paris").toISOString()).toBe("2026-10-25T00:30:00.000Z");
        expect(instantAt(overlap, "Europe/Paris", "later").toISOString()).toBe("2026-10-25T01:30:00.000Z");
        const newYork = { year: 2026, month: 11, day: 1, hour: 1, minute: 30 };
        expect(instantAt(newYork, "America/New_York").toISOString()).toBe("2026-11-01T05:30:00.000Z");
      },
    );
  });
});

describe("occurrencesBetween: rules", () => {
  it("counts weekly intervals from the start's week (Monday to Sunday)", () => {
    const weekly = schedule({
      timeZone: "UTC",
      startAt: "2026-01-07T00:00:00Z", // a Wednesday: that week's Monday is already past
      recurrence: {
        frequency: "weekly",
        interval: 2,
        daysOfWeek: ["sunday", "friday", "monday"],
        at: { hour: 9 },
      },
    });
    expect(keys(between(weekly, "2026-01-01T00:00:00Z", "2026-02-07T00:00:00Z"))).toEqual([
      "2026-01-09T09:00:00.000Z",
      "2026-01-11T09:00:00.000Z",
      "2026-01-19T09:00:00.000Z",
      "2026-01-23T09:00:00.000Z",
      "2026-01-25T09:00:00.000Z",
      "2026-02-02T09:00:00.000Z",
      "2026-02-06T09:00:00.000Z",
    ]);
  });

  it("skips days a month lacks and counts monthly intervals from the start's month", () => {
    const monthly = schedule({
      timeZone: "America/New_York",
      startAt: "2026-01-01T00:00:00-05:00", // in the zone's January (00:00Z is still December there)
      recurrence: { frequency: "monthly", interval: 2, daysOfMonth: [31, 15], at: { hour: 9, minute: 0 } },
    });
    const found = between(monthly, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    expect(keys(found)).toEqual([
      "2026-01-15T14:00:00.000Z",
      "2026-01-31T14:00:00.000Z",
      "2026-03-15T13:00:00.000Z",
      "2026-03-31T13:00:00.000Z",
      "2026-05-15T13:00:00.000Z",
      "2026-05-31T13:00:00.000Z",
      "2026-07-15T13:00:00.000Z",
      "2026-07-31T13:00:00.000Z",
      "2026-09-15T13:00:00.000Z", // no 31 September
      "2026-11-15T14:00:00.000Z", // no 31 November
    ]);
    expect(found.map((occurrence) => occurrence.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("anchors daily intervals on the start's day, so a start after `at` waits for the next slot", () => {
    const everyOther = schedule({
      timeZone: "UTC",
      startAt: "2026-05-01T10:00:00Z",
      recurrence: { frequency: "daily", interval: 2, at: { hour: 9 } },
    });
    expect(keys(between(everyOther, "2026-05-01T00:00:00Z", "2026-05-06T00:00:00Z"))).toEqual([
      "2026-05-03T09:00:00.000Z",
      "2026-05-05T09:00:00.000Z",
    ]);
  });

  it("stops before endAt and after maxOccurrences, keeping indexes from the first occurrence", () => {
    const base = {
      timeZone: "Europe/Paris",
      startAt: "2026-06-01T00:00:00Z",
      recurrence: { frequency: "daily", at: { hour: 9 } },
    };
    const ended = schedule({ ...base, endAt: "2026-06-04T07:00:00Z" });
    expect(keys(between(ended, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"))).toEqual([
      "2026-06-01T07:00:00.000Z",
      "2026-06-02T07:00:00.000Z",
      "2026-06-03T07:00:00.000Z",
    ]); // 2026-06-04T07:00Z is endAt itself: excluded
    const capped = schedule({ ...base, maxOccurrences: 5 });
    const late = between(capped, "2026-06-04T00:00:00Z", "2027-01-01T00:00:00Z");
    expect(late.map((occurrence) => occurrence.index)).toEqual([3, 4]);
    expect(between(capped, "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z").length).toBe(5);
    expect(
      occurrencesBetween(capped, { from: new Date(0), to: new Date("2027-01-01"), limit: 2 }),
    ).toHaveLength(2);
  });

  it("sends a one-shot once, at startAt or at activation", () => {
    const once = schedule({ startAt: "2026-12-01T09:00:00Z" });
    expect(between(once, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")).toEqual([
      expect.objectContaining({ index: 0, key: "2026-12-01T09:00:00.000Z" }),
    ]);
    expect(between(once, "2026-12-01T09:00:00.001Z", "2027-01-01T00:00:00Z")).toEqual([]);
    const now = schedule({});
    const activatedAt = new Date("2026-05-05T05:05:05Z");
    const found = occurrencesBetween(now, { from: new Date(0), to: new Date("2030-01-01"), activatedAt });
    expect(found.map((occurrence) => occurrence.at)).toEqual([activatedAt]);
    const expired = schedule({ endAt: "2026-01-01T00:00:00Z" });
    expect(
      occurrencesBetween(expired, { from: new Date(0), to: new Date("2030-01-01"), activatedAt }),
    ).toEqual([]);
  });

  it("refuses a schedule without startAt when no activatedAt is given", () => {
    let caught: unknown;
    try {
      between(schedule({}), "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    } catch (error) {
      caught = error;
    }
    expect(isCampaignKitError(caught, "VALIDATION_FAILED")).toBe(true);
  });
});

describe("nextOccurrence, occurrenceAt, dueOccurrences", () => {
  const daily = schedule({
    timeZone: "Europe/Paris",
    startAt: "2020-01-01T00:00:00Z",
    recurrence: { frequency: "daily", at: { hour: 9 } },
  });

  it("finds the next occurrence strictly after an instant", () => {
    expect(nextOccurrence(daily, { after: new Date("2026-07-01T07:00:00Z") })?.key).toBe(
      "2026-07-02T07:00:00.000Z",
    );
    expect(nextOccurrence(daily, { after: new Date("2026-07-01T06:59:59Z") })?.key).toBe(
      "2026-07-01T07:00:00.000Z",
    );
    const capped = schedule({ ...daily, maxOccurrences: 3 });
    expect(nextOccurrence(capped, { after: new Date("2020-01-03T08:00:00Z") })).toBeUndefined();
  });

  it("numbers occurrences years in, as enumeration from the start does", () => {
    const all = between(daily, "2020-01-01T00:00:00Z", "2026-07-02T00:00:00Z");
    const last = all.at(-1);
    expect(last?.key).toBe("2026-07-01T07:00:00.000Z");
    expect(occurrenceAt(daily, { index: last?.index ?? -1 })).toEqual(last);
    expect(nextOccurrence(daily, { after: new Date("2026-06-30T12:00:00Z") })).toEqual(last);
  });

  it("returns what is due after the last claimed index or instant, oldest first, up to the limit", () => {
    const now = new Date("2026-07-03T12:00:00Z");
    const index = nextOccurrence(daily, { after: new Date("2026-07-01T00:00:00Z") })?.index ?? -1;
    expect(keys(dueOccurrences(daily, { now, lastOccurrenceIndex: index }))).toEqual([
      "2026-07-02T07:00:00.000Z",
      "2026-07-03T07:00:00.000Z",
    ]);
    expect(keys(dueOccurrences(daily, { now, since: new Date("2026-07-02T07:00:00Z") }))).toEqual([
      "2026-07-03T07:00:00.000Z",
    ]);
    expect(dueOccurrences(daily, { now, limit: 2 }).map((due) => due.index)).toEqual([0, 1]);
  });

  it("opens a profile-time-zone occurrence when its wall time first arrives on Earth (UTC+14)", () => {
    const local = schedule({ ...daily, sendInProfileTimeZone: true });
    const [due] = dueOccurrences(local, {
      now: new Date("2026-07-01T19:00:00Z"),
      since: new Date("2026-07-01T12:00:00Z"),
    });
    expect(due?.key).toBe("2026-07-02T07:00:00.000Z");
    expect(due?.opensAt.toISOString()).toBe("2026-07-01T19:00:00.000Z");
    expect(due?.local).toEqual({ year: 2026, month: 7, day: 2, hour: 9, minute: 0 });
  });
});
