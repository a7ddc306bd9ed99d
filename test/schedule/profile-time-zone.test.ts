import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isInQuietHours,
  lastZoneDueAt,
  profileDueAt,
  quietHoursEnd,
  worldDueRange,
} from "../../src/schedule/index.js";

const local = { year: 2026, month: 12, day: 1, hour: 9, minute: 0 };
const iso = (date: Date) => date.toISOString();
const night = { start: { hour: 22, minute: 0 }, end: { hour: 7, minute: 0 } };

describe("profile time zones", () => {
  it("sends at the wall time in the profile's zone, falling back to the campaign's", () => {
    expect(iso(profileDueAt(local, "America/New_York", "Europe/Paris"))).toBe("2026-12-01T14:00:00.000Z");
    expect(iso(profileDueAt(local, "Asia/Tokyo", "Europe/Paris"))).toBe("2026-12-01T00:00:00.000Z");
    expect(iso(profileDueAt(local, undefined, "Europe/Paris"))).toBe("2026-12-01T08:00:00.000Z");
    expect(iso(profileDueAt(local, "Mars/Olympus_Mons", "Europe/Paris"))).toBe("2026-12-01T08:00:00.000Z");
  });

  it("applies the DST rule in the profile's zone", () => {
    const gap = { year: 2026, month: 3, day: 8, hour: 2, minute: 30 };
    expect(iso(profileDueAt(gap, "America/New_York", "UTC"))).toBe("2026-03-08T07:00:00.000Z");
  });

  it("tells when the last zone is done", () => {
    const zones = ["Asia/Tokyo", "America/Los_Angeles", undefined, "Asia/Tokyo"];
    expect(iso(lastZoneDueAt(local, zones, "Europe/Paris"))).toBe("2026-12-01T17:00:00.000Z");
    expect(iso(lastZoneDueAt(local, zones, "Europe/Paris", 12 * 3_600_000))).toBe("2026-12-02T05:00:00.000Z");
    expect(iso(lastZoneDueAt(local, [], "Europe/Paris"))).toBe("2026-12-01T08:00:00.000Z");
    const range = worldDueRange(local);
    expect([iso(range.first), iso(range.last)]).toEqual([
      "2026-11-30T19:00:00.000Z",
      "2026-12-01T21:00:00.000Z",
    ]);
  });
});

describe("quiet hours", () => {
  it("includes the start, excludes the end, and wraps midnight", () => {
    const paris = "Europe/Paris"; // UTC+2 in July
    expect(isInQuietHours(new Date("2026-07-01T19:59:59Z"), night, paris)).toBe(false);
    expect(isInQuietHours(new Date("2026-07-01T20:00:00Z"), night, paris)).toBe(true);
    expect(isInQuietHours(new Date("2026-07-01T23:00:00Z"), night, paris)).toBe(true);
    expect(isInQuietHours(new Date("2026-07-02T04:59:59Z"), night, paris)).toBe(true);
    expect(isInQuietHours(new Date("2026-07-02T05:00:00Z"), night, paris)).toBe(false);
    const lunch = { start: { hour: 12, minute: 0 }, end: { hour: 14, minute: 0 } };
    expect(isInQuietHours(new Date("2026-07-01T10:30:00Z"), lunch, paris)).toBe(true);
    expect(isInQuietHours(new Date("2026-07-01T13:30:00Z"), lunch, paris)).toBe(false);
  });

  it("ends at the next `end`, today or tomorrow", () => {
    const paris = "Europe/Paris";
    expect(iso(quietHoursEnd(new Date("2026-07-01T21:00:00Z"), night, paris))).toBe(
      "2026-07-02T05:00:00.000Z",
    );
    expect(iso(quietHoursEnd(new Date("2026-07-02T02:00:00Z"), night, paris))).toBe(
      "2026-07-02T05:00:00.000Z",
    );
    const free = new Date("2026-07-01T12:00:00Z");
    expect(quietHoursEnd(free, night, paris)).toBe(free);
  });

  it("ends at the end of a DST gap, and in the repeated hour's second pass", () => {
    const early = { start: { hour: 22, minute: 0 }, end: { hour: 2, minute: 30 } };
    // 02:30 does not exist on 2026-03-29 in Paris: quiet hours end when clocks jump to 03:00.
    expect(iso(quietHoursEnd(new Date("2026-03-28T23:00:00Z"), early, "Europe/Paris"))).toBe(
      "2026-03-29T01:00:00.000Z",
    );
    // 2026-10-25: 01:10Z is 02:10 CET, the second pass; the first 02:30 (00:30Z) is already past.
    expect(iso(quietHoursEnd(new Date("2026-10-25T01:10:00Z"), early, "Europe/Paris"))).toBe(
      "2026-10-25T01:30:00.000Z",
    );
  });

  it("(property) end is outside quiet hours and everything before it is quiet", () => {
    const time = fc.record({
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...Intl.supportedValuesOf("timeZone")),
        fc.date({ min: new Date("2000-01-01"), max: new Date("2060-01-01"), noInvalidDate: true }),
        time,
        time,
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (zone, instant, start, end, fraction) => {
          fc.pre(start.hour !== end.hour || start.minute !== end.minute);
          const quiet = { start, end };
          const done = quietHoursEnd(instant, quiet, zone);
          expect(done >= instant).toBe(true);
          expect(isInQuietHours(done, quiet, zone)).toBe(false);
          if (!isInQuietHours(instant, quiet, zone)) expect(done).toBe(instant);
          else {
            expect(done.getTime() - instant.getTime()).toBeLessThanOrEqual(26 * 3_600_000);
            const between = new Date(
              instant.getTime() + Math.floor(fraction * (done.getTime() - instant.getTime())),
            );
            expect(isInQuietHours(between, quiet, zone)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
