import { describe, expect, it } from "vitest";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { isCampaignKitError } from "../../src/errors.js";
import { createRepositories } from "../../src/repositories/index.js";
import { rejection } from "../support/outcomes.js";
import { ADMIN, auditLog, kitClock, promotion, seededKit } from "./fixtures.js";

describe("the approval story", () => {
  it("manager creates, approver requests changes, manager resubmits, self-approval blocked, approval schedules it", async () => {
    const clock = kitClock();
    const kit = await seededKit({ clock });
    await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
    await kit.roles.assign({ actor: ADMIN, userId: "arno", roleId: "campaign-approver" });
    await kit.roles.assign({ actor: ADMIN, userId: "alex", roleId: "campaign-approver" });
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: {
        id: "marketing-email",
        name: "Marketing email needs review",
        status: "active",
        conditions: { categories: ["marketing"], channels: ["email"] },
        approvers: { users: [], roles: ["campaign-approver"] },
        blockSelfApproval: true,
      },
    });

    const created = await kit.campaigns.create({
      actor: "maya",
      campaign: { ...promotion, id: "sale", schedule: { startAt: "2026-12-05T09:00:00Z" } },
    });
    expect(created.status).toBe("draft");

    // A manager can never activate directly.
    expect(
      isCampaignKitError(await rejection(kit.campaigns.activate({ actor: "maya", id: "sale" })), "FORBIDDEN"),
    ).toBe(true);
    // An approver can't either while a policy covers the campaign.
    expect(
      isCampaignKitError(
        await rejection(kit.campaigns.activate({ actor: "arno", id: "sale" })),
        "APPROVAL_REQUIRED",
      ),
    ).toBe(true);

    const inReview = await kit.campaigns.requestApproval({ actor: "maya", id: "sale", comment: "Ready" });
    expect(inReview.status).toBe("in-review");
    // Locked while in review.
    expect(
      isCampaignKitError(
        await rejection(kit.campaigns.update({ actor: "maya", id: "sale", changes: { name: "x" } })),
        "NOT_EDITABLE",
      ),
    ).toBe(true);

    const backToDraft = await kit.campaigns.requestChanges({
      actor: "arno",
      id: "sale",
      comment: "Add an SMS",
    });
    expect(backToDraft.status).toBe("draft");

    await kit.campaigns.update({
      actor: "maya",
      id: "sale",
      changes: {
        actions: [
          ...promotion.actions,
          {
            channel: "sms",
            channelConfigurationId: "sms-marketing",
            content: { body: "Sale on! {{context.code}}" },
          },
        ],
      },
    });
    await kit.campaigns.requestApproval({ actor: "maya", id: "sale" });

    // The approver who submitted can't approve their own request: have arno submit a second one to check.
    await kit.campaigns.cancelApproval({ actor: "maya", id: "sale" });
    await kit.campaigns.requestApproval({ actor: "arno", id: "sale" });
    const selfApproval = await rejection(kit.campaigns.approve({ actor: "arno", id: "sale" }));
    expect(isCampaignKitError(selfApproval, "FORBIDDEN")).toBe(true);
    expect((selfApproval as { details: { reason: string } }).details.reason).toBe("self-approval-blocked");

    const approved = await kit.campaigns.approve({ actor: "alex", id: "sale", comment: "Go" });
    expect(approved.status).toBe("scheduled");

    const requests = await kit.campaigns.listRequests({ actor: "maya", id: "sale" });
    expect(requests.map((r) => [r.requestedBy, r.status, r.decidedBy])).toEqual([
      ["maya", "changes-requested", "arno"],
      ["maya", "cancelled", "maya"],
      ["arno", "approved", "alex"],
    ]);

    const story = (await auditLog(kit.storage))
      .filter((e) => e.objectId === "sale")
      .map((e) => [e.actorId, e.action, e.outcome, e.fromStatus ?? null, e.toStatus ?? null]);
    expect(story).toEqual([
      ["maya", "campaign.create", "allowed", null, "draft"],
      ["maya", "campaign.activate", "denied", null, null],
      ["arno", "campaign.activate", "denied", null, null],
      ["maya", "campaign.request-approval", "allowed", "draft", "in-review"],
      ["maya", "campaign.update", "denied", null, null],
      ["arno", "campaign.request-changes", "allowed", "in-review", "draft"],
      ["maya", "campaign.update", "allowed", "draft", "draft"],
      ["maya", "campaign.request-approval", "allowed", "draft", "in-review"],
      ["maya", "campaign.cancel-approval", "allowed", "in-review", "draft"],
      ["arno", "campaign.request-approval", "allowed", "draft", "in-review"],
      ["arno", "campaign.approve", "denied", null, null],
      ["alex", "campaign.approve", "allowed", "in-review", "scheduled"],
    ]);
  });

  it("auto-approves a request no policy matches", async () => {
    const kit = await seededKit();
    await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: {
        id: "sms-only",
        name: "SMS",
        status: "active",
        conditions: { channels: ["sms"] },
        approvers: { users: [ADMIN], roles: [] },
      },
    });
    await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id: "sale" } });
    const result = await kit.campaigns.requestApproval({ actor: "maya", id: "sale" });
    expect(result.status).toBe("live");
    const [request] = await kit.campaigns.listRequests({ actor: "maya", id: "sale" });
    expect(request).toMatchObject({ status: "approved", requestedBy: "maya" });
    expect(request?.policyId).toBeUndefined();
  });

  it("the most recently activated matching policy decides who approves", async () => {
    const clock = kitClock();
    const kit = await seededKit({ clock });
    for (const [user, role] of [
      ["maya", "campaign-manager"],
      ["first", "campaign-approver"],
      ["second", "campaign-approver"],
    ] as const) {
      await kit.roles.assign({ actor: ADMIN, userId: user, roleId: role });
    }
    const policy = (id: string, approver: string) => ({
      id,
      name: id,
      approvers: { users: [approver], roles: [] },
    });
    await kit.approvalPolicies.define({ actor: ADMIN, policy: policy("older", "first") });
    await kit.approvalPolicies.define({ actor: ADMIN, policy: policy("newer", "second") });
    await kit.approvalPolicies.activate({ actor: ADMIN, id: "newer" });
    await clock.advance(1000);
    await kit.approvalPolicies.activate({ actor: ADMIN, id: "older" });

    await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.requestApproval({ actor: "maya", id: "sale" });
    const notListed = await rejection(kit.campaigns.approve({ actor: "second", id: "sale" }));
    expect((notListed as { details: { reason: string } }).details.reason).toBe("not-an-approver");
    expect((await kit.campaigns.approve({ actor: "first", id: "sale" })).status).toBe("live");
  });

  it("editing a policy keeps its status and activation time, so it doesn't start winning", async () => {
    const clock = kitClock();
    const kit = await seededKit({ clock });
    const policy = (id: string, approver: string) => ({
      id,
      name: id,
      approvers: { users: [approver], roles: [] },
    });
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: { ...policy("a", "first"), status: "active" },
    });
    await clock.advance(1000);
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: { ...policy("b", "second"), status: "active" },
    });
    const before = await kit.approvalPolicies.list({ actor: ADMIN });
    await clock.advance(1000);
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: { ...policy("a", "first"), name: "A, renamed" },
    });
    const after = await kit.approvalPolicies.list({ actor: ADMIN });
    const a = (list: typeof after) => list.find((p) => p.id === "a");
    expect(a(after)).toMatchObject({ name: "A, renamed", status: "active" });
    expect(a(after)?.activatedAt).toEqual(a(before)?.activatedAt);
  });

  it("refuses to approve when the request's policy no longer exists", async () => {
    const kit = await seededKit();
    await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
    await kit.roles.assign({ actor: ADMIN, userId: "arno", roleId: "campaign-approver" });
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: { id: "p", name: "P", status: "active", approvers: { users: ["arno"], roles: [] } },
    });
    await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.requestApproval({ actor: "maya", id: "sale" });
    const [request] = await kit.campaigns.listRequests({ actor: "maya", id: "sale" });
    await createRepositories(kit.storage).requests.update(request!.id, (r) => ({
      ...r,
      policyId: "deleted",
    }));
    const error = await rejection(kit.campaigns.approve({ actor: "arno", id: "sale" }));
    expect((error as { details: { reason: string } }).details.reason).toBe("policy-missing");
  });

  it("never leaves a campaign in review without a pending request", async () => {
    const storage = memoryStorage();
    let failNext = true;
    const flaky = {
      ...storage,
      async insert(params: Parameters<typeof storage.insert>[0]) {
        if (params.collection === "approval-requests" && failNext) {
          failNext = false;
          throw new Error("storage down");
        }
        return storage.insert(params);
      },
    };
    const kit = await seededKit({ storage: flaky });
    await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
    await kit.approvalPolicies.define({
      actor: ADMIN,
      policy: { id: "p", name: "P", status: "active", approvers: { users: [ADMIN], roles: [] } },
    });
    await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id: "sale" } });
    await rejection(kit.campaigns.requestApproval({ actor: "maya", id: "sale" }));
    expect((await kit.campaigns.get({ actor: "maya", id: "sale" })).status).toBe("draft");
    expect((await kit.campaigns.requestApproval({ actor: "maya", id: "sale" })).status).toBe("in-review");
  });
});
