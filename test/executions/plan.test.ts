/**
 * The execution plan decides, recipient by recipient, what is due when: waves, profile time zones, quiet
 * hours and the delivery window, in one place.
 */
import { describe, expect, it } from "vitest";
import { planExecution } from "../../src/executions/plan.js";
import { campaign, profile, T0 } from "../support/fixtures.js";

const HOUR = 3_600_000;
// At T0 (12:00 UTC, 1 January) it is 01:00 in Auckland (UTC+13), inside 22:00-07:00 quiet hours, which end
// there at 07:00, 18:00 UTC; in Paris it is 13:00.
const AUCKLAND_QUIET_END = Date.UTC(2026, 0, 1, 18, 0, 0);
const quiet = (behavior: "queue" | "discard") => ({ start: { hour: 22 }, end: { hour: 7 }, behavior });
const occurrence = { executeAt: new Date(T0), createdAt: new Date(T0) };
const defer = async () => {};

describe("the execution plan", () => {
  it("sends at once without waves, zones or quiet hours, and needs no slices", () => {
    const plan = planExecution(campaign(), occurrence, undefined);
    expect(plan.slices).toBe(false);
    expect(plan.dispatchPlan(defer).decide(profile("a"), 0, T0)).toBeUndefined();
    expect(plan.window).toEqual({ start: new Date(T0), end: new Date(T0 + 12 * HOUR) });
  });

  it("holds back a recipient in quiet hours until they end in its zone, or discards it", () => {
    const queued = planExecution(
      campaign({ deliveryControls: { quietHours: quiet("queue") } }),
      occurrence,
      undefined,
    );
    const decide = queued.dispatchPlan(defer).decide;
    expect(queued.slices).toBe(true);
    expect(decide(profile("paris", { timeZone: "Europe/Paris" }), 0, T0)).toBeUndefined();
    expect(decide(profile("auckland", { timeZone: "Pacific/Auckland" }), 1, T0)).toEqual({
      deferUntil: AUCKLAND_QUIET_END,
    });
    const discarded = planExecution(
      campaign({ deliveryControls: { quietHours: quiet("discard") } }),
      occurrence,
      undefined,
    );
    expect(
      discarded.dispatchPlan(defer).decide(profile("auckland", { timeZone: "Pacific/Auckland" }), 1, T0),
    ).toEqual({
      exclude: "quiet-hours",
    });
  });

  it("excludes as outside-window a recipient whose quiet hours end after its window", () => {
    const plan = planExecution(
      campaign({ deliveryControls: { quietHours: quiet("queue"), deliveryWindowHours: 1 } }),
      occurrence,
      undefined,
    );
    expect(
      plan.dispatchPlan(defer).decide(profile("auckland", { timeZone: "Pacific/Auckland" }), 0, T0),
    ).toEqual({
      exclude: "outside-window",
    });
  });

  it("never holds back a transactional message for quiet hours", () => {
    const plan = planExecution(
      campaign({
        category: "transactional",
        actions: [{ channel: "email", channelConfigurationId: "tx", content: { subject: "Hi", text: "Hi" } }],
        deliveryControls: { quietHours: quiet("queue") },
      }),
      occurrence,
      undefined,
    );
    expect(
      plan.dispatchPlan(defer).decide(profile("auckland", { timeZone: "Pacific/Auckland" }), 0, T0),
    ).toBeUndefined();
  });

  it("cuts waves by stream position from the audience's size", () => {
    const plan = planExecution(
      campaign({ deliveryControls: { waves: { split: "equal", count: 2, intervalMinutes: 60 } } }),
      occurrence,
      10,
    );
    const decide = plan.dispatchPlan(defer).decide;
    expect(decide(profile("first"), 4, T0)).toBeUndefined();
    expect(decide(profile("second"), 5, T0)).toEqual({ deferUntil: T0 + HOUR });
    // A late pass sends a wave that fell due, and excludes what its window no longer allows.
    expect(decide(profile("second"), 5, T0 + 2 * HOUR)).toBeUndefined();
    expect(decide(profile("second"), 5, T0 + 14 * HOUR)).toEqual({ exclude: "outside-window" });
  });

  it("sends in each profile's zone at the schedule's local time", () => {
    const plan = planExecution(
      campaign({
        schedule: { timeZone: "Europe/Paris", startAt: new Date(T0), sendInProfileTimeZone: true },
      }),
      occurrence,
      undefined,
    );
    const decide = plan.dispatchPlan(defer).decide;
    // 13:00 in Paris is due now; 13:00 in New York (UTC-5) comes 6 hours later.
    expect(decide(profile("paris", { timeZone: "Europe/Paris" }), 0, T0)).toBeUndefined();
    expect(decide(profile("ny", { timeZone: "America/New_York" }), 1, T0)).toEqual({
      deferUntil: T0 + 6 * HOUR,
    });
    // A profile without a zone takes the schedule's.
    expect(decide(profile("none"), 2, T0)).toBeUndefined();
  });
});
