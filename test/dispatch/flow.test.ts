import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import { seededRandom } from "../../src/drivers/memory/random.js";
import type { Profile } from "../../src/model/profile.js";
import { virtualClock } from "../../src/testing/index.js";
import { campaign, configurations, profile, profiles, T0 } from "../support/fixtures.js";
import { instrumentedAdapter } from "./fixtures.js";

describe("dispatcher flow control", () => {
  it("aborted at any point then resumed with the same execution id, delivers every recipient exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          count: fc.integer({ min: 1, max: 120 }),
          batchSize: fc.integer({ min: 1, max: 25 }),
          concurrency: fc.integer({ min: 1, max: 5 }),
          abortAfter: fc.integer({ min: 0, max: 120 }),
          seed: fc.integer(),
          failureRate: fc.constantFrom(0, 0.1, 0.3),
        }),
        async ({ count, batchSize, concurrency, abortAfter, seed, failureRate }) => {
          const clock = virtualClock({ start: T0 });
          const controller = new AbortController();
          const random = seededRandom(seed);
          let delivered = 0;
          const { adapter, state } = instrumentedAdapter({
            clock,
            latencyMs: () => 5,
            maxBatchSize: 10,
            result: () => (random() < failureRate ? { ok: false, error: new Error("flaky") } : { ok: true }),
            onDelivered: () => {
              if (++delivered === abortAfter) controller.abort();
            },
          });
          const ledger = memoryLedger();
          const dispatcher = createDispatcher({
            channels: [adapter],
            ledger,
            clock,
            batchSize,
            concurrency,
            retry: { attempts: 2, baseDelayMs: 10 },
            random: seededRandom(seed + 1),
          });
          const request = {
            campaign: campaign(),
            executionId: "e",
            configurations,
            recipients: profiles(count),
          };
          const first = await dispatcher.dispatch({ ...request, signal: controller.signal });
          expect(first.aborted).toBe(controller.signal.aborted);
          // Resume until nothing is left (retryable failures may exhaust their attempts in one run).
          for (let run = 0; run < 30; run++) {
            const summary = await ledger.summarize({ campaignId: "spring", executionId: "e" });
            if (summary.outcomes.sent === count) break;
            await dispatcher.dispatch(request);
          }
          expect((await ledger.summarize({ campaignId: "spring", executionId: "e" })).outcomes.sent).toBe(
            count,
          );
          expect(state.countByRecipient.size).toBe(count);
          for (const times of state.countByRecipient.values()) expect(times).toBe(1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("stops sending at abort, records what was in flight and reports it was aborted", async () => {
    const clock = virtualClock({ start: T0 });
    const controller = new AbortController();
    const { adapter, state } = instrumentedAdapter({ clock, latencyMs: () => 10 });
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger,
      clock,
      concurrency: 2,
      batchSize: 10,
    });
    dispatcher.on("sent", () => {
      if (state.deliveries.length >= 30) controller.abort();
    });
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(1000),
      signal: controller.signal,
    });
    expect(report.aborted).toBe(true);
    // Batches of 10, two at a time, finishing in pairs. A batch leaves its lane once sent and is recorded
    // outside it, so the next pair is already sending when the 3rd and 4th are recorded and the abort comes:
    // that pair finishes and is recorded, nothing after it starts.
    expect(report.outcomes.sent).toBe(state.deliveries.length);
    expect(report.outcomes.sent).toBe(50);
    expect(ledger.size).toBe(50);
  });

  it("pulls recipients only when there is room: look-ahead stays O(concurrency x batch)", async () => {
    const clock = virtualClock({ start: T0 });
    const { adapter } = instrumentedAdapter({ clock, latencyMs: () => 5 });
    const concurrency = 4;
    const batchSize = 10;
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock,
      concurrency,
      batchSize,
    });
    let pulled = 0;
    let finished = 0;
    let maxHeld = 0;
    dispatcher.on("sent", () => finished++);
    function* audience(): Generator<Profile> {
      for (let i = 0; i < 5000; i++) {
        pulled++;
        maxHeld = Math.max(maxHeld, pulled - finished);
        yield profile(`p${i}`);
      }
    }
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: audience(),
    });
    expect(report.outcomes.sent).toBe(5000);
    // Twice the concurrency of batches in flight, plus the one being filled.
    expect(maxHeld).toBeLessThanOrEqual(2 * concurrency * batchSize + batchSize);
    expect(maxHeld).toBeGreaterThan(concurrency * batchSize);
  });

  it("does not queue a transactional send behind a slow marketing dispatch", async () => {
    const clock = virtualClock({ start: T0 });
    const { adapter } = instrumentedAdapter({
      clock,
      latencyMs: (messages) => (messages[0]?.category === "marketing" ? 1000 : 10),
    });
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock,
      concurrency: 2,
      batchSize: 10,
    });
    let marketingDone = 0;
    const marketing = dispatcher
      .dispatch({ campaign: campaign(), executionId: "m", configurations, recipients: profiles(2000) })
      .then((report) => {
        marketingDone = clock.now();
        return report;
      });
    await clock.sleep(1500);
    const tx = campaign({
      id: "reset",
      category: "transactional",
      actions: [
        { channel: "email", channelConfigurationId: "tx", content: { subject: "Reset", text: "Go" } },
      ],
    });
    const started = clock.now();
    const report = await dispatcher.dispatch({
      campaign: tx,
      executionId: "t",
      configurations,
      recipients: [profile("ana")],
    });
    expect(report.outcomes.sent).toBe(1);
    expect(clock.now() - started).toBe(10);
    expect(marketingDone).toBe(0);
    expect((await marketing).outcomes.sent).toBe(2000);
    expect(marketingDone - T0).toBe(100_000);
  });
});
