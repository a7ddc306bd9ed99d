import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import type { DeliveryLedger } from "../../src/ports/ledger.js";
import { campaign, configurations, profile } from "../support/fixtures.js";

describe("a recipient listed twice", () => {
  it("is sent once even when the ledger answers slower than the second listing arrives", async () => {
    const inner = memoryLedger();
    let secondListed = () => {};
    const listed = new Promise<void>((resolve) => {
      secondListed = resolve;
    });
    // As a database would: reads take a while, here until the second listing has arrived. Spreading drops
    // the memory ledger's fast paths.
    const slow: DeliveryLedger = {
      ...inner,
      findSent: async (params) => {
        const answer = await inner.findSent(params);
        await listed; // the answer travels back while the other batch moves on
        return answer;
      },
    };
    const email = memoryChannel({ capabilities: { batch: false, idempotencyKeys: false } });
    const dispatcher = createDispatcher({ channels: [email], ledger: slow, batchSize: 1, concurrency: 4 });
    async function* recipients() {
      yield profile("dup");
      secondListed();
      yield profile("dup");
    }
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: recipients(),
    });
    expect(email.stats.attempted).toBe(1);
    expect(report.outcomes.sent).toBe(1);
    expect(report.skippedAlreadySent).toBe(1);
  });
});
