import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import { applyLifecycleAction, type LifecycleAction } from "../model/status-machine.js";
import type { Context } from "./context.js";

/** A write to a campaign, as the audit log records it: the campaign after, and the status change. */
export interface CampaignChange {
  result: Campaign;
  fromStatus: string;
  toStatus: string;
}

/** The campaign, or `NOT_FOUND`. A campaign's `version` is its document's: what its next write names. */
export async function findCampaign(ctx: Context, id: string): Promise<Campaign> {
  return (await ctx.repos.campaigns.find(id)).value;
}

/**
 * The campaign as last known, or `NOT_FOUND`: from the read cache when the kit keeps one (frozen), for
 * checks that only read it, such as a trigger's.
 */
export async function readCampaign(ctx: Context, id: string): Promise<Campaign> {
  return (await ctx.repos.campaigns.findCached(id)).value;
}

/** The campaign, or `undefined`. */
export async function getCampaign(ctx: Context, id: string): Promise<Campaign | undefined> {
  return (await ctx.repos.campaigns.get(id))?.value;
}

/** Whether a campaign is running: live, or scheduled (its start or next occurrence will send). */
export function isRunning(campaign: Campaign | undefined): campaign is Campaign {
  return campaign?.status === "live" || campaign?.status === "scheduled";
}

/** Whether the campaign's schedule starts after `now`: activation then leads to `scheduled`. */
export function startsLater(campaign: Pick<Campaign, "schedule">, now: Date): boolean {
  const startAt = campaign.schedule?.startAt;
  return startAt !== undefined && startAt.getTime() > now.getTime();
}

/**
 * Writes `campaign` with `changes` as its next version, by compare-and-set on the version it was read at
 * (`CONFLICT` when someone wrote since).
 */
export async function saveCampaign(
  ctx: Context,
  actorId: string,
  campaign: Campaign,
  changes: Partial<Campaign>,
): Promise<CampaignChange> {
  const next = {
    ...campaign,
    ...changes,
    version: campaign.version + 1,
    updatedAt: ctx.now(),
    updatedBy: actorId,
  } as Campaign;
  await ctx.repos.campaigns.replace({ value: campaign, version: campaign.version }, next);
  if (next.status !== campaign.status) {
    const change = {
      campaignId: next.id,
      from: campaign.status,
      to: next.status,
      actorId,
      version: next.version,
    };
    ctx.observe.log.info(change, "campaign status changed");
    ctx.observe.emit("campaign-status-changed", { ...change, at: next.updatedAt });
  }
  return { result: next, fromStatus: campaign.status, toStatus: next.status };
}

/** Applies a lifecycle action through the status machine and saves the result. */
export async function transitionCampaign(
  ctx: Context,
  actorId: string,
  campaign: Campaign,
  action: LifecycleAction,
  changes: Partial<Campaign> = {},
): Promise<CampaignChange> {
  const status = applyLifecycleAction(campaign.status, action, {
    startsLater: startsLater(campaign, ctx.now()),
  });
  const activating = action === "activate" || action === "approve";
  return saveCampaign(ctx, actorId, campaign, {
    ...changes,
    ...(status ? { status } : {}),
    ...(activating ? { activatedAt: ctx.now() } : {}),
  });
}

/** Every campaign in `statuses`, streamed page by page. */
export function campaignsIn(ctx: Context, statuses: readonly Campaign["status"][]): AsyncGenerator<Campaign> {
  return ctx.repos.campaigns.all({ status: { in: statuses } });
}

/**
 * The channel configurations `campaign`'s actions name, by id; absent ones are left out. From the read cache
 * when the kit keeps one: frozen, for reading.
 */
export async function configurationsOf(
  ctx: Context,
  campaign: Pick<Campaign, "actions">,
): Promise<Map<string, ChannelConfiguration>> {
  const found = await Promise.all(
    campaign.actions.map((action) => ctx.repos.configurations.getCached(action.channelConfigurationId)),
  );
  return new Map(found.flatMap((c) => (c ? [[c.value.id, c.value] as const] : [])));
}
