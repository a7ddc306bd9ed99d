import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { CampaignDraftInput } from "../../src/model/campaign.js";
import { createRepositories } from "../../src/repositories/index.js";
import { refusal } from "../support/outcomes.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, auditLog, kitClock, people, promotion, seededKit } from "./fixtures.js";

const DAY = 86_400_000;
const profiles = people(3);

const weekly: CampaignDraftInput = {
  ...promotion,
  schedule: {
    timeZone: "Europe/Paris",
    startAt: "2026-12-01T08:30:00Z",
    recurrence: { frequency: "weekly", interval: 1, daysOfWeek: ["tuesday"], at: { hour: 10, minute: 0 } },
  },
};

/** An API-triggered marketing campaign to `vip`, for deferred audience executions. */
const announcement: CampaignDraftInput = { ...promotion, type: "api-triggered", name: "Announcement" };

describe.each(storageTargets("campaign lifecycle"))("the rest of a campaign's life on $name", (target) => {
  async function setup(options: Parameters<typeof seededKit>[0] = {}) {
    const clock = kitClock();
    const email = memoryChannel({ channel: "email" });
    const storage = await target.create();
    const kit = await seededKit({
      storage,
      clock,
      channels: [email, memoryChannel({ channel: "sms" })],
      audiences: memoryAudiences({ audiences: { vip: profiles }, profiles }),
      ...options,
    });
    await kit.roles.assign({ actor: ADMIN, userId: "mia", roleId: "campaign-manager" });
    await kit.roles.assign({ actor: ADMIN, userId: "val", roleId: "campaign-viewer" });
    return { kit, clock, email, storage, repos: createRepositories(storage) };
  }

  describe("duplicate", () => {
    it("copies the content of a campaign of any status into a new draft, and none of its history", async () => {
      const { kit, repos } = await setup();
      await kit.campaigns.create({
        actor: ADMIN,
        campaign: { ...promotion, id: "sale", description: "Winter", tags: ["promo", "q4"] },
      });
      await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
      await kit.scheduler.tick();
      const source = await kit.campaigns.archive({ actor: ADMIN, id: "sale" });
      const copy = await kit.campaigns.duplicate({ actor: "mia", id: "sale", newId: "sale-2" });
      expect(copy).toMatchObject({
        id: "sale-2",
        status: "draft",
        version: 1,
        name: "Winter sale (copy)",
        createdBy: "mia",
        description: "Winter",
        tags: ["promo", "q4"],
        actions: source.actions,
        audienceId: "vip",
        deliveryControls: source.deliveryControls,
      });
      expect(copy).not.toHaveProperty("activatedAt");
      expect(copy).not.toHaveProperty("archivedAt");
      expect(await repos.executions.every({ campaignId: "sale-2" })).toEqual([]);
      expect((await kit.reports.campaign({ actor: ADMIN, id: "sale-2" })).outcomes.sent).toBe(0);
      // The copy goes live on its own; the source stays archived.
      expect((await kit.campaigns.activate({ actor: ADMIN, id: "sale-2" })).status).toBe("live");
      expect((await kit.campaigns.get({ actor: ADMIN, id: "sale" })).status).toBe("archived");
      const named = await kit.campaigns.duplicate({ actor: ADMIN, id: "sale", name: "Spring sale" });
      expect(named).toMatchObject({ name: "Spring sale", status: "draft" });
      expect(named.id).not.toBe("sale");
      const entry = (await auditLog(kit.storage)).find((e) => e.action === "campaign.duplicate");
      expect(entry).toMatchObject({ actorId: "mia", objectId: "sale", detail: { copyId: "sale-2" } });
    });

    it("refuses a taken id and a viewer, writing nothing", async () => {
      const { kit } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "a" } });
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "b" } });
      expect((await refusal(kit.campaigns.duplicate({ actor: ADMIN, id: "a", newId: "b" }))).code).toBe(
        "ALREADY_EXISTS",
      );
      expect((await refusal(kit.campaigns.duplicate({ actor: "val", id: "a", newId: "c" }))).code).toBe(
        "FORBIDDEN",
      );
      const ids = (await kit.campaigns.list({ actor: ADMIN })).items.map((c) => c.id);
      expect(ids).toEqual(["a", "b"]);
    });
  });

  describe("archive", () => {
    it("refuses drafts (delete them instead) and archives stopped, completed and in-review campaigns", async () => {
      const { kit, repos } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "d" } });
      const draft = await refusal(kit.campaigns.archive({ actor: ADMIN, id: "d" }));
      expect(draft.code).toBe("INVALID_TRANSITION");
      expect(draft.details).toMatchObject({ status: "draft", action: "archive" });

      await kit.approvalPolicies.define({
        actor: ADMIN,
        policy: {
          id: "promo-review",
          name: "Promotions need review",
          status: "active",
          conditions: { tags: ["promo"] },
          approvers: { users: [ADMIN], roles: [] },
        },
      });
      await kit.campaigns.requestApproval({ actor: "mia", id: "d" });
      const archived = await kit.campaigns.archive({ actor: "mia", id: "d" });
      expect(archived).toMatchObject({ status: "archived", archivedAt: expect.any(Date) });
      // Its pending request is withdrawn: nobody can approve an archived campaign.
      expect((await kit.campaigns.listRequests({ actor: ADMIN, id: "d" })).map((r) => r.status)).toEqual([
        "cancelled",
      ]);
      expect((await refusal(kit.campaigns.approve({ actor: ADMIN, id: "d" }))).code).toBe("NOT_FOUND");
      expect((await repos.campaigns.find("d")).value.status).toBe("archived");
    });

    it("stops a live campaign it archives: open executions cancelled and listed, nothing sent after", async () => {
      const { kit, clock, email } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...announcement, id: "news" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "news" });
      const deferred = await kit.executions.triggerAudience({
        actor: ADMIN,
        request: {
          campaignId: "news",
          requestId: "tomorrow",
          schedule: { executeAt: "2026-12-02T08:00:00Z" },
        },
      });
      const archived = await kit.campaigns.archive({ actor: ADMIN, id: "news" });
      expect(archived.status).toBe("archived");
      const entry = (await auditLog(kit.storage)).find((e) => e.action === "campaign.archive");
      expect(entry).toMatchObject({
        outcome: "allowed",
        fromStatus: "live",
        toStatus: "archived",
        detail: { stopped: true, cancelledExecutions: [deferred.executionId] },
      });
      expect((await kit.executions.get({ actor: ADMIN, id: deferred.executionId })).status).toBe("cancelled");
      clock.advance(2 * DAY);
      await kit.scheduler.tick();
      expect(email.sent).toEqual([]);
      const trigger = await refusal(
        kit.executions.triggerAudience({ actor: ADMIN, request: { campaignId: "news", requestId: "again" } }),
      );
      expect(trigger.code).toBe("CAMPAIGN_NOT_LIVE");
    });

    it("archives a scheduled campaign before its start: the scheduler never starts it", async () => {
      const { kit, clock, email } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...weekly, id: "weekly" } });
      expect((await kit.campaigns.activate({ actor: ADMIN, id: "weekly" })).status).toBe("scheduled");
      await kit.campaigns.archive({ actor: ADMIN, id: "weekly" });
      clock.advance(14 * DAY);
      const tick = await kit.scheduler.tick();
      expect(tick).toMatchObject({ started: [], launched: [] });
      expect(email.sent).toEqual([]);
    });

    it("needs campaign.publish to archive (and so stop) a running campaign, not a finished one", async () => {
      const { kit, repos } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...weekly, id: "weekly" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "weekly" });
      const before = await repos.campaigns.find("weekly");
      const refused = await refusal(kit.campaigns.archive({ actor: "mia", id: "weekly" }));
      expect(refused.code).toBe("FORBIDDEN");
      expect(refused.details).toMatchObject({ permission: "campaign.publish", actorId: "mia" });
      expect(await repos.campaigns.find("weekly")).toEqual(before);
      await kit.campaigns.stop({ actor: ADMIN, id: "weekly" });
      expect((await kit.campaigns.archive({ actor: "mia", id: "weekly" })).status).toBe("archived");
      expect((await refusal(kit.campaigns.archive({ actor: "val", id: "weekly" }))).code).toBe("FORBIDDEN");
    });
  });

  describe("delete", () => {
    it("deletes drafts only, with their decided approval requests; the audit log keeps their history", async () => {
      const { kit, repos } = await setup();
      await kit.approvalPolicies.define({
        actor: ADMIN,
        policy: {
          id: "p",
          name: "Review",
          status: "active",
          conditions: {},
          approvers: { users: [ADMIN], roles: [] },
          blockSelfApproval: false,
        },
      });
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "d" } });
      await kit.campaigns.requestApproval({ actor: "mia", id: "d" });
      await kit.campaigns.requestChanges({ actor: ADMIN, id: "d", comment: "Shorter subject" });
      await kit.campaigns.delete({ actor: "mia", id: "d" });
      expect(await repos.campaigns.get("d")).toBeUndefined();
      expect(await repos.requests.every({ campaignId: "d" })).toEqual([]);
      const history = (await auditLog(kit.storage)).filter((e) => e.objectId === "d").map((e) => e.action);
      expect(history).toEqual([
        "campaign.create",
        "campaign.request-approval",
        "campaign.request-changes",
        "campaign.delete",
      ]);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "s" } });
      await kit.campaigns.requestApproval({ actor: ADMIN, id: "s" });
      expect((await refusal(kit.campaigns.delete({ actor: ADMIN, id: "s" }))).code).toBe(
        "INVALID_TRANSITION",
      );
      expect((await refusal(kit.campaigns.delete({ actor: "val", id: "s" }))).code).toBe("FORBIDDEN");
    });
  });

  describe("tags", () => {
    it("edits tags on any status, archived included, and concurrent edits all land", async () => {
      const { kit } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c", tags: ["promo"] } });
      await kit.campaigns.activate({ actor: ADMIN, id: "c" });
      const live = await kit.campaigns.editTags({ actor: "mia", id: "c", add: ["q4", "promo"] });
      expect(live).toMatchObject({ status: "live", tags: ["promo", "q4"], updatedBy: "mia" });
      await kit.campaigns.stop({ actor: ADMIN, id: "c" });
      await kit.campaigns.archive({ actor: ADMIN, id: "c" });
      await Promise.all([
        kit.campaigns.editTags({ actor: ADMIN, id: "c", add: ["a"] }),
        kit.campaigns.editTags({ actor: ADMIN, id: "c", add: ["b"] }),
        kit.campaigns.editTags({ actor: ADMIN, id: "c", remove: ["promo"] }),
      ]);
      const archived = await kit.campaigns.get({ actor: ADMIN, id: "c" });
      expect(archived.status).toBe("archived");
      expect([...archived.tags].sort()).toEqual(["a", "b", "q4"]);
      const set = await kit.campaigns.editTags({ actor: ADMIN, id: "c", set: ["x"], add: ["y"] });
      expect(set.tags).toEqual(["x", "y"]);
      const found = await kit.campaigns.list({ actor: ADMIN, filter: { tags: ["x"] } });
      expect(found.items.map((c) => c.id)).toEqual(["c"]);
      const entry = (await auditLog(kit.storage)).findLast((e) => e.action === "campaign.edit-tags");
      expect(entry).toMatchObject({ detail: { tags: ["x", "y"] } });
    });

    it("refuses an empty edit, a bad tag and a viewer", async () => {
      const { kit } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c" } });
      const empty = await refusal(kit.campaigns.editTags({ actor: ADMIN, id: "c" }));
      expect(empty.code).toBe("VALIDATION_FAILED");
      expect(empty.message).toContain("Pass `set`, `add` or `remove`");
      const bad = await refusal(kit.campaigns.editTags({ actor: ADMIN, id: "c", add: [""] }));
      expect(bad.details).toMatchObject({ issues: [{ path: "add.0", message: "A tag can't be empty" }] });
      expect((await refusal(kit.campaigns.editTags({ actor: "val", id: "c", add: ["x"] }))).code).toBe(
        "FORBIDDEN",
      );
    });
  });

  describe("completion by the scheduler", () => {
    it("completes a one-shot 3 days after its send by default, live until then", async () => {
      const { kit, clock, email } = await setup({ lifecycle: {} });
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "once" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "once" });
      expect((await kit.scheduler.tick()).completed).toEqual([]);
      expect(email.sent).toHaveLength(3);
      clock.advance(3 * DAY - 60_000);
      expect((await kit.scheduler.tick()).completed).toEqual([]);
      expect((await kit.campaigns.get({ actor: ADMIN, id: "once" })).status).toBe("live");
      clock.advance(60_000);
      expect((await kit.scheduler.tick()).completed).toEqual(["once"]);
      expect((await kit.campaigns.get({ actor: ADMIN, id: "once" })).status).toBe("completed");
      const entry = (await auditLog(kit.storage)).find((e) => e.action === "campaign.complete");
      expect(entry).toMatchObject({ actorId: "system:scheduler", fromStatus: "live", toStatus: "completed" });
      expect(email.sent).toHaveLength(3);
    });

    it("takes the delay from lifecycle.completeAfterDays", async () => {
      const { kit, clock } = await setup({ lifecycle: { completeAfterDays: 0.5 } });
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "once" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "once" });
      await kit.scheduler.tick();
      clock.advance(DAY / 2);
      expect((await kit.scheduler.tick()).completed).toEqual(["once"]);
    });

    it("refuses a negative delay or retention when the kit is made", async () => {
      const bad = await refusal(createCampaignKit({ lifecycle: { completeAfterDays: -1 } }));
      expect(bad.code).toBe("VALIDATION_FAILED");
      const retention = await refusal(
        createCampaignKit({ lifecycle: { archiveRetentionDays: true as unknown as number } }),
      );
      expect(retention.details).toMatchObject({ issues: [{ path: "lifecycle.archiveRetentionDays" }] });
    });
  });

  describe("purge after the retention period", () => {
    async function sentAndArchived(options: Parameters<typeof seededKit>[0] = {}) {
      const context = await setup(options);
      const { kit } = context;
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "old" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "old" });
      await kit.scheduler.tick();
      await kit.campaigns.archive({ actor: ADMIN, id: "old" });
      return context;
    }

    it("purges an archived campaign 30 days on, keeping the audit log and the delivery ledger", async () => {
      const { kit, clock, repos, storage } = await sentAndArchived();
      const sent = await storage.summarize({ campaignId: "old" });
      expect(sent.outcomes.sent).toBe(3);
      clock.advance(30 * DAY - 60_000);
      expect((await kit.scheduler.tick()).purged).toEqual([]);
      expect((await kit.campaigns.get({ actor: ADMIN, id: "old" })).status).toBe("archived");
      clock.advance(60_000);
      expect((await kit.scheduler.tick()).purged).toEqual(["old"]);
      expect((await refusal(kit.campaigns.get({ actor: ADMIN, id: "old" }))).code).toBe("NOT_FOUND");
      expect(await repos.executions.every({ campaignId: "old" })).toEqual([]);
      expect(await storage.summarize({ campaignId: "old" })).toEqual(sent);
      const history = (await auditLog(kit.storage)).filter((e) => e.objectId === "old");
      expect(history.map((e) => e.action)).toEqual([
        "campaign.create",
        "campaign.activate",
        "campaign.complete",
        "campaign.archive",
        "campaign.purge",
        "campaign.read", // the read above, refused NOT_FOUND
      ]);
      expect(history.at(-2)).toMatchObject({
        actorId: "system:scheduler",
        fromStatus: "archived",
        detail: { executions: 1, approvalRequests: 0 },
      });
      // Duplicating it is too late now; the id is free again.
      expect((await refusal(kit.campaigns.duplicate({ actor: ADMIN, id: "old" }))).code).toBe("NOT_FOUND");
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "old" } });
    });

    it("takes the retention from lifecycle.archiveRetentionDays; false keeps archived campaigns", async () => {
      const short = await sentAndArchived({ lifecycle: { completeAfterDays: 0, archiveRetentionDays: 1 } });
      short.clock.advance(DAY);
      expect((await short.kit.scheduler.tick()).purged).toEqual(["old"]);
      const kept = await sentAndArchived({ lifecycle: { archiveRetentionDays: false } });
      kept.clock.advance(3650 * DAY);
      expect((await kept.kit.scheduler.tick()).purged).toEqual([]);
      expect((await kept.kit.campaigns.get({ actor: ADMIN, id: "old" })).status).toBe("archived");
    });
  });

  describe("occurrences for a calendar", () => {
    it("lists what ran with its execution's status and what is planned", async () => {
      const { kit, clock } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...weekly, id: "weekly" } });
      const draft = await kit.campaigns.occurrences({
        actor: "val",
        id: "weekly",
        from: "2026-12-01T00:00:00Z",
        to: "2026-12-20T00:00:00Z",
      });
      expect(draft.map((o) => [o.at.toISOString(), o.status])).toEqual([
        ["2026-12-01T09:00:00.000Z", "planned"],
        ["2026-12-08T09:00:00.000Z", "planned"],
        ["2026-12-15T09:00:00.000Z", "planned"],
      ]);
      await kit.campaigns.activate({ actor: ADMIN, id: "weekly" });
      clock.set(Date.parse("2026-12-01T09:00:00Z"));
      await kit.scheduler.tick();
      await kit.scheduler.tick();
      const live = await kit.campaigns.occurrences({
        actor: "val",
        id: "weekly",
        from: new Date("2026-11-01T00:00:00Z"),
        to: new Date("2026-12-20T00:00:00Z"),
      });
      expect(live.map((o) => [o.index, o.status])).toEqual([
        [0, "succeeded"],
        [1, "planned"],
        [2, "planned"],
      ]);
      expect(live[0]).toMatchObject({
        campaignId: "weekly",
        local: { year: 2026, month: 12, day: 1, hour: 10, minute: 0 },
        executionId: expect.any(String),
      });
      expect((await kit.executions.get({ actor: ADMIN, id: live[0]?.executionId as string })).kind).toBe(
        "occurrence",
      );
      const limited = await kit.campaigns.occurrences({
        actor: ADMIN,
        id: "weekly",
        from: "2026-12-01T00:00:00Z",
        to: "2027-12-01T00:00:00Z",
        limit: 2,
      });
      expect(limited).toHaveLength(2);
      // Stopped: what ran stays on the calendar, what never will is gone.
      await kit.campaigns.stop({ actor: ADMIN, id: "weekly" });
      const stopped = await kit.campaigns.occurrences({
        actor: ADMIN,
        id: "weekly",
        from: "2026-11-01T00:00:00Z",
        to: "2026-12-20T00:00:00Z",
      });
      expect(stopped.map((o) => o.status)).toEqual(["succeeded"]);
    });

    it("has none for an API-triggered campaign, and refuses a bad range", async () => {
      const { kit } = await setup();
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...announcement, id: "api" } });
      const range = { from: "2026-12-01T00:00:00Z", to: "2026-12-31T00:00:00Z" };
      expect(await kit.campaigns.occurrences({ actor: ADMIN, id: "api", ...range })).toEqual([]);
      const backwards = await refusal(
        kit.campaigns.occurrences({ actor: ADMIN, id: "api", from: range.to, to: range.from }),
      );
      expect(backwards.details).toMatchObject({
        issues: [{ path: "to", message: "`to` must be after `from`" }],
      });
      const tooMany = await refusal(
        kit.campaigns.occurrences({ actor: ADMIN, id: "api", ...range, limit: 5000 }),
      );
      expect(tooMany.code).toBe("VALIDATION_FAILED");
      expect((await refusal(kit.campaigns.occurrences({ actor: "nobody", id: "api", ...range }))).code).toBe(
        "FORBIDDEN",
      );
    });
  });
});
