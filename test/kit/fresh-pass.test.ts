/**
 * An occurrence's first pass over a source of distinct members skips the ledger reads (nothing of a new
 * execution can be there), and a resumed one reads it again, so a crash part-way sends nobody twice.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../src/ports/storage.js";
import { storageTargets } from "../support/storages.js";
import { activeCampaign, gatedChannel, kitClock, people, promotion, seededKit } from "./fixtures.js";

/** `storage` with its `findSent` calls counted. */
function counting(storage: Storage): Storage & { reads: number } {
  const wrapped = {
    ...storage,
    reads: 0,
    findSent: (params: Parameters<Storage["findSent"]>[0]) => {
      wrapped.reads++;
      return storage.findSent(params);
    },
  };
  return wrapped;
}

describe.each(storageTargets("fresh first passes"))("a fresh first pass on $name storage", (target) => {
  const profiles = people(40);

  it("skips the ledger reads over distinct members, and reads them over a source that may repeat one", async () => {
    for (const distinctMembers of [true, false]) {
      const storage = counting(await target.create());
      const email = memoryChannel({ channel: "email" });
      const kit = await seededKit({
        storage,
        channels: [email],
        audiences: memoryAudiences({ audiences: { vip: profiles }, distinctMembers }),
        dispatcher: { batchSize: 10 },
      });
      await activeCampaign(kit, { ...promotion, id: `c-${distinctMembers}` });
      await kit.scheduler.tick();
      expect(email.sent).toHaveLength(40);
      expect(storage.reads).toBe(distinctMembers ? 0 : 4);
      await kit.close();
    }
  });

  it("a resume after a crash part-way reads the ledger and sends nobody twice", async () => {
    const storage = counting(await target.create());
    const audiences = memoryAudiences({ audiences: { vip: profiles }, distinctMembers: true });
    // The first process sends 7 messages, then hangs in the 8th send for good: a crash, as far as the
    // others can tell (its claim is never released; it just expires).
    const gate = gatedChannel(7);
    const crashed = await seededKit({
      storage,
      clock: kitClock(),
      channels: [gate.adapter],
      audiences,
      dispatcher: { concurrency: 1, batchSize: 1 },
      claimMs: 1000,
    });
    await activeCampaign(crashed, { ...promotion, id: "crash" });
    void crashed.scheduler.tick();
    await gate.held;
    expect(storage.reads).toBe(0);
    // The 7th batch is recorded outside its send lane, so its write may still be on its way: the crash
    // comes once it is durable (a message sent but not yet recorded is in flight, and may go twice).
    for (let i = 0; (await storage.summarize({ campaignId: "crash" })).outcomes.sent < 7; i++) {
      if (i > 200) throw new Error("the first 7 sends were never recorded");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await storage.summarize({ campaignId: "crash" })).outcomes.sent).toBe(7);

    const clock = kitClock();
    await clock.advance(5_000);
    const email = memoryChannel({ channel: "email" });
    const resumer = await createCampaignKit({ storage, clock, channels: [email], audiences });
    const tick = await resumer.scheduler.tick();
    expect(tick.launched).toHaveLength(1);
    // Resumed, so not fresh: it asked the ledger, and skipped the 7 sent before the crash.
    expect(storage.reads).toBeGreaterThan(0);
    const recipients = [...gate.sent, ...email.sent].map((m) => m.recipientId);
    expect(recipients).toHaveLength(40);
    expect(new Set(recipients).size).toBe(40);
    expect((await storage.summarize({ campaignId: "crash" })).outcomes.sent).toBe(40);
    await resumer.close();
  });
});
