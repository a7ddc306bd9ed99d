/**
 * Dispatches on memory storage resolve every await at once: without yielding they would run as one chain of
 * microtasks, and no timer, claim renewal or HTTP request would get a turn until the last was done.
 */
import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import { campaign, configurations, profile } from "../support/fixtures.js";

describe("the dispatcher's share of the event loop", () => {
  it("lets a timer run among many small dispatches started at once, each far shorter than its slice", async () => {
    // Together they take far longer than the 20 ms slice, even on a fast machine (tens of us each).
    const count = 5000;
    const channel = memoryChannel();
    const dispatcher = createDispatcher({ channels: [channel], ledger: memoryLedger() });
    const spring = campaign();
    let sentWhenTimerRan: number | undefined;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        sentWhenTimerRan = channel.sent.length;
        resolve();
      }, 0),
    );
    const reports = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        dispatcher.dispatch({
          campaign: spring,
          executionId: `unitary-${i}`,
          configurations,
          recipients: [[profile(`p${i}`)]],
        }),
      ),
    );
    await timer;
    expect(reports.reduce((sum, report) => sum + report.outcomes.sent, 0)).toBe(count);
    expect(sentWhenTimerRan, "the timer ran only once every dispatch was done").toBeLessThan(count);
  });
});
