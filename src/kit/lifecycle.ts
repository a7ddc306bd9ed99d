import { z } from "zod";
import { isCampaignKitError } from "../errors.js";
import type { Runner } from "../executions/runner.js";
import { haltCampaign } from "../executions/stop.js";
import type { Campaign } from "../model/campaign.js";
import { instantSchema } from "../model/common.js";
import type { ExecutionStatus } from "../model/execution.js";
import { parseWith } from "../model/parse.js";
import { findCampaign, isRunning, saveCampaign, transitionCampaign } from "../repositories/campaigns.js";
import { executionIdFor } from "../repositories/index.js";
import { occurrencesBetween } from "../schedule/occurrences.js";
import type { LocalDateTime } from "../schedule/profile-time-zone.js";
import { type ActorRef, forbidden, type KitContext, operate, targetsOf } from "./context.js";

/** One occurrence of a scheduled campaign, for a calendar: when it is (or was) due and what became of it. */
export interface CalendarOccurrence {
  /** The campaign. */
  campaignId: string;
  /** 0 for the schedule's first occurrence, then 1, 2... */
  index: number;
  /** When it is due, in the campaign's time zone. */
  at: Date;
  /** Its wall time in the campaign's time zone (in each profile's, with `sendInProfileTimeZone`). */
  local: LocalDateTime;
  /**
   * `planned`: still to come (or due and not yet started by the scheduler); otherwise the status of the
   * execution that ran it (`in-progress`, `succeeded`, `failed`, `cancelled`).
   */
  status: "planned" | Exclude<ExecutionStatus, "scheduled">;
  /** The execution that ran it, once the scheduler started it. */
  executionId?: string;
}

/** The rest of a campaign's life: archiving, tags on any status, and its calendar. */
export interface LifecycleApi {
  /**
   * Archives a campaign of any status but draft (`INVALID_TRANSITION` for a draft: delete it instead).
   * Archiving a live or scheduled campaign stops it first, exactly as `stop` does (its sends in this process
   * are aborted, its open executions, future occurrences and deferred triggers cancelled), and so needs
   * `campaign.publish` as well as `campaign.write`; the audit entry lists the executions it cancelled.
   * Archiving a campaign in review cancels its pending approval request. An archived campaign is purged
   * by the scheduler once the kit's `lifecycle.archiveRetentionDays` have passed. Needs `campaign.write`.
   */
  archive(params: { actor: ActorRef; id: string }): Promise<Campaign>;
  /**
   * Edits a campaign's tags, whatever its status (archived included): `set` replaces them, then `add` and
   * `remove` apply. Concurrent edits all land (each applies to the campaign as stored). Needs
   * `campaign.write`.
   */
  editTags(params: {
    actor: ActorRef;
    id: string;
    set?: readonly string[];
    add?: readonly string[];
    remove?: readonly string[];
  }): Promise<Campaign>;
  /**
   * The campaign's occurrences due in `[from, to)`, oldest first, at most `limit` (default and maximum 1000),
   * for a calendar view: past ones with the status of the execution that ran them, future ones `planned`. A
   * draft's are projected as if it were activated now; a campaign that no longer runs (stopped, completed,
   * failed, archived) lists only the occurrences that ran. An API-triggered campaign has none: it sends when
   * called. Needs `campaign.read`.
   */
  occurrences(params: {
    actor: ActorRef;
    id: string;
    from: Date | string;
    to: Date | string;
    limit?: number;
  }): Promise<CalendarOccurrence[]>;
}

const tagsSchema = z.array(z.string().min(1, "A tag can't be empty").max(100)).optional();
const tagEditSchema = z
  .object({ set: tagsSchema, add: tagsSchema, remove: tagsSchema })
  .refine((edit) => edit.set !== undefined || edit.add !== undefined || edit.remove !== undefined, {
    message: "Pass `set`, `add` or `remove`",
  });

const MAX_OCCURRENCES = 1000;
const rangeSchema = z
  .object({
    from: instantSchema,
    to: instantSchema,
    limit: z.number().int().min(1).max(MAX_OCCURRENCES).default(MAX_OCCURRENCES),
  })
  .refine((range) => range.to > range.from, { message: "`to` must be after `from`", path: ["to"] });

/** How many times a tag edit reads the campaign again when another write landed first. */
const TAG_EDIT_ATTEMPTS = 10;

