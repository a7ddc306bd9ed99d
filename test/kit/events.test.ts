import { describe, expect, it } from "vitest";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { type CampaignKit, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { CampaignDraftInput } from "../../src/model/campaign.js";
import type { ExecutionProgressEvent } from "../../src/observe/events.js";
import type { ChannelAdapter } from "../../src/ports/channel.js";
import type { Storage } from "../../src/ports/storage.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, kitClock, people, promotion } from "./fixtures.js";
import {
  capturingLogger,
  type LogLine,
  observedKit,
  type Recorded,
  recordEvents,
} from "./support/observe.js";

/** The event names in order, with runs of `execution-progress` collapsed into one. */
function story(seen: Recorded[]): string[] {
  const names: string[] = [];
  for (const { name } of seen) if (name !== "execution-progress" || names.at(-1) !== name) names.push(name);
  return names;
}

const progressOf = (seen: Recorded[]) =>
  seen.filter((e) => e.name === "execution-progress").map((e) => e.event as ExecutionProgressEvent);

const reset: CampaignDraftInput & { id: string } = {
  id: "reset",
  type: "api-triggered",
  category: "transactional",
  name: "Password reset",
  identityNamespace: "email",
  actions: [
    {
      channel: "email",
      channelConfigurationId: "email-transactional",
      content: { subject: "Reset, {{profile.firstName}}", text: "Use {{context.link}}" },
    },
  ],
};

async function withApprovers(kit: CampaignKit) {
  await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
  await kit.roles.assign({ actor: ADMIN, userId: "arno", roleId: "campaign-approver" });
  await kit.approvalPolicies.define({
    actor: ADMIN,
    policy: {
      id: "marketing",
      name: "Marketing needs review",
      status: "active",
      conditions: { categories: ["marketing"] },
      approvers: { users: [], roles: ["campaign-approver"] },
    },
  });
}

describe.each(storageTargets("kit events"))("kit events on $name storage", (target) => {
  it("tell an approval, a send with its progress to 100 %, and the completion, in order", async () => {
    const { kit } = await observedKit(await target.create());
    await withApprovers(kit);
    const seen = recordEvents(kit);
    await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.requestApproval({ actor: "maya", id: "sale", comment: "Ready" });
    await kit.campaigns.approve({ actor: "arno", id: "sale", comment: "Go" });
    await kit.scheduler.tick();

    // A status change is emitted once stored, so it comes before the approval event of the same call.
    expect(story(seen)).toEqual([
      "campaign-status-changed",
      "approval-requested",
      "campaign-status-changed",
      "approval-decided",
      "execution-started",
      "execution-progress",
      "execution-finished",
      "campaign-status-changed",
    ]);
    const changes = seen.filter((e) => e.name === "campaign-status-changed").map((e) => e.event);
    expect(changes.map(({ from, to, actorId }) => ({ from, to, actorId }))).toEqual([
      { from: "draft", to: "in-review", actorId: "maya" },
      { from: "in-review", to: "live", actorId: "arno" },
      { from: "live", to: "completed", actorId: "system:scheduler" },
    ]);
    expect(changes.every((c) => c.campaignId === "sale" && c.at instanceof Date && c.version > 1)).toBe(true);
    const requested = seen.find((e) => e.name === "approval-requested")?.event;
    expect(requested).toMatchObject({
      campaignId: "sale",
      requestedBy: "maya",
      policyId: "marketing",
      autoApproved: false,
    });
    expect(seen.find((e) => e.name === "approval-decided")?.event).toMatchObject({
      campaignId: "sale",
      requestId: requested && "requestId" in requested ? requested.requestId : "?",
      decision: "approved",
      decidedBy: "arno",
      comment: "Go",
    });

    const started = seen.find((e) => e.name === "execution-started")?.event;
    expect(started).toMatchObject({ campaignId: "sale", kind: "occurrence", resumed: false });
    const progress = progressOf(seen);
    expect(progress.length).toBeGreaterThan(2);
    const running = progress.slice(0, -1);
    // Measured against the audience's registered size, an estimate until the end.
    expect(running.every((p) => p.total === 250 && p.estimated && !p.final)).toBe(true);
    expect(running.every((p) => (p.percentage ?? 100) < 100)).toBe(true);
    const percentages = progress.map((p) => p.percentage ?? -1);
    expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({
      final: true,
      processed: 250,
      total: 250,
      estimated: false,
      percentage: 100,
      outcomes: { sent: 250, failed: 0, excluded: 0 },
    });
    expect(seen.find((e) => e.name === "execution-finished")?.event).toMatchObject({
      executionId: started && "executionId" in started ? started.executionId : "?",
      campaignId: "sale",
      kind: "occurrence",
      status: "succeeded",
      targeted: 250,
      outcomes: { sent: 250, failed: 0, excluded: 0 },
    });
  });

  it("say so when the total is an estimate that proves wrong, or unknown", async () => {
    for (const estimatedSize of [200, undefined]) {
      const storage = await target.create();
      const { kit } = await observedKit(storage, { size: 250, ...(estimatedSize ? { estimatedSize } : {}) });
      if (!estimatedSize) {
        // Registered without a size: `observedKit` passed `estimatedSize: 250`, so register it afresh.
        await kit.audiences.update({ actor: ADMIN, id: "vip", changes: { estimatedSize: undefined } });
      }
      const seen = recordEvents(kit);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
      await kit.scheduler.tick();
      const progress = progressOf(seen);
      const running = progress.slice(0, -1);
      expect(running.length).toBeGreaterThan(0);
      if (estimatedSize) {
        expect(running.every((p) => p.total === 200 && p.estimated)).toBe(true);
        // More recipients than estimated: the percentage holds below 100 until the end.
        expect(running.some((p) => p.processed > 200)).toBe(true);
        expect(running.every((p) => (p.percentage ?? 100) <= 99.9)).toBe(true);
      } else {
        expect(running.every((p) => p.total === undefined && p.percentage === undefined)).toBe(true);
      }
      expect(progress.at(-1)).toMatchObject({ final: true, processed: 250, total: 250, percentage: 100 });
    }
  });

  it("tell a unitary trigger's send against its exact recipient count", async () => {
    const { kit } = await observedKit(await target.create(), { size: 3 });
    await kit.configurations.register({
      actor: ADMIN,
      configuration: {
        id: "email-transactional",
        name: "Transactional",
        channel: "email",
        purpose: "transactional",
        status: "active",
        settings: {
          fromName: "Acme",
          fromAddress: "no-reply@mail.acme.example",
          subdomain: "mail.acme.example",
        },
      },
    });
    await kit.campaigns.create({ actor: ADMIN, campaign: reset });
    await kit.campaigns.activate({ actor: ADMIN, id: "reset" });
    const seen = recordEvents(kit);
    const accepted = await kit.executions.triggerUnitary({
      actor: ADMIN,
      request: {
        requestId: "r1",
        campaignId: "reset",
        recipients: ["p0", "p1"].map((id) => ({
          type: "aep" as const,
          namespace: "email",
          userId: `${id}@example.com`,
          context: { link: "https://acme.example/r" },
        })),
      },
    });
    await kit.executions.wait({ id: accepted.executionId });
    expect(story(seen)).toEqual(["execution-started", "execution-progress", "execution-finished"]);
    expect(seen[0]?.event).toMatchObject({
      executionId: accepted.executionId,
      kind: "unitary",
      resumed: false,
    });
    expect(progressOf(seen).every((p) => p.total === 2 && !p.estimated)).toBe(true);
    expect(progressOf(seen).at(-1)).toMatchObject({ processed: 2, percentage: 100, final: true });
    expect(seen.at(-1)?.event).toMatchObject({ status: "succeeded", targeted: 2, outcomes: { sent: 2 } });
  });

  it("tell a send where every message failed, and the campaign failing", async () => {
    const email = memoryChannel({ channel: "email", failFor: () => "permanent" });
    const lines: LogLine[] = [];
    const { kit } = await observedKit(await target.create(), {
      size: 20,
      channels: [email, memoryChannel({ channel: "sms" })],
      logger: capturingLogger(lines),
    });
    const seen = recordEvents(kit);
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    await kit.scheduler.tick();
    expect(story(seen)).toEqual([
      "campaign-status-changed",
      "execution-started",
      "execution-progress",
      "execution-failed",
      "campaign-status-changed",
    ]);
    const failed = seen.find((e) => e.name === "execution-failed")?.event;
    expect(failed).toMatchObject({ campaignId: "sale", kind: "occurrence" });
    expect(failed && "error" in failed ? failed.error : "").toMatch(/every message failed/i);
    expect(seen.at(-1)?.event).toMatchObject({ from: "live", to: "failed" });
    expect(lines.find((l) => l.message === "execution failed")).toMatchObject({
      level: "error",
      fields: { campaignId: "sale", sent: 0, failed: 20 },
    });
  });

  it("tell an approval granted at once when no policy governs the campaign", async () => {
    const { kit } = await observedKit(await target.create(), { size: 1 });
    const seen = recordEvents(kit);
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.requestApproval({ actor: ADMIN, id: "sale" });
    expect(story(seen)).toEqual(["campaign-status-changed", "approval-requested", "approval-decided"]);
    expect(seen[1]?.event).toMatchObject({ autoApproved: true, requestedBy: ADMIN });
    expect(seen[1]?.event).not.toHaveProperty("policyId");
    expect(seen[2]?.event).toMatchObject({ decision: "approved" });
    expect(seen[2]?.event).not.toHaveProperty("decidedBy");
  });
});

describe("kit events", () => {
  it("come from the process that does the work: another kit on the same storage hears nothing", async () => {
    const storage = memoryStorage();
    const { kit: working } = await observedKit(storage, { size: 5 });
    const watching = await createCampaignKit({ storage, clock: kitClock(), channels: [memoryChannel()] });
    const heard = recordEvents(watching);
    const told = recordEvents(working);
    await working.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await working.campaigns.activate({ actor: ADMIN, id: "sale" });
    await working.scheduler.tick();
    expect(story(told)).toContain("execution-finished");
    expect(heard).toEqual([]);
  });

  it("never let a listener that throws fail the operation: it is logged", async () => {
    const lines: LogLine[] = [];
    const { kit } = await observedKit(memoryStorage(), { size: 5, logger: capturingLogger(lines) });
    kit.events.on("campaign-status-changed", () => {
      throw new Error("listener bug");
    });
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    const live = await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    expect(live.status).toBe("live");
    expect(lines.find((l) => l.message === "a kit event listener threw")).toMatchObject({
      level: "error",
      fields: { event: "campaign-status-changed", error: { message: "listener bug" } },
    });
  });

  it("tell an execution that fails because the ledger is unavailable, with its code", async () => {
    const storage = memoryStorage();
    let down = false;
    const flaky: Storage = {
      ...storage,
      record: (params) => (down ? Promise.reject(new Error("connection refused")) : storage.record(params)),
    };
    const lines: LogLine[] = [];
    const { kit } = await observedKit(flaky, { size: 10, logger: capturingLogger(lines) });
    const seen = recordEvents(kit);
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    down = true;
    await kit.scheduler.tick();
    expect(seen.find((e) => e.name === "execution-failed")?.event).toMatchObject({ code: "STORAGE_FAILED" });
    expect(lines.find((l) => l.message === "execution failed: storage unavailable")).toMatchObject({
      level: "error",
      fields: { campaignId: "sale", error: { code: "STORAGE_FAILED" } },
    });
  });

  it("tell a send cut short by a stop as finished, cancelled", async () => {
    // The first send goes through; the second stops the campaign, and it and every later one are held until
    // the stop aborts the dispatch: the stop always lands mid-send, whatever the machine's speed.
    let calls = 0;
    let stop = () => {};
    const email: ChannelAdapter = {
      name: "held-email",
      channel: "email",
      capabilities: { batch: false, idempotencyKeys: true },
      async send(_message, { signal }) {
        if (++calls === 1) return {};
        if (calls === 2) stop();
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return {};
      },
    };
    const { kit } = await observedKit(memoryStorage(), {
      size: 2000,
      members: people(2000),
      channels: [email, memoryChannel({ channel: "sms" })],
    });
    const seen = recordEvents(kit);
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    stop = () => void kit.campaigns.stop({ actor: ADMIN, id: "sale" });
    await kit.scheduler.tick();
    await kit.idle();
    const finished = seen.find((e) => e.name === "execution-finished")?.event;
    expect(finished).toMatchObject({ status: "cancelled", campaignId: "sale" });
    expect(finished && "outcomes" in finished ? finished.outcomes.sent : 0).toBeLessThan(2000);
    expect(seen.some((e) => e.name === "execution-failed")).toBe(false);
  });
});
