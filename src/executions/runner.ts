import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { DispatchRequest } from "../dispatch/types.js";
import { CampaignKitError } from "../errors.js";
import { isRunning } from "../kit/campaign-store.js";
import type { KitContext } from "../kit/context.js";
import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Execution } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { AudienceSource } from "../ports/audience-source.js";
import type { ExecutionFilter, Storage } from "../ports/storage.js";
import type { UnitaryRecipient } from "./payloads.js";
import { dueProfiles, type SliceStats, sliceSchedule } from "./plan.js";
import { resolveUnitaryRecipients } from "./recipients.js";

/** Statuses an execution never leaves. */
export const FINISHED_EXECUTION = new Set<Execution["status"]>(["succeeded", "failed", "cancelled"]);

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** Sends each pass of an execution. */
  dispatcher: Dispatcher;
  /** Streams audiences and finds the named recipients of unitary calls; `undefined` when the kit has none. */
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

const HOUR = 3_600_000;

/** Why the runner aborts a dispatch: the campaign or execution was stopped, or another process took over. */
class Halt extends Error {
  constructor(readonly reason: "stopped" | "lease-lost" | "closing") {
    super(`The execution was halted: ${reason}.`);
  }
}

/** Builds the runner. */
export function createRunner(ctx: KitContext, options: RunnerOptions): Runner {
  const running = new Map<string, { campaignId: string; controller: AbortController; done: Promise<void> }>();

  async function save(execution: Execution, changes: Partial<Execution>): Promise<Execution> {
    const next = { ...execution, ...changes };
    for (const key of Object.keys(changes) as (keyof Execution)[]) {
      if (changes[key] === undefined) delete next[key];
    }
    await ctx.storage.updateExecution({ execution: next });
    return next;
  }

  async function recipientsOf(
    execution: Execution,
    campaign: Campaign,
    stats: SliceStats,
    now: number,
    signal: AbortSignal,
  ): Promise<Pick<DispatchRequest, "recipients" | "recipientOverrides" | "onlyUnrecorded">> {
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
    if (!audienceId) {
      throw new CampaignKitError("NOT_FOUND", `Campaign '${campaign.id}' has no audience to send to.`);
    }
    const dueAt = await sliceSchedule(campaign, execution, async () => {
      // Waves are cut from the audience's real size, counted once and kept: a resumed pass must cut the same.
      if (execution.audienceSize === undefined) {
        stats.audienceSize = await countMembers(source, audienceId, signal);
        return stats.audienceSize;
      }
      return execution.audienceSize;
    });
    const pages = source.members({ audienceId, signal });
    // A later slice's pass streams everyone due so far and lets the ledger skip what an earlier pass settled
    // (`onlyUnrecorded`): deciding by stream position instead would skip members whose position moved when
    // the audience changed between passes.
    return { recipients: dueProfiles(pages, dueAt, now, stats), onlyUnrecorded: dueAt !== undefined };
  }

  async function configurationsOf(campaign: Campaign): Promise<Map<string, ChannelConfiguration>> {
    const found = await Promise.all(
      campaign.actions.map((a) => ctx.storage.getChannelConfiguration({ id: a.channelConfigurationId })),
    );
    return new Map(found.flatMap((c) => (c ? [[c.id, c] as const] : [])));
  }

  /**
   * When this pass's messages may go out. An occurrence's slice is due at `resumeAt` (later slices) or
   * `executeAt` (the first), and has the campaign's delivery window from then: a slice run late (the
   * scheduler was down) is excluded as `outside-window` and reported, never silently dropped or sent days late.
   */
  function windowOf(execution: Execution, campaign: Campaign, now: number): { start: Date; end: Date } {
    const windowMs = campaign.deliveryControls.deliveryWindowHours * HOUR;
    const due = (execution.resumeAt ?? execution.executeAt)?.getTime() ?? now;
    return { start: new Date(now), end: new Date(due + windowMs) };
  }

  /**
   * Keeps the lease and watches for a stop made anywhere: another process stopping the campaign or
   * cancelling the execution, or this process losing its lease, aborts the dispatch. A background timer on
   * the kit's clock, so a virtual test clock drives it without ever being moved by it.
   */
  function watch(executionId: string, campaignId: string, controller: AbortController): () => Promise<void> {
    const lease = { key: `execution:${executionId}`, owner: options.owner };
    // The stop function waits for a renewal under way: landing after the release, it would lock the
    // execution for `leaseMs`.
    return ctx.clock.every(Math.min(options.leaseMs / 3, 1000), async () => {
      try {
        const [held, campaign, execution] = await Promise.all([
          ctx.storage.acquireLease({ ...lease, ttlMs: options.leaseMs, now: ctx.now() }),
          ctx.storage.getCampaign({ id: campaignId }),
          ctx.storage.getExecution({ id: executionId }),
        ]);
        if (!held) controller.abort(new Halt("lease-lost"));
        else if (!isRunning(campaign) || execution?.status === "cancelled")
          controller.abort(new Halt("stopped"));
      } catch {
        // Storage trouble: the dispatch's own ledger writes will fail and end it; nothing to add here.
      }
    });
  }

  async function run(executionId: string, campaignId: string, controller: AbortController): Promise<void> {
    const lease = { key: `execution:${executionId}`, owner: options.owner };
    if (!(await ctx.storage.acquireLease({ ...lease, ttlMs: options.leaseMs, now: ctx.now() }))) return;
    const unwatch = watch(executionId, campaignId, controller);
    let execution = await ctx.storage.getExecution({ id: executionId });
    try {
      const now = ctx.clock.now();
      if (!execution || FINISHED_EXECUTION.has(execution.status)) return;
      if (execution.status === "scheduled" && (execution.executeAt?.getTime() ?? 0) > now) return;
      if (execution.resumeAt && execution.resumeAt.getTime() > now) return;
      const campaign = await ctx.storage.getCampaign({ id: execution.campaignId });
      if (!isRunning(campaign)) {
        await save(execution, { status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined });
        return;
      }
      execution = await save(execution, {
        status: "in-progress",
        startedAt: execution.startedAt ?? ctx.now(),
      });
      const stats: SliceStats = { seen: 0 };
      const recipients = await recipientsOf(execution, campaign, stats, now, controller.signal);
      const report = await options.dispatcher.dispatch({
        campaign,
        executionId,
        configurations: await configurationsOf(campaign),
        ...(execution.context ? { context: execution.context } : {}),
        ...recipients,
        ...(execution.kind === "occurrence" ? { window: windowOf(execution, campaign, now) } : {}),
        signal: controller.signal,
      });
      const counted = {
        targetedProfileCount: Math.max(execution.targetedProfileCount, stats.seen),
        ...(stats.audienceSize === undefined ? {} : { audienceSize: stats.audienceSize }),
      };
      if (report.aborted) {
        execution = await settleHalted(execution, controller, counted);
        return;
      }
      // Someone may have cancelled it while the last messages went out: their word stands.
      if ((await ctx.storage.getExecution({ id: executionId }))?.status === "cancelled") return;
      const allFailed = report.outcomes.sent === 0 && report.outcomes.failed > 0;
      execution = await save(
        execution,
        stats.nextDueAt
          ? { ...counted, resumeAt: stats.nextDueAt }
          : {
              ...counted,
              status: allFailed ? "failed" : "succeeded",
              finishedAt: ctx.now(),
              resumeAt: undefined,
              ...(allFailed
                ? { error: `All ${report.outcomes.failed} messages failed; see the ledger for reasons.` }
                : {}),
            },
      );
    } catch (error) {
      if (!execution) return;
      // An audience source or adapter that honours the signal throws on abort: that is a halt, not a failure.
      if (controller.signal.aborted) {
        await settleHalted(execution, controller, {}).catch(() => {});
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      await save(execution, {
        status: "failed",
        finishedAt: ctx.now(),
        error: message,
        resumeAt: undefined,
      }).catch(() => {});
    } finally {
      await unwatch();
      await ctx.storage.releaseLease(lease).catch(() => {});
    }
  }

  /**
   * After an abort: a stopped campaign or cancelled execution ends `cancelled`; a shutdown or a lost lease
   * leaves it in progress, to be resumed from the ledger by whoever runs it next.
   */
  async function settleHalted(
    execution: Execution,
    controller: AbortController,
    counted: Partial<Execution>,
  ): Promise<Execution> {
    const reason = controller.signal.reason instanceof Halt ? controller.signal.reason.reason : "closing";
    if (reason === "lease-lost") return execution;
    const [campaign, stored] = await Promise.all([
      ctx.storage.getCampaign({ id: execution.campaignId }),
      ctx.storage.getExecution({ id: execution.id }),
    ]);
    const stopped = !isRunning(campaign) || stored?.status === "cancelled";
    return save(
      execution,
      stopped ? { ...counted, status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined } : counted,
    );
  }

  return {
    launch({ id, campaignId }) {
      const current = running.get(id);
      if (current) return current.done;
      const controller = new AbortController();
      const done = run(id, campaignId, controller).finally(() => running.delete(id));
      running.set(id, { campaignId, controller, done });
      return done;
    },
    wait: (executionId) => running.get(executionId)?.done ?? Promise.resolve(),
    async abortCampaign(campaignId) {
      const stopping = [...running.values()].filter((r) => r.campaignId === campaignId);
      for (const r of stopping) r.controller.abort(new Halt("stopped"));
      await Promise.all(stopping.map((r) => r.done));
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    async close() {
      for (const r of running.values()) r.controller.abort(new Halt("closing"));
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
