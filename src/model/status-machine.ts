import { CampaignKitError } from "../errors.js";

/** Every campaign status, in the reference product's words. */
export const CAMPAIGN_STATUSES = [
  "draft",
  "in-review",
  "scheduled",
  "live",
  "stopped",
  "completed",
  "failed",
  "archived",
] as const;
/** A campaign's status. */
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Every action that moves a campaign between statuses. */
export const LIFECYCLE_ACTIONS = [
  "activate",
  "request-approval",
  "approve",
  "request-changes",
  "cancel-approval",
  "start",
  "stop",
  "complete",
  "fail",
  "archive",
  "delete",
  "purge",
] as const;
/** An action on a campaign's status. */
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/**
 * Where each action leads from each status; an absent entry means "not allowed". `activate` and `approve` lead
 * to `live`, or to `scheduled` when the campaign starts later (see {@link applyLifecycleAction}); `delete` (of a
 * draft) and `purge` (of an archived campaign once its retention period is over) lead nowhere: the campaign is
 * removed. `start`, `complete`, `fail` and `purge` are the engine's own (the scheduler's).
 */
export const CAMPAIGN_TRANSITIONS: Readonly<
  Record<CampaignStatus, Readonly<Partial<Record<LifecycleAction, CampaignStatus | null>>>>
> = {
  draft: { activate: "live", "request-approval": "in-review", delete: null },
  "in-review": {
    approve: "live",
    "request-changes": "draft",
    "cancel-approval": "draft",
    archive: "archived",
  },
  scheduled: { start: "live", stop: "stopped", fail: "failed", complete: "completed", archive: "archived" },
  live: { stop: "stopped", complete: "completed", fail: "failed", archive: "archived" },
  stopped: { archive: "archived" },
  completed: { archive: "archived" },
  failed: { archive: "archived" },
  archived: { purge: null },
};

/** The actions allowed from `status`. */
export function allowedLifecycleActions(status: CampaignStatus): LifecycleAction[] {
  return Object.keys(CAMPAIGN_TRANSITIONS[status]) as LifecycleAction[];
}

/** What the transition needs to know beside the status and the action. */
export interface TransitionContext {
  /** Whether the campaign starts later than now: `activate` and `approve` then lead to `scheduled`. */
  startsLater?: boolean;
}

/**
 * The status `action` leads to from `status`, or `null` when it removes the campaign (`delete`, `purge`).
 *
 * @throws CampaignKitError `INVALID_TRANSITION`, naming the status, the action and the actions allowed there.
 * @example
 * ```ts
 * applyLifecycleAction("draft", "activate", { startsLater: true }); // "scheduled"
 * applyLifecycleAction("stopped", "activate"); // throws INVALID_TRANSITION
 * ```
 */
export function applyLifecycleAction(
  status: CampaignStatus,
  action: LifecycleAction,
  context: TransitionContext = {},
): CampaignStatus | null {
  const transitions = CAMPAIGN_TRANSITIONS[status];
  const next = transitions[action];
  if (next === undefined) {
    const allowed = allowedLifecycleActions(status);
    throw new CampaignKitError(
      "INVALID_TRANSITION",
      `Can't ${action} a campaign that is ${status}. Allowed from ${status}: ${allowed.length ? allowed.join(", ") : "nothing"}.` +
        (status === "stopped" ? " A stopped campaign can't be activated again; duplicate it instead." : ""),
      { details: { status, action, allowed } },
    );
  }
  return next === "live" && context.startsLater && (action === "activate" || action === "approve")
    ? "scheduled"
    : next;
}

/** Whether `action` is allowed from `status`. */
export function canApplyLifecycleAction(status: CampaignStatus, action: LifecycleAction): boolean {
  return CAMPAIGN_TRANSITIONS[status][action] !== undefined;
}
