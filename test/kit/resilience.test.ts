import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Profile } from "../../src/model/profile.js";
import type { AudienceSource } from "../../src/ports/audience-source.js";
import type { Storage } from "../../src/ports/storage.js";
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

describe("what happens when things go wrong", () => {
  it("a one-shot occurrence no scheduler ran in time is reported as outside its window, not dropped", async () => {
    const clock = kitClock();
    const email = memoryChannel({ channel: "email" });
    const profiles = people(10);
    const kit = await seededKit({
      clock,
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await activeCampaign(kit, { ...promotion, id: "late" });
    await clock.advance(13 * 3_600_000); // past the 12 h delivery window
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(0);
    const report = await kit.reports.campaign({ actor: ADMIN, id: "late" });
    expect(report).toMatchObject({ executions: 1, outcomes: { sent: 0, excluded: 10 } });
    expect(report.excludedByReason["outside-window"]).toBe(10);
  });

  it("a stop made by another process halts the process that is sending", async () => {
    const clock = kitClock();
    const profiles = people(300);
    const gate = gatedChannel(3);
    const sender = await seededKit({
      clock,
      channels: [gate.adapter],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
      dispatcher: { concurrency: 1, batchSize: 1 },
      claimMs: 300, // checks for a stop every 100 ms
    });
    const other = await createCampaignKit({ storage: sender.storage, clock });
    await activeCampaign(sender, { ...promotion, id: "big" });
    await sender.scheduler.tick({ wait: false });
    await gate.held;
    await other.campaigns.stop({ actor: ADMIN, id: "big" });
    await clock.advance(100);
    await sender.idle();
    // The send in flight at the stop was cancelled; nothing goes out after it, however long we wait.
    gate.open();
    await clock.advance(60_000);
    expect(gate.sent).toHaveLength(3);
    const [execution] = (await other.executions.list({ actor: ADMIN, filter: { campaignId: "big" } })).items;
    expect(execution?.status).toBe("cancelled");
  });

  it("a shutdown whose audience source throws on abort leaves the execution to resume, not failed", async () => {
    const profiles = people(200);
    let slowAfterFirstBatch = true;
    // A source that honours the signal the way fetch- or pg-based ones do: by throwing. For the first
    // process, the page after the first batch (100) is still on its way when the process shuts down.
    const throwing: AudienceSource = {
      async *members({ signal }) {
        for (let i = 0; i < profiles.length; i += 10) {
          signal?.throwIfAborted();
          if (i === 100 && slowAfterFirstBatch) {
            await new Promise((_, reject) =>
              signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
            );
          }
          yield profiles.slice(i, i + 10);
        }
      },
      findProfiles: async () => new Map(),
      saveProfile: async () => {},
    };
    const clock = kitClock();
    const email = memoryChannel({ channel: "email" });
    const first = await seededKit({ clock, channels: [email], audiences: throwing, claimMs: 1000 });
    await activeCampaign(first, { ...promotion, id: "c" });
    await first.scheduler.tick({ wait: false });
    await until(() => email.sent.length === 100);
    await first.close();
    const [halted] = (await first.executions.list({ actor: ADMIN })).items;
    expect(halted?.status).toBe("in-progress");
    expect(email.sent).toHaveLength(100);

    slowAfterFirstBatch = false;
    const second = await createCampaignKit({
      storage: first.storage,
      clock,
      channels: [email],
      audiences: throwing,
    });
    await clock.advance(2000);
    await second.scheduler.tick();
    expect(new Set(email.sent.map((m) => m.recipientId)).size).toBe(200);
    expect(email.sent).toHaveLength(200);
  });

  it("later waves don't try again what an earlier wave failed or excluded", async () => {
    const clock = kitClock();
    const profiles: Profile[] = people(30);
    let attemptsOnP0 = 0;
    const email = memoryChannel({
      channel: "email",
      failFor: (message) => {
        if (message.recipientId !== "p0") return undefined;
        attemptsOnP0++;
        return "permanent";
      },
    });
    const kit = await seededKit({
      clock,
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await activeCampaign(kit, {
      ...promotion,
      id: "w",
      deliveryControls: { waves: { split: "equal", count: 3, intervalMinutes: 30 } },
    });
    for (let step = 0; step < 4; step++) {
      await kit.scheduler.tick();
      await clock.advance(30 * 60_000);
    }
    expect(attemptsOnP0).toBe(1);
    expect(email.sent).toHaveLength(29);
    const report = await kit.reports.campaign({ actor: ADMIN, id: "w" });
    expect(report.outcomes).toEqual({ sent: 29, failed: 1, excluded: 0 });
  });

  it("a resumed wave pass cuts the same waves as the first", async () => {
    const clock = kitClock();
    const profiles = people(1000);
    const gate = gatedChannel(3);
    const first = await seededKit({
      clock,
      channels: [gate.adapter],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
      dispatcher: { concurrency: 1, batchSize: 1 },
      claimMs: 1000,
    });
    await activeCampaign(first, {
      ...promotion,
      id: "w",
      deliveryControls: { waves: { split: "equal", count: 2, intervalMinutes: 30 } },
    });
    await first.scheduler.tick({ wait: false });
    await gate.held;
    await first.close();
    const fast = memoryChannel({ channel: "email" });
    const second = await createCampaignKit({
      storage: first.storage,
      clock,
      channels: [fast],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await clock.advance(2000);
    await second.scheduler.tick();
    // Wave 1 is the first 500 recipients, whatever the first pass had streamed when it stopped.
    expect(gate.sent.length + fast.sent.length).toBe(500);
    const ids = [...gate.sent, ...fast.sent].map((m) => Number(m.recipientId.slice(1)));
    expect(Math.max(...ids)).toBe(499);
  });
});

describe("an audience that changes between waves", () => {
  it("loses nobody when members leave before a later wave", async () => {
    const clock = kitClock();
    const members: Profile[] = people(10);
    const email = memoryChannel({ channel: "email" });
    // A live audience: read again on each pass, so a member who leaves is gone from the next one.
    const kit = await seededKit({
      clock,
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: () => [...members] } }),
    });
    await activeCampaign(kit, {
      ...promotion,
      id: "w",
      deliveryControls: { waves: { split: "equal", count: 2, intervalMinutes: 30 } },
    });
    await kit.scheduler.tick();
    expect(email.sent.map((m) => m.recipientId)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    members.splice(1, 1); // p1 leaves: everyone after it moves up one place
    await clock.advance(30 * 60_000);
    await kit.scheduler.tick();
    expect(email.sent.map((m) => m.recipientId).sort()).toEqual(
      ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"].sort(),
    );
    expect(email.sent).toHaveLength(10);
  });
});

describe("versions and late schedulers", () => {
  it("stops the replaced version on the next tick when stopping it failed at activation", async () => {
    const storage = memoryStorage();
    let failStopOfNews = true;
    const flaky: Storage = {
      ...storage,
      async replace(params) {
        const { collection, document } = params;
        if (
          failStopOfNews &&
          collection === "campaigns" &&
          document.id === "news" &&
          document.keys.status === "stopped"
        ) {
          failStopOfNews = false;
          throw new Error("storage hiccup");
        }
        return storage.replace(params);
      },
    };
    const kit = await seededKit({ storage: flaky });
    const schedule = {
      timeZone: "Europe/Paris",
      recurrence: { frequency: "daily" as const, interval: 1, at: { hour: 9, minute: 0 } },
    };
    await activeCampaign(kit, { ...promotion, id: "news", schedule });
    await kit.campaigns.createVersion({ actor: ADMIN, id: "news", newId: "news-2" });
    expect((await kit.campaigns.activate({ actor: ADMIN, id: "news-2" })).status).toBe("live");
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news" })).status).toBe("live");
    await kit.scheduler.tick();
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news" })).status).toBe("stopped");
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news-2" })).status).toBe("live");
  });

  it("reports a one-shot missed by more than a week instead of completing it silently", async () => {
    const clock = kitClock();
    const profiles = people(4);
    const email = memoryChannel({ channel: "email" });
    const kit = await seededKit({
      clock,
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await activeCampaign(kit, {
      ...promotion,
      id: "old",
      schedule: { startAt: new Date(clock.now() + 3_600_000) },
    });
    await clock.advance(8 * 24 * 3_600_000);
    await kit.scheduler.tick();
    const report = await kit.reports.campaign({ actor: ADMIN, id: "old" });
    expect(report.executions).toBe(1);
    expect(report.excludedByReason["outside-window"]).toBe(4);
    expect(email.sent).toHaveLength(0);
  });
});
