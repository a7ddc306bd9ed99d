import type { Campaign, CampaignDraft } from "../../model/campaign.js";
import { configurationsOf } from "../../repositories/campaigns.js";
import type { KitContext, ResolvedActor } from "../context.js";
import { assertPrerequisites } from "./check.js";
import type { PrerequisiteInput, PrerequisiteIntent } from "./problems.js";

/** Looks up what the campaign's prerequisites depend on: its audience and each action's configuration. */
export async function prerequisiteInputs(
  ctx: KitContext,
  actor: ResolvedActor,
  intent: PrerequisiteIntent,
  campaign: CampaignDraft | Campaign,
): Promise<PrerequisiteInput> {
  const audienceId = campaign.audienceId;
  const [audience, configurations] = await Promise.all([
    audienceId === undefined ? undefined : ctx.repos.audiences.getCached(audienceId),
    configurationsOf(ctx, campaign),
  ]);
  return {
    actor: { id: actor.id, roles: actor.roles, groups: [...actor.groups] },
    customRoles: actor.customRoles,
    intent,
    campaign,
    audience: audience?.value,
    configurations,
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
