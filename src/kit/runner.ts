import type { AudienceSource } from "../audiences/audience-source.js";
import type { Campaign } from "../domain/campaign.js";
import type { ChannelConfiguration } from "../domain/channel-configuration.js";
import type { Execution } from "../domain/execution.js";
import type { Profile } from "../domain/profile.js";
import type { Dispatcher } from "../engine/dispatcher.js";
import type { DispatchRequest } from "../engine/dispatcher-types.js";
import { CampaignKitError } from "../errors.js";
import type { ExecutionFilter, Storage } from "../storage/storage.js";
import type { KitContext } from "./context.js";
import { dueProfiles, type SliceStats, sliceSchedule } from "./slices.js";
import type { UnitaryRecipient } from "./trigger-payloads.js";
import { resolveUnitaryRecipients } from "./unitary-recipients.js";

/** Statuses an execution never leaves. */
export const FINISHED_EXECUTION = new Set<Execution["status"]>(["succeeded", "failed", "cancelled"]);

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  dispatcher: Dispatcher;
  audiences: AudienceSource | undefined;
  /** This process's name in leases. */
  owner: string;
  /** How long a lease on a running execution lasts before another process may take it over, in ms. */
  leaseMs: number;
}

/**
 * Runs executions through the dispatcher, each under a storage lease so that two processes (or two ticks)
 * never run one execution at once, and so that a crashed process's execution is resumed, without re-sending,
 * once its lease expires.
 */
export interface Runner {
  /** Starts (or joins) the execution in the background; resolves when this process is done with it. */
  launch(execution: Pick<Execution, "id" | "campaignId">): Promise<void>;
  /** Resolves when this process is done with the execution; at once when it isn't running it. */
  wait(executionId: string): Promise<void>;
  /** Aborts this process's sends for a campaign; the aborted executions end up `cancelled`. */
  abortCampaign(campaignId: string): Promise<void>;
  /** Resolves when this process's running executions are done. */
  idle(): Promise<void>;
  /** Aborts every running execution (they resume later, elsewhere or after a restart) and waits for them. */
  close(): Promise<void>;
}

