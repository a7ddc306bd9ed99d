import type { Campaign, CampaignDraft } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import { applyLifecycleAction, type LifecycleAction } from "../model/status-machine.js";
import type { Storage } from "../ports/storage.js";
import { mustFind } from "./audiences.js";
import type { KitContext, OperationOutcome, ResolvedActor } from "./context.js";
import { assertPrerequisites } from "./prerequisites/check.js";
import type { PrerequisiteInput, PrerequisiteIntent } from "./prerequisites/problems.js";

/** The campaign, or `NOT_FOUND`. */
export function findCampaign(ctx: KitContext, id: string): Promise<Campaign> {
  return mustFind("campaign", id, ctx.storage.getCampaign({ id }));
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

/** Looks up what the campaign's prerequisites depend on: its audience and each action's configuration. */
export async function prerequisiteInputs(
  ctx: KitContext,
  actor: ResolvedActor,
  intent: PrerequisiteIntent,
  campaign: CampaignDraft | Campaign,
): Promise<PrerequisiteInput> {
  const audienceId = campaign.audienceId;
  const [audience, ...configurations] = await Promise.all([
    audienceId === undefined ? undefined : ctx.storage.getAudience({ id: audienceId }),
    ...campaign.actions.map((a) => ctx.storage.getChannelConfiguration({ id: a.channelConfigurationId })),
  ]);
  const byId = new Map<string, ChannelConfiguration>();
  for (const configuration of configurations) if (configuration) byId.set(configuration.id, configuration);
  return {
    actor: { id: actor.id, roles: actor.roles, groups: [...actor.groups] },
    customRoles: actor.customRoles,
    intent,
    campaign,
    audience,
    configurations: byId,
    now: ctx.now(),
    channels: ctx.channels,
  };
}

/** Throws `PREREQUISITES_UNMET` with every problem when any of the campaign's prerequisites is unmet. */
export async function requirePrerequisites(
  ctx: KitContext,
  actor: ResolvedActor,
  intent: PrerequisiteIntent,
  campaign: CampaignDraft | Campaign,
): Promise<void> {
  assertPrerequisites(await prerequisiteInputs(ctx, actor, intent, campaign));
}

/**
 * Writes `campaign` with `changes` as its next version, after the store's compare-and-set on its current
 * version; returns the outcome to audit.
 */
export async function saveCampaign(
  ctx: KitContext,
  actor: ResolvedActor,
  campaign: Campaign,
  changes: Partial<Campaign>,
): Promise<OperationOutcome<Campaign>> {
  const next = {
    ...campaign,
    ...changes,
    version: campaign.version + 1,
    updatedAt: ctx.now(),
    updatedBy: actor.id,
  } as Campaign;
  await ctx.storage.updateCampaign({ campaign: next, expectedVersion: campaign.version });
  return { result: next, fromStatus: campaign.status, toStatus: next.status };
}

/** Applies a lifecycle action through the status machine and saves the result. */
export async function transitionCampaign(
  ctx: KitContext,
  actor: ResolvedActor,
  campaign: Campaign,
  action: LifecycleAction,
  changes: Partial<Campaign> = {},
): Promise<OperationOutcome<Campaign>> {
  const status = applyLifecycleAction(campaign.status, action, {
    startsLater: startsLater(campaign, ctx.now()),
  });
  const activating = action === "activate" || action === "approve";
  return saveCampaign(ctx, actor, campaign, {
    ...changes,
    ...(status ? { status } : {}),
    ...(activating ? { activatedAt: ctx.now() } : {}),
  });
}

/** Every campaign in `statuses`, streamed page by page. */
export async function* campaignsIn(
  storage: Storage,
  statuses: readonly Campaign["status"][],
): AsyncGenerator<Campaign> {
  let cursor: string | undefined;
  do {
    const page = await storage.listCampaigns({
      filter: { status: statuses },
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}
