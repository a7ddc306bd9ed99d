import { CampaignKitError, isCampaignKitError } from "../errors.js";
import type { Runner } from "../executions/runner.js";
import { retireReplaced, stopCampaign } from "../executions/stop.js";
import type { ApprovalPolicy, ApprovalRequest } from "../model/approval.js";
import type { Campaign } from "../model/campaign.js";
import { findCampaign, getCampaign, isRunning, transitionCampaign } from "../repositories/campaigns.js";
import type { Versioned } from "../repositories/index.js";
import { governingPolicy } from "./approval-policies.js";
import {
  type ActorRef,
  type KitContext,
  type OperationOutcome,
  operate,
  type ResolvedActor,
  targetsOf,
} from "./context.js";
import { requirePrerequisites } from "./prerequisites/inputs.js";

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

/** Builds the activation API. */
export function activationApi(ctx: KitContext, runner: Runner): ActivationApi {
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
    const outcome = await transitionCampaign(ctx, actor.id, campaign, action);
    if (!campaign.replacesCampaignId) return outcome;
    try {
      await retireReplaced(ctx, runner, actor.id, campaign.replacesCampaignId, campaign.id);
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
    const replaced = await getCampaign(ctx, replacedId);
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
   * Takes `step` once `written` (a new request, or a decision) is stored; if the step fails, puts back
   * `onFailure` by compare-and-set, so a rollback never overwrites what someone decided since. A new request
   * is written before its campaign moves, so a campaign is never left in review with no request to decide.
   */
  async function withRequest<T>(
    written: Versioned<ApprovalRequest>,
    step: () => Promise<T>,
    onFailure: ApprovalRequest,
  ): Promise<T> {
    try {
      return await step();
    } catch (error) {
      await ctx.repos.requests.replace(written, onFailure).catch(() => {});
      throw error;
    }
  }

  /**
   * Records a decision on a pending request by compare-and-set: of concurrent approvers exactly one decides,
   * the others get `CONFLICT` saying what was decided.
   */
  async function decide(
    pending: Versioned<ApprovalRequest>,
    decision: ApprovalRequest,
  ): Promise<Versioned<ApprovalRequest>> {
    try {
      return await ctx.repos.requests.replace(pending, decision);
    } catch (error) {
      if (!isCampaignKitError(error, "CONFLICT")) throw error;
      const now = await ctx.repos.requests.get(pending.value.id);
      throw new CampaignKitError(
        "CONFLICT",
        `Approval request '${pending.value.id}' was ${now?.value.status ?? "removed"} by someone else meanwhile; read the campaign again.`,
        { cause: error, details: { requestId: pending.value.id, status: now?.value.status } },
      );
    }
  }

  /** The campaign's latest pending request; `NOT_FOUND` when it has none. */
  async function pendingRequest(campaign: Campaign): Promise<Versioned<ApprovalRequest>> {
    const pending = await ctx.repos.requests.every({ campaignId: campaign.id, status: "pending" });
    const latest = pending.sort((a, b) => a.requestedAt.getTime() - b.requestedAt.getTime()).at(-1);
    if (!latest) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `Campaign '${campaign.id}' has no pending approval request; cancel the review and request approval again.`,
      );
    }
    return ctx.repos.requests.find(latest.id);
  }

  async function requireApprover(actor: ResolvedActor, request: ApprovalRequest): Promise<void> {
    const policy: ApprovalPolicy | undefined = request.policyId
      ? (await ctx.repos.policies.get(request.policyId))?.value
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

  /** Logs and emits a new approval request, once it and its campaign's move are stored. */
  function requested(request: ApprovalRequest): void {
    const event = {
      campaignId: request.campaignId,
      requestId: request.id,
      requestedBy: request.requestedBy,
      ...(request.policyId === undefined ? {} : { policyId: request.policyId }),
      autoApproved: request.policyId === undefined,
    };
    ctx.observe.log.info(event, "approval requested");
    ctx.observe.emit("approval-requested", { ...event, at: request.requestedAt });
    if (event.autoApproved) decidedEvent(request, "approved");
  }

  /** Logs and emits a decision on an approval request, once it and its campaign's move are stored. */
  function decidedEvent(
    request: ApprovalRequest,
    decision: "approved" | "changes-requested" | "cancelled",
    comment?: string,
  ): void {
    const event = {
      campaignId: request.campaignId,
      requestId: request.id,
      decision,
      ...(request.decidedBy === undefined ? {} : { decidedBy: request.decidedBy }),
    };
    ctx.observe.log.info(event, "approval decided");
    ctx.observe.emit("approval-decided", {
      ...event,
      ...(comment === undefined ? {} : { comment }),
      at: request.decidedAt ?? ctx.now(),
    });
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
      operate(ctx, actor, "campaign.publish", target("campaign.stop", id), async (a) =>
        stopCampaign(ctx, runner, a.id, await findCampaign(ctx, id)),
      ),
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
          const approved = await ctx.repos.requests.create({ ...request, decidedAt: ctx.now() });
          const outcome = await withRequest(approved, () => goLive(a, campaign, "activate"), withdrawn);
          requested(approved.value);
          return { ...outcome, detail: { requestId: request.id, autoApproved: true } };
        }
        const outcome = await withRequest(
          await ctx.repos.requests.create(request),
          () => transitionCampaign(ctx, a.id, campaign, "request-approval"),
          withdrawn,
        );
        requested(request);
        return { ...outcome, detail: { requestId: request.id, policyId: policy.id } };
      }),
    approve: ({ actor, id, comment }) =>
      operate(ctx, actor, "campaign.approve", target("campaign.approve", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const pending = await pendingRequest(campaign);
        await requireApprover(a, pending.value);
        await requirePrerequisites(ctx, a, "approve", campaign);
        const approved = await decide(pending, decided(a, pending.value, "approved", comment));
        const outcome = await withRequest(approved, () => goLive(a, campaign, "approve"), pending.value);
        decidedEvent(approved.value, "approved", comment);
        return { ...outcome, detail: { requestId: pending.value.id } };
      }),
    requestChanges: ({ actor, id, comment }) =>
      operate(ctx, actor, "campaign.approve", target("campaign.request-changes", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const pending = await pendingRequest(campaign);
        await requireApprover(a, pending.value);
        const changes = await decide(pending, decided(a, pending.value, "changes-requested", comment));
        const outcome = await withRequest(
          changes,
          () => transitionCampaign(ctx, a.id, campaign, "request-changes"),
          pending.value,
        );
        decidedEvent(changes.value, "changes-requested", comment);
        return { ...outcome, detail: { requestId: pending.value.id, comment } };
      }),
    cancelApproval: ({ actor, id }) =>
      operate(ctx, actor, "campaign.write", target("campaign.cancel-approval", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const pending = await pendingRequest(campaign);
        const withdrawn = await decide(pending, decided(a, pending.value, "cancelled"));
        const outcome = await withRequest(
          withdrawn,
          () => transitionCampaign(ctx, a.id, campaign, "cancel-approval"),
          pending.value,
        );
        decidedEvent(withdrawn.value, "cancelled");
        return { ...outcome, detail: { requestId: pending.value.id } };
      }),
    listRequests: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("campaign.approval-requests", id, true), async () => ({
        result: (await ctx.repos.requests.every({ campaignId: id })).sort(
          (a, b) => a.requestedAt.getTime() - b.requestedAt.getTime() || (a.id < b.id ? -1 : 1),
        ),
      })),
  };
}
