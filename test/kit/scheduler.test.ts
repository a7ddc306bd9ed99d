import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import {
  ADMIN,
  activeCampaign,
  COMPLETE_AT_ONCE,
  gatedChannel,
  kitClock,
  people,
  person,
  promotion,
  seededKit,
} from "./fixtures.js";

const profiles = people(30);

async function setup(members = profiles) {
  const clock = kitClock();
  const email = memoryChannel({ channel: "email" });
  const sms = memoryChannel({ channel: "sms" });
  const kit = await seededKit({
    clock,
    channels: [email, sms],
    audiences: memoryAudiences({ audiences: { vip: members }, profiles: members }),
  });
  return { kit, clock, email, sms };
}

describe("the scheduler", () => {
  it("sends a one-shot campaign once on activation, then completes it", async () => {
    const { kit, email } = await setup();
    await activeCampaign(kit, { ...promotion, id: "now" });
    const first = await kit.scheduler.tick();
    expect(first.launched).toHaveLength(1);
    expect(first.completed).toEqual(["now"]);
    expect(email.sent).toHaveLength(30);
    expect(email.sent[0]?.content).toEqual({
      channel: "email",
      subject: "Hi Name0",
      text: "Our winter sale starts now.",
    });
    const second = await kit.scheduler.tick();
    expect(second.launched).toEqual([]);
    expect(email.sent).toHaveLength(30);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "now" })).status).toBe("completed");
    const report = await kit.reports.campaign({ actor: ADMIN, id: "now" });
    expect(report).toMatchObject({
      targeted: 30,
      executions: 1,
      outcomes: { sent: 30, failed: 0, excluded: 0 },
    });
  });

  it("starts a scheduled campaign at its start time, not before", async () => {
    const { kit, clock, email } = await setup();
    await kit.campaigns.create({
      actor: ADMIN,
      campaign: { ...promotion, id: "later", schedule: { startAt: "2026-12-01T12:00:00Z" } },
    });
    expect((await kit.campaigns.activate({ actor: ADMIN, id: "later" })).status).toBe("scheduled");
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(0);
    await clock.set("2026-12-01T12:00:00Z");
    const tick = await kit.scheduler.tick();
    expect(tick.started).toEqual(["later"]);
    expect(email.sent).toHaveLength(30);
  });

  it("sends every action of a campaign, each counted on its own", async () => {
    const { kit, email, sms } = await setup();
    await activeCampaign(kit, {
      ...promotion,
      id: "both",
      actions: [
        ...promotion.actions,
        {
          channel: "sms",
          channelConfigurationId: "sms-marketing",
          content: { body: "Sale, {{profile.firstName}}" },
        },
      ],
    });
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(30);
    expect(sms.sent).toHaveLength(30);
    expect(sms.sent.find((m) => m.recipientId === "p7")?.to).toBe("+33612340007");
    const report = await kit.reports.campaign({ actor: ADMIN, id: "both" });
    expect(report.outcomes.sent).toBe(60);
    expect(report.byChannel).toEqual({
      email: { sent: 30, failed: 0, excluded: 0 },
      sms: { sent: 30, failed: 0, excluded: 0 },
    });
  });

  it("runs a recurring campaign at each occurrence until its end, then completes it", async () => {
    const { kit, clock, email } = await setup(profiles.slice(0, 5));
    await activeCampaign(kit, {
      ...promotion,
      id: "daily",
      schedule: {
        timeZone: "Europe/Paris",
        endAt: "2026-12-04T00:00:00Z",
        recurrence: { frequency: "daily", interval: 1, at: { hour: 9, minute: 30 } },
      },
    });
    let completedAt: string | undefined;
    for (let hour = 0; hour < 4 * 24; hour++) {
      const { completed } = await kit.scheduler.tick();
      if (completed.includes("daily")) completedAt = new Date(clock.now()).toISOString().slice(0, 13);
      await clock.advance(3_600_000);
    }
    // Completed at its end date, not right after its last occurrence (3 December, 08:30 UTC).
    expect(completedAt).toBe("2026-12-04T00");
    // 1, 2 and 3 December at 09:30 Paris (08:30 UTC): three occurrences of five messages.
    expect(email.sent).toHaveLength(15);
    const executions = await kit.executions.list({ actor: ADMIN, filter: { campaignId: "daily" } });
    expect(executions.items.map((e) => e.executeAt?.toISOString()).sort()).toEqual([
      "2026-12-01T08:30:00.000Z",
      "2026-12-02T08:30:00.000Z",
      "2026-12-03T08:30:00.000Z",
    ]);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "daily" })).status).toBe("completed");
  });

  it("sends an occurrence once when two schedulers tick at the same time", async () => {
    const { kit, email } = await setup();
    const other = await (await import("../../src/kit/create-campaign-kit.js")).createCampaignKit({
      storage: kit.storage,
      clock: kitClock(),
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await activeCampaign(kit, { ...promotion, id: "once" });
    await Promise.all([
      kit.scheduler.tick(),
      other.scheduler.tick(),
      kit.scheduler.tick(),
      other.scheduler.tick(),
    ]);
    await Promise.all([kit.idle(), other.idle()]);
    expect(email.sent).toHaveLength(30);
    expect(new Set(email.sent.map((m) => m.id)).size).toBe(30);
  });

  it("never completes a one-shot unsent when another process's clock is behind its activation", async () => {
    const { kit, email } = await setup();
    // A second process whose clock reads a second earlier, as two hosts' clocks may.
    const behind = await (await import("../../src/kit/create-campaign-kit.js")).createCampaignKit({
      storage: kit.storage,
      clock: kitClock(Date.parse("2026-12-01T07:59:59Z")),
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await activeCampaign(kit, { ...promotion, id: "once" });
    expect((await behind.scheduler.tick()).completed).toEqual([]);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "once" })).status).toBe("live");
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(30);
  });

  it("stopping a campaign cancels its unsent waves", async () => {
    const { kit, clock, email } = await setup();
    await activeCampaign(kit, {
      ...promotion,
      id: "waves",
      deliveryControls: { waves: { split: "equal", count: 3, intervalMinutes: 30 } },
    });
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(10);
    await clock.advance(30 * 60_000);
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(20);
    await kit.campaigns.stop({ actor: ADMIN, id: "waves" });
    await clock.advance(30 * 60_000);
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(20);
    const [execution] = (await kit.executions.list({ actor: ADMIN, filter: { campaignId: "waves" } })).items;
    expect(execution?.status).toBe("cancelled");
  });

  it("sends waves at least their interval apart and completes after the last", async () => {
    const { kit, clock, email } = await setup();
    await activeCampaign(kit, {
      ...promotion,
      id: "waves",
      deliveryControls: { waves: { split: "percentages", percentages: [50, 30, 20], intervalMinutes: 45 } },
    });
    const counts: number[] = [];
    for (let step = 0; step < 8; step++) {
      await kit.scheduler.tick();
      counts.push(email.sent.length);
      await clock.advance(15 * 60_000);
    }
    expect(counts).toEqual([15, 15, 15, 24, 24, 24, 30, 30]);
    expect((await kit.campaigns.get({ actor: ADMIN, id: "waves" })).status).toBe("completed");
  });

  it("sends in each profile's time zone and stays live until the last zone is done", async () => {
    const members = [
      person(1, { timeZone: "Asia/Tokyo" }),
      person(2, { timeZone: "Europe/Paris" }),
      person(3, { timeZone: "America/New_York" }),
      person(4),
    ];
    const { kit, clock, email } = await setup(members);
    await clock.set("2026-11-30T12:00:00Z");
    await activeCampaign(kit, {
      ...promotion,
      id: "local",
      schedule: {
        timeZone: "Europe/Paris",
        startAt: "2026-12-01T00:00:00Z",
        maxOccurrences: 1,
        sendInProfileTimeZone: true,
        recurrence: { frequency: "daily", interval: 1, at: { hour: 9, minute: 0 } },
      },
    });
    const timeline: Record<string, string[]> = {};
    for (let hour = 0; hour < 48; hour++) {
      await kit.scheduler.tick();
      for (const m of email.sent) {
        const at = new Date(clock.now()).toISOString().slice(0, 13);
        if (Object.values(timeline).flat().includes(m.recipientId)) continue;
        timeline[at] = [...(timeline[at] ?? []), m.recipientId];
      }
      await clock.advance(3_600_000);
    }
    // 09:00 local: Tokyo 00:00Z, Paris 08:00Z (p4 has no zone: the campaign's), New York 14:00Z.
    expect(timeline).toEqual({
      "2026-12-01T00": ["p1"],
      "2026-12-01T08": ["p2", "p4"],
      "2026-12-01T14": ["p3"],
    });
    expect((await kit.campaigns.get({ actor: ADMIN, id: "local" })).status).toBe("completed");
  });
});

