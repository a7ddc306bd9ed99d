import type { Campaign } from "../model/campaign.js";
import { applyLifecycleAction } from "../model/status-machine.js";
import { audit } from "../repositories/audit.js";
import type { Context } from "../repositories/context.js";

/** What purging one campaign removed, as its audit entry records it. */
export interface PurgeCounts {
  /** Executions removed (occurrences and API triggers, whatever their status). */
  executions: number;
  /** Held-back slices of those executions removed. */
  slices: number;
  /** Approval requests of the campaign removed. */
  approvalRequests: number;
}

/**
 * Removes an archived campaign whose retention period is over, with what only it refers to: its executions,
 * their slices and its approval requests. What stays: the audit log (every entry about the campaign, and the
 * `campaign.purge` entry this writes with the counts), and the delivery ledger (what was sent to whom, which
 * frequency caps and reports across campaigns still count; the ledger contract has no delete). Its children
 * go first and the campaign last, by compare-and-set on the version read: a purge cut short leaves the
 * campaign archived, and a later tick finishes it. Returns whether this call removed the campaign.
 */
export async function purgeCampaign(ctx: Context, actorId: string, campaign: Campaign): Promise<boolean> {
  applyLifecycleAction(campaign.status, "purge");
  const counts: PurgeCounts = { executions: 0, slices: 0, approvalRequests: 0 };
  for (const execution of await ctx.repos.executions.every({ campaignId: campaign.id })) {
    for (const slice of await ctx.repos.slices.every({ executionId: execution.id })) {
      if ((await ctx.repos.slices.delete(slice.id)) === "ok") counts.slices++;
    }
    if ((await ctx.repos.executions.delete(execution.id)) === "ok") counts.executions++;
  }
  for (const request of await ctx.repos.requests.every({ campaignId: campaign.id })) {
    if ((await ctx.repos.requests.delete(request.id)) === "ok") counts.approvalRequests++;
  }
  // Another writer (a tag edit) since it was read: it stays archived, and the next tick purges it.
  if ((await ctx.repos.campaigns.delete(campaign.id, campaign.version)) !== "ok") return false;
  await audit(
    ctx,
    actorId,
    { action: "campaign.purge", objectType: "campaign", objectId: campaign.id },
    "allowed",
    {
      fromStatus: campaign.status,
      detail: { archivedAt: campaign.archivedAt?.toISOString(), ...counts },
    },
  );
  return true;
}
