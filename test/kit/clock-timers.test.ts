import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import {
  ADMIN,
  activeCampaign,
  gatedChannel,
  kitClock,
  people,
  promotion,
  seededKit,
  until,
} from "./fixtures.js";

const profiles = people(5);
const audiences = memoryAudiences({ audiences: { vip: profiles } });
const CLAIM_MS = 3000; // the runner checks its claim every second

/** A sender whose first send is held at a gate, and a second process on the same storage and clock. */
async function twoProcesses() {
  const clock = kitClock();
  const storage = memoryStorage();
  const gate = gatedChannel();
  const sender = await seededKit({
    clock,
    storage,
    channels: [gate.adapter],
    audiences,
    claimMs: CLAIM_MS,
    dispatcher: { concurrency: 1, batchSize: 1 },
  });
  await activeCampaign(sender, { ...promotion, id: "big" });
  await sender.scheduler.tick({ wait: false });
  await gate.held;
  const fast = memoryChannel({ channel: "email" });
  const other = await createCampaignKit({ storage, clock, channels: [fast], audiences });
  return { clock, gate, sender, other, fast };
}

describe("the claim on a running execution, on the kit's clock", () => {
  it("is renewed while a send takes longer than the claim, so another process doesn't take over", async () => {
    const { clock, gate, sender, other, fast } = await twoProcesses();
    // Ten seconds of virtual time, a second at a time: over three times the claim.
    for (let second = 0; second < 10; second++) await clock.advance(1000);
    const tick = await other.scheduler.tick();
    expect(tick.launched).toHaveLength(1);
    expect(fast.sent).toHaveLength(0);

    gate.open();
    await sender.idle();
    expect(gate.sent.map((m) => m.recipientId)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    const [execution] = (await other.executions.list({ actor: ADMIN })).items;
    expect(execution?.status).toBe("succeeded");
  });

  it("notices a stop made by another process at its next check, with no real time passing", async () => {
    const { clock, gate, sender, other, fast } = await twoProcesses();
    await other.campaigns.stop({ actor: ADMIN, id: "big" });
    expect(gate.signal?.aborted).toBe(false);

    await clock.advance(1000);
    expect(gate.signal?.aborted).toBe(true);
    await sender.idle();
    expect(gate.sent).toHaveLength(0);
    expect(fast.sent).toHaveLength(0);
    const [execution] = (await other.executions.list({ actor: ADMIN })).items;
    expect(execution?.status).toBe("cancelled");
  });
  it("must be a duration the kit can renew", async () => {
    for (const claimMs of [0, -1, Number.NaN]) {
      await expect(createCampaignKit({ claimMs })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        message: expect.stringContaining("claimMs"),
      });
    }
  });
});

describe("the scheduler's timer, on the kit's clock", () => {
  it("ticks at once, then each interval of virtual time, and never after stop()", async () => {
    const clock = kitClock();
    const email = memoryChannel({ channel: "email" });
    const kit = await seededKit({ clock, channels: [email], audiences });
    await activeCampaign(kit, { ...promotion, id: "now" });
    await kit.campaigns.create({
      actor: ADMIN,
      campaign: { ...promotion, id: "later", schedule: { startAt: "2026-12-01T08:30:00Z" } },
    });
    await kit.campaigns.activate({ actor: ADMIN, id: "later" });

    kit.scheduler.start({ intervalMs: 60_000 });
    await until(() => email.sent.length === 5);
    await kit.idle();
    await clock.advance(28 * 60_000);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "later" })).status).toBe("scheduled");

    await clock.advance(2 * 60_000);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "later" })).status).toBe("live");
    await kit.idle();
    expect(email.sent).toHaveLength(10);

    await kit.scheduler.stop();
    await clock.advance(3_600_000);
    // Only a tick completes a one-shot campaign whose send is done: none ran after stop().
    expect((await kit.campaigns.get({ actor: ADMIN, id: "later" })).status).toBe("live");
    expect((await kit.scheduler.tick()).completed).toContain("later");
  });
});
