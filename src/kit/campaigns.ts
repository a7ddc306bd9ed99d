import { z } from "zod";
import { CampaignKitError, isCampaignKitError } from "../errors.js";
import {
  type Campaign,
  type CampaignDraftInput,
  campaignDraftSchema,
  campaignSchema,
} from "../model/campaign.js";
import type { Category, Channel, ReadonlyDeep } from "../model/common.js";
import { parseWith } from "../model/parse.js";
import type { CampaignStatus } from "../model/status-machine.js";
import { applyLifecycleAction } from "../model/status-machine.js";
import { type Page, type PageParams, pageLimit, type Where } from "../ports/storage.js";
import { findCampaign, getCampaign, isRunning, saveCampaign } from "../repositories/campaigns.js";
import { type ActorRef, type KitContext, operate, type ResolvedActor, targetsOf } from "./context.js";
import { checkPrerequisites } from "./prerequisites/check.js";
import { prerequisiteInputs, requirePrerequisites } from "./prerequisites/inputs.js";
import {
  PREREQUISITE_INTENTS,
  type PrerequisiteIntent,
  type PrerequisiteResult,
} from "./prerequisites/problems.js";

/** Filters for {@link CampaignsApi.list}; every given filter must hold. */
export interface CampaignFilter {
  /** Campaigns in any of these statuses. */
  status?: readonly CampaignStatus[];
  /** Campaigns of this type (`scheduled` or `api-triggered`). */
  type?: Campaign["type"];
  /** Campaigns of this category (`marketing` or `transactional`). */
  category?: Category;
  /** Campaigns with an action on this channel. */
  channel?: Channel;
  /** Campaigns with all of these tags. */
  tags?: readonly string[];
  /** Case-insensitive substring of the name. */
  text?: string;
  /** New versions of this (live) campaign. */
  replacesCampaignId?: string;
}

/** The conditions storage can check for `filter`; the name's substring is checked on what it returns. */
function whereOf(filter: CampaignFilter): Where {
  const where: Record<string, Where[string]> = {};
  if (filter.status) where.status = { in: filter.status };
  if (filter.type) where.type = filter.type;
  if (filter.category) where.category = filter.category;
  if (filter.channel) where.channels = filter.channel;
  if (filter.tags?.length) where.tags = { all: filter.tags };
  if (filter.replacesCampaignId) where.replacesCampaignId = filter.replacesCampaignId;
  return where;
}

/** Campaign authoring: create, read, edit drafts, duplicate, delete, and new versions of live ones. */
export interface CampaignsApi {
  /**
   * Creates a draft campaign, after checking every prerequisite (permission, audience, configurations,
   * content, schedule); refuses with `PREREQUISITES_UNMET` listing all problems. Needs `campaign.write`.
   */
  create(params: {
    actor: ActorRef;
    campaign: ReadonlyDeep<CampaignDraftInput> & { id?: string };
  }): Promise<Campaign>;
  /** The campaign; `NOT_FOUND` when absent. Needs `campaign.read`. */
  get(params: { actor: ActorRef; id: string }): Promise<Campaign>;
  /** Campaigns matching `filter`, by id, paged. Needs `campaign.read`. */
  list(params: { actor: ActorRef; filter?: CampaignFilter } & PageParams): Promise<Page<Campaign>>;
  /**
   * Edits a draft (`NOT_EDITABLE` otherwise). With `expectedVersion`, a campaign changed since it was read
   * fails with `CONFLICT`. Needs `campaign.write`.
   */
  update(params: {
    actor: ActorRef;
    id: string;
    changes: ReadonlyDeep<Partial<CampaignDraftInput>>;
    expectedVersion?: number;
  }): Promise<Campaign>;
  /**
   * Copies a campaign of any status (archived included) into a new draft: a new id (`newId`, or a fresh one),
   * `name` or the source's name with " (copy)", and the source's content (type, category, tags, actions,
   * audience, schedule, delivery controls, API-trigger settings). None of its history comes along: no
   * status, versions, activation or archive date, approval requests, executions or deliveries, nor its link
   * to a campaign it was a new version of. Needs `campaign.write`.
   */
  duplicate(params: { actor: ActorRef; id: string; newId?: string; name?: string }): Promise<Campaign>;
  /**
   * Deletes a draft (`INVALID_TRANSITION` for any other status: archive it instead), with its approval
   * requests; the audit log keeps its history. Needs `campaign.delete`.
   */
  delete(params: { actor: ActorRef; id: string }): Promise<void>;
  /**
   * Modifying a live recurring campaign: creates a new draft version beside it; activating that draft
   * replaces (stops) the live one. Needs `campaign.write`.
   */
  createVersion(params: { actor: ActorRef; id: string; newId?: string }): Promise<Campaign>;
  /** Every unmet prerequisite for `intent`, without changing anything. Needs `campaign.read`. */
  check(params: { actor: ActorRef; id: string; intent: PrerequisiteIntent }): Promise<PrerequisiteResult>;
}