describe("closing the kit", () => {
  it("during a tick that waits for its sends, aborts them at once instead of waiting for the whole send", async () => {
    const gate = gatedChannel(3);
    const kit = await seededKit({
      clock: kitClock(),
      channels: [gate.adapter],
      audiences: memoryAudiences({ audiences: { vip: people(40) } }),
      dispatcher: { concurrency: 1, batchSize: 1 },
    });
    await activeCampaign(kit, { ...promotion, id: "big" });
    const ticking = kit.scheduler.tick(); // waits for the sends: the fourth never ends by itself
    await gate.held;
    await kit.close();
    const summary = await ticking;
    expect(summary.launched).toHaveLength(1);
    expect(gate.sent).toHaveLength(3);
    const [execution] = (await kit.executions.list({ actor: ADMIN, filter: { campaignId: "big" } })).items;
    expect(execution?.status).toBe("in-progress"); // resumed from the ledger by the next tick anywhere
  });
});

describe("a crash mid-occurrence", () => {
  it("is resumed by another process once its claim expires, without re-sending", async () => {
    const profiles = people(40);
    const clock = kitClock();
    // Three sends go through, the fourth is in flight when the process goes down.
    const gate = gatedChannel(3);
    const crashed = await seededKit({
      clock,
      channels: [gate.adapter],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
      claimMs: 10_000,
      dispatcher: { concurrency: 1, batchSize: 1 },
    });
    await activeCampaign(crashed, { ...promotion, id: "big" });
    await crashed.scheduler.tick({ wait: false });
    await gate.held;
    await crashed.close();
    const sentBeforeCrash = gate.sent.length;
    expect(sentBeforeCrash).toBe(3);
    expect((await crashed.campaigns.get({ actor: ADMIN, id: "big" })).status).toBe("live");

    const fast = memoryChannel({ channel: "email" });
    const survivor = await (await import("../../src/kit/create-campaign-kit.js")).createCampaignKit({
      storage: crashed.storage,
      lifecycle: COMPLETE_AT_ONCE,
      clock,
      channels: [fast],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
    });
    await clock.advance(11_000);
    await survivor.scheduler.tick();
    await survivor.scheduler.tick();
    expect(fast.sent.length + sentBeforeCrash).toBe(40);
    const everyone = new Set([...gate.sent, ...fast.sent].map((m) => m.recipientId));
    expect(everyone.size).toBe(40);
    expect((await survivor.campaigns.get({ actor: ADMIN, id: "big" })).status).toBe("completed");
  });
});

describe("stopping a campaign mid-send", () => {
  it("sends nothing new after the stop and cancels the execution", async () => {
    const profiles = people(40);
    const clock = kitClock();
    const gate = gatedChannel(3);
    const kit = await seededKit({
      clock,
      channels: [gate.adapter],
      audiences: memoryAudiences({ audiences: { vip: profiles } }),
      dispatcher: { concurrency: 1, batchSize: 1 },
    });
    await activeCampaign(kit, { ...promotion, id: "big" });
    await kit.scheduler.tick({ wait: false });
    await gate.held;
    await kit.campaigns.stop({ actor: ADMIN, id: "big" });
    const atStop = gate.sent.length;
    expect(atStop).toBe(3);
    // The send in flight at the stop was cancelled; nothing goes out after it, however long we wait.
    gate.open();
    await clock.advance(60_000);
    await kit.idle();
    expect(gate.sent.length).toBe(atStop);
    const [execution] = (await kit.executions.list({ actor: ADMIN, filter: { campaignId: "big" } })).items;
    expect(execution?.status).toBe("cancelled");
    const report = await kit.reports.campaign({ actor: ADMIN, id: "big" });
    expect(report.outcomes.sent).toBe(atStop);
  });
});
