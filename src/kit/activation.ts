import { CampaignKitError, isCampaignKitError } from "../errors.js";
import type { ApprovalPolicy, ApprovalRequest } from "../model/approval.js";
import type { Campaign } from "../model/campaign.js";
import { governingPolicy } from "./approval-policies.js";
import { findCampaign, isRunning, requirePrerequisites, transitionCampaign } from "./campaign-store.js";
import {
  type ActorRef,
  audit,
  type KitContext,
  type OperationOutcome,
  operate,
  type ResolvedActor,
  targetsOf,
} from "./context.js";

/** What the rest of the kit must do when a campaign stops. */
export interface ActivationHooks {
  /** Aborts the campaign's sends in this process and cancels its open executions. */
  onStopped(campaign: Campaign): Promise<void>;
}

/**
 * Putting campaigns live and taking them down, directly or through approval. Where an active approval policy
 * matches, activation goes through `requestApproval` -> in review (locked) -> `approve` or `requestChanges` /
 * `cancelApproval`; with no matching policy, a request is approved at once. A manager (no `campaign.publish`)
 * can never activate directly.
 */
export interface ActivationApi {
  /**
   * Draft -> live (or scheduled when it starts later). Needs `campaign.publish`; `APPROVAL_REQUIRED` when a
   * policy covers the campaign; `PREREQUISITES_UNMET` when the review finds problems. Activating a new version
   * of a live recurring campaign stops the one it replaces.
   */
  activate(params: { actor: ActorRef; id: string }): Promise<Campaign>;
  /** Live or scheduled -> stopped: cancels future occurrences and unsent waves. Needs `campaign.publish`. */
  stop(params: { actor: ActorRef; id: string }): Promise<Campaign>;
  /** Draft -> in review, or straight to live/scheduled when no policy matches. Needs `campaign.write`. */
  requestApproval(params: { actor: ActorRef; id: string; comment?: string }): Promise<Campaign>;
  /** In review -> live/scheduled. Needs `campaign.approve` and being one of the policy's approvers. */
  approve(params: { actor: ActorRef; id: string; comment?: string }): Promise<Campaign>;
  /** In review -> draft, with the approver's comment. Needs `campaign.approve` and being an approver. */
  requestChanges(params: { actor: ActorRef; id: string; comment: string }): Promise<Campaign>;
  /** In review -> draft, withdrawn by the requester or any campaign writer. Needs `campaign.write`. */
  cancelApproval(params: { actor: ActorRef; id: string }): Promise<Campaign>;
  /** A campaign's approval requests, oldest first. Needs `campaign.read`. */
  listRequests(params: { actor: ActorRef; id: string }): Promise<ApprovalRequest[]>;
}

/**
 * Stops the version a newly live campaign (`byId`) replaces. Another writer (the scheduler starting it) may
 * move it at the same moment: read it again and retry, so that two versions never stay live side by side.
 * The scheduler calls it too, for a retirement that failed at activation.
 */
export async function retireReplaced(
  ctx: KitContext,
  hooks: ActivationHooks,
  actor: ResolvedActor,
  replacedId: string,
  byId: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const replaced = await ctx.storage.getCampaign({ id: replacedId });
    if (!isRunning(replaced)) return;
    try {
      const stopped = await transitionCampaign(ctx, actor, replaced, "stop");
      await audit(
        ctx,
        actor.id,
        { action: "campaign.stop", objectType: "campaign", objectId: replacedId },
        "allowed",
        {
          ...stopped,
          detail: { replacedBy: byId },
        },
      );
      await hooks.onStopped(stopped.result);
      return;
    } catch (error) {
      if (!isCampaignKitError(error, "CONFLICT") || attempt >= 5) throw error;
    }
  }
}

