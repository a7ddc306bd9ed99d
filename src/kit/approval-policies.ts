import { type ApprovalPolicy, type ApprovalPolicyInput, approvalPolicySchema } from "../model/approval.js";
import type { Campaign } from "../model/campaign.js";
import type { ReadonlyDeep } from "../model/common.js";
import { parseWith } from "../model/parse.js";
import { type ActorRef, type KitContext, operate, type ResolvedActor, targetsOf } from "./context.js";

/** Approval policies. Writes need `role.manage` (administrators); reading them needs `campaign.read`. */
export interface ApprovalPoliciesApi {
  /**
   * Defines or replaces a policy. A new one starts inactive unless `status: "active"` is given; replacing one
   * keeps its status (unless given) and, while it stays active, its activation time.
   */
  define(params: { actor: ActorRef; policy: ReadonlyDeep<ApprovalPolicyInput> }): Promise<ApprovalPolicy>;
  /** Activates a policy; among several matching policies, the most recently activated wins. */
  activate(params: { actor: ActorRef; id: string }): Promise<ApprovalPolicy>;
  /** Deactivates a policy. */
  deactivate(params: { actor: ActorRef; id: string }): Promise<ApprovalPolicy>;
  /** Every policy. */
  list(params: { actor: ActorRef }): Promise<ApprovalPolicy[]>;
}

const matchesAny = <T>(wanted: readonly T[] | undefined, has: (value: T) => boolean) =>
  wanted === undefined || wanted.length === 0 || wanted.some(has);

/** Whether `policy`'s conditions all hold for `campaign` requested by `requester`. */
export function policyMatches(
  policy: ApprovalPolicy,
  campaign: Campaign,
  requester: Pick<ResolvedActor, "id" | "groups">,
): boolean {
  const c = policy.conditions;
  return (
    matchesAny(c.types, (t) => t === campaign.type) &&
    matchesAny(c.categories, (category) => category === campaign.category) &&
    matchesAny(c.channels, (channel) => campaign.actions.some((a) => a.channel === channel)) &&
    matchesAny(c.tags, (tag) => campaign.tags.includes(tag)) &&
    matchesAny(c.requesters, (id) => id === requester.id) &&
    matchesAny(c.requesterGroups, (group) => requester.groups.includes(group))
  );
}

/** The active policy that governs `campaign` for `requester`: the most recently activated match. */
export async function governingPolicy(
  ctx: KitContext,
  campaign: Campaign,
  requester: Pick<ResolvedActor, "id" | "groups">,
): Promise<ApprovalPolicy | undefined> {
  let winner: ApprovalPolicy | undefined;
  for await (const policy of ctx.repos.policies.all({ status: "active" })) {
    if (!policyMatches(policy, campaign, requester)) continue;
    if (!winner || (policy.activatedAt?.getTime() ?? 0) > (winner.activatedAt?.getTime() ?? 0))
      winner = policy;
  }
  return winner;
}

/** Builds the approval policies API. */
export function approvalPoliciesApi(ctx: KitContext): ApprovalPoliciesApi {
  const target = targetsOf("approval-policy");
  const policies = ctx.repos.policies;
  async function setStatus(id: string, status: ApprovalPolicy["status"]) {
    const current = await policies.find(id);
    const next: ApprovalPolicy = { ...current.value, status };
    if (status === "active") next.activatedAt = ctx.now();
    await policies.replace(current, next);
    return { result: next, fromStatus: current.value.status, toStatus: status };
  }

  return {
    define: ({ actor, policy }) =>
      operate(ctx, actor, "role.manage", target("approval-policy.define", policy?.id), async () => {
        const parsed = parseWith(approvalPolicySchema, policy, "approval policy");
        const stored = await policies.get(parsed.id);
        const current = stored?.value;
        // Editing a policy's rules must not reorder which policy wins ("most recently activated") nor switch
        // it off: the status and activation time change only when the status given differs from the stored.
        const statusGiven = policy !== null && typeof policy === "object" && "status" in policy;
        const status = statusGiven ? parsed.status : (current?.status ?? parsed.status);
        const next: ApprovalPolicy = { ...parsed, status };
        delete next.activatedAt;
        if (status === "active") {
          const activatedAt = current?.status === "active" ? current.activatedAt : undefined;
          next.activatedAt = activatedAt ?? ctx.now();
        }
        if (stored) await policies.replace(stored, next);
        else await policies.create(next);
        return { result: next, ...(current ? { fromStatus: current.status } : {}), toStatus: next.status };
      }),
    activate: ({ actor, id }) =>
      operate(ctx, actor, "role.manage", target("approval-policy.activate", id), () =>
        setStatus(id, "active"),
      ),
    deactivate: ({ actor, id }) =>
      operate(ctx, actor, "role.manage", target("approval-policy.deactivate", id), () =>
        setStatus(id, "inactive"),
      ),
    list: ({ actor }) =>
      operate(ctx, actor, "campaign.read", target("approval-policy.list", "*", true), async () => ({
        result: await policies.every(),
      })),
  };
}
