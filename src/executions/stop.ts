import { isCampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import { audit } from "../repositories/audit.js";
import {
  type CampaignChange,
  getCampaign,
  isRunning,
  transitionCampaign,
} from "../repositories/campaigns.js";
import type { Context } from "../repositories/context.js";
import type { Runner } from "./runner.js";

/**
 * Everything stopping a campaign does beyond its status, in one place: this process's sends for it are
 * aborted (what was sent stays in the ledger; nothing more goes out), and its open executions (future
 * occurrences, deferred triggers, unsent waves and time zones) are cancelled. Other processes notice the stop
 * with their next claim renewal and abort their own sends. Returns the ids of the executions it cancelled.
 */
export async function haltCampaign(
  ctx: Context,
  runner: Runner,
  campaign: Pick<Campaign, "id">,
): Promise<string[]> {
  await runner.abortCampaign(campaign.id);
  const cancelled: string[] = [];
  for await (const execution of ctx.repos.executions.all({
    campaignId: campaign.id,
    status: { in: ["scheduled", "in-progress"] },
  })) {
    let changed = false;
    await ctx.repos.executions.update(execution.id, (current) => {
      changed = current.status === "scheduled" || current.status === "in-progress";
      return changed ? { ...current, status: "cancelled", finishedAt: ctx.now() } : undefined;
    });
    if (changed) cancelled.push(execution.id);
  }
  return cancelled;
}

/** Stops a running campaign: the status change, then {@link haltCampaign}. */
export async function stopCampaign(
  ctx: Context,
  runner: Runner,
  actorId: string,
  campaign: Campaign,
): Promise<CampaignChange> {
  const change = await transitionCampaign(ctx, actorId, campaign, "stop");
  await haltCampaign(ctx, runner, change.result);
  return change;
}

/**
 * Stops the version a newly live campaign (`byId`) replaces, audited as done by `actorId`. Another writer
 * (the scheduler starting it) may move it at the same moment: read it again and retry, so that two versions
 * never stay live side by side. The scheduler calls it too, for a retirement that failed at activation.
 */
export async function retireReplaced(
  ctx: Context,
  runner: Runner,
  actorId: string,
  replacedId: string,
  byId: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const replaced = await getCampaign(ctx, replacedId);
    if (!isRunning(replaced)) return;
    try {
      const stopped = await stopCampaign(ctx, runner, actorId, replaced);
      await audit(
        ctx,
        actorId,
        { action: "campaign.stop", objectType: "campaign", objectId: replacedId },
        "allowed",
        {
          ...stopped,
          detail: { replacedBy: byId },
        },
      );
      return;
    } catch (error) {
      if (!isCampaignKitError(error, "CONFLICT") || attempt >= 5) throw error;
    }
  }
}