/** Builds the activation API. */
export function activationApi(ctx: KitContext, hooks: ActivationHooks): ActivationApi {
  const target = targetsOf("campaign");

  /**
   * Puts a reviewed campaign live, and retires the live campaign it is a new version of. The caller has
   * checked the prerequisites for its own intent.
   */
  async function goLive(
    actor: ResolvedActor,
    campaign: Campaign,
    action: "activate" | "approve",
  ): Promise<OperationOutcome<Campaign>> {
    if (campaign.replacesCampaignId) await requireReplaceable(campaign, campaign.replacesCampaignId);
    const outcome = await transitionCampaign(ctx, actor, campaign, action);
    if (!campaign.replacesCampaignId) return outcome;
    try {
      await retireReplaced(ctx, hooks, actor, campaign.replacesCampaignId, campaign.id);
      return outcome;
    } catch (error) {
      // This version is live now: failing the activation would leave it live and unretryable. The scheduler
      // stops a replaced version on its next tick; the audit entry says the retirement is pending.
      const reason = error instanceof Error ? error.message : String(error);
      return { ...outcome, detail: { retirementPending: campaign.replacesCampaignId, reason } };
    }
  }

  /**
   * A version may only go live in place of a running campaign that names it as its open version: never
   * beside, or after, another version that already replaced it.
   */
  async function requireReplaceable(version: Campaign, replacedId: string): Promise<void> {
    const replaced = await ctx.storage.getCampaign({ id: replacedId });
    if (isRunning(replaced) && replaced.openVersionId === version.id) return;
    const status = replaced?.status;
    const why =
      status === undefined
        ? "no longer exists"
        : status === "live" || status === "scheduled"
          ? `is being replaced by version '${replaced?.openVersionId}'`
          : `is ${status}`;
    throw new CampaignKitError(
      "INVALID_TRANSITION",
      `Campaign '${version.id}' is a new version of '${replacedId}', which ${why}; it can't replace it. ` +
        "Duplicate this version to send it as a campaign of its own.",
      { details: { replacesCampaignId: replacedId, status } },
    );
  }

  /**
   * Writes `request`, then takes `step`; if the step fails, puts back `onFailure`. A new request is written
   * before its campaign moves, so a campaign is never left in review with no pending request to decide. A
   * decision (`ifStatus: "pending"`) is a compare-and-set on the request: of concurrent approvers exactly one
   * decides, the others get `CONFLICT`; the rollback is one too, so it never overwrites a later decision.
   */
  async function withRequest<T>(
    request: ApprovalRequest,
    step: () => Promise<T>,
    onFailure: ApprovalRequest,
    ifStatus?: "pending",
  ) {
    const written = await ctx.storage.putApprovalRequest({ request, ...(ifStatus ? { ifStatus } : {}) });
    if (!written) {
      const now = await ctx.storage.getApprovalRequest({ id: request.id });
      throw new CampaignKitError(
        "CONFLICT",
        `Approval request '${request.id}' was ${now?.status ?? "removed"} by someone else meanwhile; read the campaign again.`,
        { details: { requestId: request.id, status: now?.status } },
      );
    }
    try {
      return await step();
    } catch (error) {
      await ctx.storage.putApprovalRequest({ request: onFailure, ifStatus: request.status }).catch(() => {});
      throw error;
    }
  }

  async function pendingRequest(campaign: Campaign): Promise<ApprovalRequest> {
    const requests = await ctx.storage.listApprovalRequests({ campaignId: campaign.id });
    const pending = requests.findLast((r) => r.status === "pending");
    if (!pending) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `Campaign '${campaign.id}' has no pending approval request; cancel the review and request approval again.`,
      );
    }
    return pending;
  }

  async function requireApprover(actor: ResolvedActor, request: ApprovalRequest): Promise<void> {
    const policy: ApprovalPolicy | undefined = request.policyId
      ? (await ctx.storage.listApprovalPolicies()).find((p) => p.id === request.policyId)
      : undefined;
    // Without its policy nobody can tell who may approve: refuse rather than let any approver through.
    if (!policy) {
      throw new CampaignKitError(
        "FORBIDDEN",
        `The approval policy of request '${request.id}' no longer exists; cancel the request and submit it again.`,
        { details: { policyId: request.policyId, reason: "policy-missing" } },
      );
    }
    const listed =
      policy.approvers.users.includes(actor.id) ||
      policy.approvers.roles.some((r) => actor.roles.includes(r));
    if (!listed) {
      throw new CampaignKitError(
        "FORBIDDEN",
        `User '${actor.id}' is not an approver under policy '${policy.id}'; ask one of its approvers.`,
        { details: { policyId: policy.id, reason: "not-an-approver" } },
      );
    }
    if (policy.blockSelfApproval && request.requestedBy === actor.id) {
      throw new CampaignKitError(
        "FORBIDDEN",
        `User '${actor.id}' requested this approval and policy '${policy.id}' blocks self-approval; ` +
          "another approver must decide.",
        { details: { policyId: policy.id, reason: "self-approval-blocked" } },
      );
    }
  }

  function decided(
    actor: ResolvedActor,
    request: ApprovalRequest,
    status: ApprovalRequest["status"],
    comment?: string,
  ): ApprovalRequest {
    const next: ApprovalRequest = { ...request, status, decidedBy: actor.id, decidedAt: ctx.now() };
    if (comment !== undefined) next.comment = comment;
    return next;
  }

  return {
    activate: ({ actor, id }) =>
      operate(ctx, actor, "campaign.publish", target("campaign.activate", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const policy = await governingPolicy(ctx, campaign, a);
        if (policy) {
          throw new CampaignKitError(
            "APPROVAL_REQUIRED",
            `Campaign '${id}' falls under approval policy '${policy.name}'; request approval instead.`,
            { details: { policyId: policy.id } },
          );
        }
        await requirePrerequisites(ctx, a, "activate", campaign);
        return goLive(a, campaign, "activate");
      }),
    stop: ({ actor, id }) =>
      operate(ctx, actor, "campaign.publish", target("campaign.stop", id), async (a) => {
        const outcome = await transitionCampaign(ctx, a, await findCampaign(ctx, id), "stop");
        await hooks.onStopped(outcome.result);
        return outcome;
      }),
    requestApproval: ({ actor, id, comment }) =>
      operate(ctx, actor, "campaign.write", target("campaign.request-approval", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        if (campaign.status !== "draft") {
          throw new CampaignKitError(
            "INVALID_TRANSITION",
            `Campaign '${id}' is ${campaign.status}; only drafts can be submitted.`,
            {
              details: { status: campaign.status, action: "request-approval" },
            },
          );
        }
        await requirePrerequisites(ctx, a, "request-approval", campaign);
        const policy = await governingPolicy(ctx, campaign, a);
        const request: ApprovalRequest = {
          id: ctx.newId(),
          campaignId: id,
          campaignVersion: campaign.version,
          status: policy ? "pending" : "approved",
          requestedBy: a.id,
          requestedAt: ctx.now(),
        };
        if (policy) request.policyId = policy.id;
        if (comment !== undefined) request.comment = comment;
        const withdrawn = decided(a, request, "cancelled");
        if (!policy) {
          // No policy governs it: the reference product approves the request at once, so the requester's
          // lack of `campaign.publish` doesn't matter here.
          const approved = { ...request, decidedAt: ctx.now() };
          const outcome = await withRequest(approved, () => goLive(a, campaign, "activate"), withdrawn);
          return { ...outcome, detail: { requestId: request.id, autoApproved: true } };
        }
        const outcome = await withRequest(
          request,
          () => transitionCampaign(ctx, a, campaign, "request-approval"),
          withdrawn,
        );
        return { ...outcome, detail: { requestId: request.id, policyId: policy.id } };
      }),
    approve: ({ actor, id, comment }) =>
      operate(ctx, actor, "campaign.approve", target("campaign.approve", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const request = await pendingRequest(campaign);
        await requireApprover(a, request);
        await requirePrerequisites(ctx, a, "approve", campaign);
        const approved = decided(a, request, "approved", comment);
        const outcome = await withRequest(approved, () => goLive(a, campaign, "approve"), request, "pending");
        return { ...outcome, detail: { requestId: request.id } };
      }),
    requestChanges: ({ actor, id, comment }) =>
      operate(ctx, actor, "campaign.approve", target("campaign.request-changes", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const request = await pendingRequest(campaign);
        await requireApprover(a, request);
        const outcome = await withRequest(
          decided(a, request, "changes-requested", comment),
          () => transitionCampaign(ctx, a, campaign, "request-changes"),
          request,
          "pending",
        );
        return { ...outcome, detail: { requestId: request.id, comment } };
      }),
    cancelApproval: ({ actor, id }) =>
      operate(ctx, actor, "campaign.write", target("campaign.cancel-approval", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const request = await pendingRequest(campaign);
        const outcome = await withRequest(
          decided(a, request, "cancelled"),
          () => transitionCampaign(ctx, a, campaign, "cancel-approval"),
          request,
          "pending",
        );
        return { ...outcome, detail: { requestId: request.id } };
      }),
    listRequests: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("campaign.approval-requests", id, true), async () => ({
        result: await ctx.storage.listApprovalRequests({ campaignId: id }),
      })),
  };
}