const intentSchema = z.enum(PREREQUISITE_INTENTS as [PrerequisiteIntent, ...PrerequisiteIntent[]], {
  error: `Expected \`intent\` to be one of: ${PREREQUISITE_INTENTS.join(", ")}`,
});

const draftFields = (campaign: Campaign) => {
  const {
    id,
    status,
    version,
    createdAt,
    updatedAt,
    createdBy,
    updatedBy,
    activatedAt,
    archivedAt,
    replacesCampaignId,
    openVersionId,
    ...draft
  } = campaign;
  return draft;
};

/** Builds the campaigns API. */
export function campaignsApi(ctx: KitContext): CampaignsApi {
  const target = targetsOf("campaign");

  async function insert(actorId: string, fields: Record<string, unknown>): Promise<Campaign> {
    const now = ctx.now();
    const campaign = parseWith(
      campaignSchema,
      {
        ...fields,
        status: "draft",
        version: 1,
        createdAt: now,
        updatedAt: now,
        createdBy: actorId,
        updatedBy: actorId,
      },
      "campaign",
    );
    await ctx.repos.campaigns.create(campaign);
    return campaign;
  }

  /**
   * One page of campaigns matching `filter`. Storage checks all but the name's substring, which is checked
   * here, reading on until the page is full so that a filter by name still fills pages.
   */
  async function listCampaigns(filter: CampaignFilter, page: PageParams): Promise<Page<Campaign>> {
    const text = filter.text?.toLowerCase();
    if (text === undefined) return ctx.repos.campaigns.list(whereOf(filter), page);
    const limit = pageLimit(page);
    const items: Campaign[] = [];
    let cursor = page.cursor;
    for (;;) {
      const read = await ctx.repos.campaigns.list(whereOf(filter), {
        limit: 500,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const campaign of read.items) {
        if (!campaign.name.toLowerCase().includes(text)) continue;
        if (items.length === limit) return { items, nextCursor: items[limit - 1]?.id as string };
        items.push(campaign);
      }
      if (read.nextCursor === undefined) return { items };
      cursor = read.nextCursor;
    }
  }

  async function liveRecurring(id: string): Promise<Campaign> {
    const live = await findCampaign(ctx, id);
    if (!isRunning(live) || !live.schedule?.recurrence) {
      throw new CampaignKitError(
        "WRONG_CAMPAIGN_TYPE",
        `Campaign '${id}' is not a live recurring campaign; edit a draft directly or duplicate it.`,
        { details: { status: live.status } },
      );
    }
    return live;
  }

  /**
   * Records `versionId` as the live campaign's one open version, by compare-and-set on the campaign: of two
   * concurrent calls, one claims and the other, reading again, finds that claim. The version is written
   * before it is claimed, so a claim always names a version that exists; one that has since left draft and
   * review (deleted, archived) is free to take again.
   */
  async function claimVersion(actor: ResolvedActor, id: string, versionId: string): Promise<void> {
    for (;;) {
      const live = await liveRecurring(id);
      const open = live.openVersionId ? await getCampaign(ctx, live.openVersionId) : undefined;
      const inProgress = open?.status === "draft" || open?.status === "in-review";
      if (open && inProgress && open.replacesCampaignId === id) {
        throw new CampaignKitError(
          "ALREADY_EXISTS",
          `Campaign '${id}' already has a new version in progress: '${open.id}'. Edit that one.`,
          { details: { versionId: open.id } },
        );
      }
      try {
        await saveCampaign(ctx, actor.id, live, { openVersionId: versionId });
        return;
      } catch (error) {
        if (!isCampaignKitError(error, "CONFLICT")) throw error;
      }
    }
  }

  return {
    create: ({ actor, campaign }) =>
      operate(ctx, actor, "campaign.write", target("campaign.create", campaign?.id ?? "(new)"), async (a) => {
        const { id, ...fields } = campaign ?? ({} as CampaignDraftInput & { id?: string });
        const draft = parseWith(campaignDraftSchema, fields, "campaign");
        await requirePrerequisites(ctx, a, "create", draft);
        const created = await insert(a.id, { ...draft, id: id ?? ctx.newId() });
        return { result: created, toStatus: created.status, detail: { campaignId: created.id } };
      }),
    get: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("campaign.read", id, true), async () => ({
        result: await findCampaign(ctx, id),
      })),
    list: ({ actor, filter = {}, ...page }) =>
      operate(ctx, actor, "campaign.read", target("campaign.list", "*", true), async () => ({
        result: await listCampaigns(filter, page),
      })),
    update: ({ actor, id, changes, expectedVersion }) =>
      operate(ctx, actor, "campaign.write", target("campaign.update", id), async (a) => {
        const current = await findCampaign(ctx, id);
        if (expectedVersion !== undefined && expectedVersion !== current.version) {
          throw new CampaignKitError(
            "CONFLICT",
            `Campaign '${id}' is at version ${current.version}, not ${expectedVersion}: read it again and reapply your changes.`,
            { details: { expectedVersion, actualVersion: current.version } },
          );
        }
        if (current.status !== "draft") {
          throw new CampaignKitError(
            "NOT_EDITABLE",
            `Campaign '${id}' is ${current.status}; only drafts can be edited.` +
              (current.status === "in-review"
                ? " Cancel the approval request first."
                : " Create a new version."),
            { details: { status: current.status } },
          );
        }
        const draft = parseWith(campaignDraftSchema, { ...draftFields(current), ...changes }, "campaign");
        await requirePrerequisites(ctx, a, "update", draft);
        return saveCampaign(ctx, a.id, current, draft as Partial<Campaign>);
      }),
    duplicate: ({ actor, id, newId, name }) =>
      operate(ctx, actor, "campaign.write", target("campaign.duplicate", id), async (a) => {
        const source = await findCampaign(ctx, id);
        const copy = await insert(a.id, {
          ...draftFields(source),
          id: newId ?? ctx.newId(),
          name: name ?? `${source.name} (copy)`.slice(0, 200),
        });
        return { result: copy, toStatus: copy.status, detail: { copyId: copy.id } };
      }),
    delete: ({ actor, id }) =>
      operate(ctx, actor, "campaign.delete", target("campaign.delete", id), async () => {
        const current = await findCampaign(ctx, id);
        applyLifecycleAction(current.status, "delete");
        const deleted = await ctx.repos.campaigns.delete(id, current.version);
        if (deleted !== "ok") {
          throw new CampaignKitError(
            deleted === "missing" ? "NOT_FOUND" : "CONFLICT",
            `Campaign '${id}' changed while it was being deleted; read it again and retry.`,
            { details: { id, expectedVersion: current.version } },
          );
        }
        // A draft's requests were all decided (changes requested, cancelled): nothing else refers to them.
        for (const request of await ctx.repos.requests.every({ campaignId: id })) {
          await ctx.repos.requests.delete(request.id);
        }
        return { result: undefined, fromStatus: current.status };
      }),
    createVersion: ({ actor, id, newId }) =>
      operate(ctx, actor, "campaign.write", target("campaign.create-version", id), async (a) => {
        const live = await liveRecurring(id);
        const version = await insert(a.id, {
          ...draftFields(live),
          id: newId ?? ctx.newId(),
          replacesCampaignId: id,
        });
        try {
          await claimVersion(a, id, version.id);
        } catch (error) {
          // Another call claimed first: this draft can never replace the campaign, so it must not linger.
          await ctx.repos.campaigns.delete(version.id, version.version).catch(() => {});
          throw error;
        }
        return { result: version, toStatus: version.status, detail: { versionId: version.id } };
      }),
    check: ({ actor, id, intent }) =>
      operate(ctx, actor, "campaign.read", target("campaign.check", id, true), async (a) => {
        parseWith(intentSchema, intent, "intent");
        const campaign = await findCampaign(ctx, id);
        return { result: checkPrerequisites(await prerequisiteInputs(ctx, a, intent, campaign)) };
      }),
  };
}