/** Builds the runner. */
export function createRunner(ctx: KitContext, options: RunnerOptions): Runner {
  const running = new Map<
    string,
    { campaignId?: string; controller: AbortController; done: Promise<void> }
  >();

  async function save(execution: Execution, changes: Partial<Execution>): Promise<Execution> {
    const next = { ...execution, ...changes };
    for (const key of Object.keys(changes) as (keyof Execution)[])
      if (changes[key] === undefined) delete next[key];
    await ctx.storage.updateExecution({ execution: next });
    return next;
  }

  async function recipientsOf(
    execution: Execution,
    campaign: Campaign,
    stats: SliceStats,
    signal: AbortSignal,
  ): Promise<Pick<DispatchRequest, "recipients" | "recipientOverrides">> {
    const source = options.audiences;
    if (!source) {
      throw new CampaignKitError(
        "AUDIENCE_SOURCE_MISSING",
        "The kit has no `audiences` source to read recipients from.",
      );
    }
    if (execution.kind === "unitary") {
      const recipients = (execution.recipients ?? []) as UnitaryRecipient[];
      const resolved = await resolveUnitaryRecipients(source, campaign, recipients, true);
      stats.seen = resolved.profiles.length;
      return { recipients: [resolved.profiles], recipientOverrides: resolved.overrides };
    }
    const audienceId = execution.audienceId ?? campaign.audienceId;
    if (!audienceId)
      throw new CampaignKitError("NOT_FOUND", `Campaign '${campaign.id}' has no audience to send to.`);
    // Waves are cut from the audience's real size: counted on the first pass, then kept on the execution.
    const size = () =>
      execution.targetedProfileCount > 0
        ? execution.targetedProfileCount
        : countMembers(source, audienceId, signal);
    const dueAt = await sliceSchedule(campaign, execution, size);
    const pages = source.members({ audienceId, signal });
    return { recipients: dueProfiles(pages, dueAt, ctx.clock.now(), stats) };
  }

  async function configurationsOf(campaign: Campaign): Promise<Map<string, ChannelConfiguration>> {
    const found = await Promise.all(
      campaign.actions.map((a) => ctx.storage.getChannelConfiguration({ id: a.channelConfigurationId })),
    );
    return new Map(found.flatMap((c) => (c ? [[c.id, c] as const] : [])));
  }

  async function run(executionId: string, controller: AbortController): Promise<void> {
    const lease = { key: `execution:${executionId}`, owner: options.owner };
    if (!(await ctx.storage.acquireLease({ ...lease, ttlMs: options.leaseMs, now: ctx.now() }))) return;
    // Renew on real time: a virtual test clock must not spin this loop.
    const renewal = setInterval(() => {
      ctx.storage.acquireLease({ ...lease, ttlMs: options.leaseMs, now: ctx.now() }).catch(() => {});
    }, options.leaseMs / 3);
    renewal.unref();
    let execution = await ctx.storage.getExecution({ id: executionId });
    try {
      if (!execution || FINISHED_EXECUTION.has(execution.status)) return;
      if (execution.status === "scheduled" && (execution.executeAt?.getTime() ?? 0) > ctx.clock.now()) return;
      if (execution.resumeAt && execution.resumeAt.getTime() > ctx.clock.now()) return;
      const campaign = await ctx.storage.getCampaign({ id: execution.campaignId });
      if (!campaign || !(campaign.status === "live" || campaign.status === "scheduled")) {
        await save(execution, { status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined });
        return;
      }
      execution = await save(execution, {
        status: "in-progress",
        startedAt: execution.startedAt ?? ctx.now(),
      });
      const stats: SliceStats = { seen: 0 };
      const report = await options.dispatcher.dispatch({
        campaign,
        executionId,
        configurations: await configurationsOf(campaign),
        ...(execution.context ? { context: execution.context } : {}),
        ...(await recipientsOf(execution, campaign, stats, controller.signal)),
        signal: controller.signal,
      });
      const targeted = Math.max(execution.targetedProfileCount, stats.seen);
      if (report.aborted) {
        // Stopped campaigns cancel their executions; anything else (shutdown) resumes later from the ledger.
        const stopped = (await ctx.storage.getCampaign({ id: campaign.id }))?.status === "stopped";
        execution = await save(
          execution,
          stopped
            ? {
                status: "cancelled",
                targetedProfileCount: targeted,
                finishedAt: ctx.now(),
                resumeAt: undefined,
              }
            : { targetedProfileCount: targeted },
        );
        return;
      }
      const allFailed = report.outcomes.sent === 0 && report.outcomes.failed > 0;
      execution = await save(
        execution,
        stats.nextDueAt
          ? { targetedProfileCount: targeted, resumeAt: stats.nextDueAt }
          : {
              status: allFailed ? "failed" : "succeeded",
              targetedProfileCount: targeted,
              finishedAt: ctx.now(),
              resumeAt: undefined,
              ...(allFailed
                ? { error: `All ${report.outcomes.failed} messages failed; see the ledger for reasons.` }
                : {}),
            },
      );
    } catch (error) {
      if (execution) {
        const message = error instanceof Error ? error.message : String(error);
        await save(execution, {
          status: "failed",
          finishedAt: ctx.now(),
          error: message,
          resumeAt: undefined,
        }).catch(() => {});
      }
    } finally {
      clearInterval(renewal);
      await ctx.storage.releaseLease(lease).catch(() => {});
    }
  }

  return {
    launch({ id, campaignId }) {
      const current = running.get(id);
      if (current) return current.done;
      const controller = new AbortController();
      const done = run(id, controller).finally(() => running.delete(id));
      running.set(id, { campaignId, controller, done });
      return done;
    },
    wait: (executionId) => running.get(executionId)?.done ?? Promise.resolve(),
    async abortCampaign(campaignId) {
      const stopping = [...running.values()].filter((r) => r.campaignId === campaignId);
      for (const r of stopping)
        r.controller.abort(new CampaignKitError("INVALID_TRANSITION", "The campaign was stopped."));
      await Promise.all(stopping.map((r) => r.done));
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    async close() {
      for (const r of running.values()) r.controller.abort(new Error("The kit is closing."));
      await this.idle();
    },
  };
}

/** Every execution matching `filter`, read page by page. */
export async function allExecutions(storage: Storage, filter: ExecutionFilter): Promise<Execution[]> {
  const all: Execution[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.listExecutions({ filter, limit: 500, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** Counts an audience's members by streaming it once: what waves need when no size estimate is known. */
async function countMembers(
  source: AudienceSource,
  audienceId: string,
  signal: AbortSignal,
): Promise<number> {
  let count = 0;
  for await (const page of source.members({ audienceId, signal }))
    count += (page as readonly Profile[]).length;
  return count;
}