/** Builds the lifecycle API. */
export function lifecycleApi(ctx: KitContext, runner: Runner): LifecycleApi {
  const target = targetsOf("campaign");

  /** Cancels the campaign's pending approval requests: an archived campaign can never be approved. */
  async function withdrawRequests(actorId: string, campaign: Campaign): Promise<string[]> {
    const withdrawn: string[] = [];
    for (const request of await ctx.repos.requests.every({ campaignId: campaign.id, status: "pending" })) {
      await ctx.repos.requests.update(request.id, (current) =>
        current.status === "pending"
          ? { ...current, status: "cancelled", decidedBy: actorId, decidedAt: ctx.now() }
          : undefined,
      );
      withdrawn.push(request.id);
    }
    return withdrawn;
  }

  return {
    archive: ({ actor, id }) =>
      operate(ctx, actor, "campaign.write", target("campaign.archive", id), async (a) => {
        const campaign = await findCampaign(ctx, id);
        const running = isRunning(campaign);
        if (running && !a.permissions.has("campaign.publish")) {
          // Archiving a running campaign stops it: that takes the permission stopping takes.
          throw forbidden(a, "campaign.publish", {
            action: "campaign.archive",
            objectType: "campaign",
            objectId: id,
          });
        }
        const change = await transitionCampaign(ctx, a.id, campaign, "archive", { archivedAt: ctx.now() });
        const detail: Record<string, unknown> = {};
        if (running) {
          detail.stopped = true;
          detail.cancelledExecutions = await haltCampaign(ctx, runner, change.result);
        }
        if (campaign.status === "in-review") {
          detail.cancelledRequests = await withdrawRequests(a.id, campaign);
        }
        return { ...change, detail };
      }),
    editTags: ({ actor, id, ...edit }) =>
      operate(ctx, actor, "campaign.write", target("campaign.edit-tags", id), async (a) => {
        const { set, add = [], remove = [] } = parseWith(tagEditSchema, edit, "tag edit");
        for (let attempt = 1; ; attempt++) {
          const campaign = await findCampaign(ctx, id);
          const removed = new Set(remove);
          const tags = [...new Set([...(set ?? campaign.tags), ...add])].filter((tag) => !removed.has(tag));
          try {
            const change = await saveCampaign(ctx, a.id, campaign, { tags });
            return { result: change.result, detail: { before: campaign.tags, tags } };
          } catch (error) {
            if (!isCampaignKitError(error, "CONFLICT") || attempt >= TAG_EDIT_ATTEMPTS) throw error;
          }
        }
      }),
    occurrences: ({ actor, id, from, to, limit }) =>
      operate(ctx, actor, "campaign.read", target("campaign.occurrences", id, true), async () => {
        const range = parseWith(rangeSchema, { from, to, limit }, "occurrence range");
        const campaign = await findCampaign(ctx, id);
        return { result: await calendarOf(ctx, campaign, range) };
      }),
  };
}

/** The occurrences of `campaign` in the range, each with what became of it. */
async function calendarOf(
  ctx: KitContext,
  campaign: Campaign,
  range: { from: Date; to: Date; limit: number },
): Promise<CalendarOccurrence[]> {
  if (campaign.type !== "scheduled") return [];
  const schedule = campaign.schedule ?? { timeZone: "UTC", sendInProfileTimeZone: false };
  const projected = campaign.status === "draft" || campaign.status === "in-review";
  const activatedAt = projected ? ctx.now() : campaign.activatedAt;
  if (activatedAt === undefined && schedule.startAt === undefined) return [];
  const due = occurrencesBetween(schedule, { ...range, ...(activatedAt ? { activatedAt } : {}) });
  const executions = projected
    ? new Map()
    : new Map(
        (await ctx.repos.executions.every({ campaignId: campaign.id, kind: "occurrence" })).map((e) => [
          e.id,
          e,
        ]),
      );
  const calendar: CalendarOccurrence[] = [];
  for (const occurrence of due) {
    const executionId = executionIdFor(campaign.id, `occurrence:${occurrence.key}`);
    const execution = executions.get(executionId);
    const item: CalendarOccurrence = {
      campaignId: campaign.id,
      index: occurrence.index,
      at: occurrence.at,
      local: occurrence.local,
      status: "planned",
    };
    if (execution) {
      item.status = execution.status === "scheduled" ? "planned" : execution.status;
      item.executionId = executionId;
    } else if (!projected && !isRunning(campaign)) {
      continue; // It never ran and, the campaign no longer running, never will.
    }
    calendar.push(item);
  }
  return calendar;
}
