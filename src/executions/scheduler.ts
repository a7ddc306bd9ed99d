import { isCampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import type { Execution } from "../model/execution.js";
import type { LifecycleAction } from "../model/status-machine.js";
import { errorFields } from "../ports/logger.js";
import { audit } from "../repositories/audit.js";
import { campaignsIn, getCampaign, transitionCampaign } from "../repositories/campaigns.js";
import type { Context } from "../repositories/context.js";
import { executionIdFor } from "../repositories/index.js";
import { dueOccurrences, nextOccurrence } from "../schedule/occurrences.js";
import { purgeCampaign } from "./purge.js";
import { FINISHED_EXECUTION, type Runner } from "./runner.js";
import { retireReplaced } from "./stop.js";

/** The actor the scheduler acts as in the audit log. */
export const SCHEDULER_ACTOR = "system:scheduler";

/** What one {@link Scheduler.tick} did. */
export interface TickSummary {
  /** Campaigns that went from scheduled to live. */
  started: string[];
  /** Executions launched (new occurrences, deferred triggers, resumed or next slices). */
  launched: string[];
  /** Campaigns that completed (or failed) because nothing is left to send. */
  completed: string[];
  /** Archived campaigns purged because their retention period is over. */
  purged: string[];
}

/** When the scheduler moves campaigns on by itself; see `CampaignKitOptions.lifecycle`. */
export interface SchedulerOptions {
  /** How long after its send ends a one-shot scheduled campaign stays live before it is completed, in ms. */
  completeAfterMs: number;
  /** How long an archived campaign is kept before it is purged, in ms; `undefined` keeps it for ever. */
  archiveRetentionMs: number | undefined;
}

/**
 * Runs campaigns by themselves. `tick()` does what is due at an instant (for hosts that drive it from cron);
 * `start()` and `stop()` run ticks on a timer. Every occurrence is claimed in storage (an execution keyed by
 * the occurrence) and run under a claim, so overlapping ticks or processes send it once, and a crashed
 * occurrence resumes from the ledger on a later tick.
 */
export interface Scheduler {
  /**
   * Does what is due now: starts scheduled campaigns whose time has come, launches due occurrences, deferred
   * executions and next slices (waves, time zones), resumes abandoned ones, completes campaigns with nothing
   * left to send (a one-shot once `lifecycle.completeAfterDays` have passed since its send ended), and purges
   * archived campaigns whose retention period is over. With `wait` (the default) it resolves once the launched sends are done.
   */
  tick(options?: { wait?: boolean }): Promise<TickSummary>;
  /**
   * Ticks at once, then every `intervalMs` (a positive number, default 1000) of the kit's clock until
   * {@link Scheduler.stop}; sends run in the background. A tick still running when the next is due makes that
   * one skip. On the system clock the timer keeps the process running until `stop()`. A tick that fails is
   * logged through the kit's `logger` (without one, written to stderr) and the next tick tries again.
   */
  start(options?: { intervalMs?: number }): void;
  /** Stops ticking and waits for the tick in progress. Sends in flight go on; `kit.close()` stops them. */
  stop(): Promise<void>;
}

/** A campaign's schedule, or the one a campaign without one has: a single send at activation, in UTC. */
function scheduleOf(campaign: Campaign): NonNullable<Campaign["schedule"]> {
  return campaign.schedule ?? { timeZone: "UTC", sendInProfileTimeZone: false };
}

/** How far back a tick looks for occurrences no scheduler claimed. */
const MISSED_LOOKBACK_MS = 7 * 24 * 3_600_000;

/** Builds the scheduler. */
export function createScheduler(ctx: Context, runner: Runner, options: SchedulerOptions): Scheduler {
  let stopTimer: (() => Promise<void>) | undefined;
  // The latest occurrence this process claimed, per campaign: later ticks start after it, not a week back.
  const claimedThrough = new Map<string, number>();
  let current: Promise<TickSummary> | undefined;

  /** Moves a campaign through the status machine as the scheduler; another process doing it first is fine. */
  async function move(campaign: Campaign, action: LifecycleAction): Promise<boolean> {
    try {
      const outcome = await transitionCampaign(ctx, SCHEDULER_ACTOR, campaign, action);
      await audit(
        ctx,
        SCHEDULER_ACTOR,
        { action: `campaign.${action}`, objectType: "campaign", objectId: campaign.id },
        "allowed",
        outcome,
      );
      return true;
    } catch (error) {
      if (isCampaignKitError(error, "CONFLICT") || isCampaignKitError(error, "INVALID_TRANSITION"))
        return false;
      throw error;
    }
  }

  /** Claims each due occurrence as an execution keyed by it; returns those to run. */
  async function claimOccurrences(campaign: Campaign, now: Date): Promise<Execution[]> {
    const schedule = scheduleOf(campaign);
    // Occurrences missed while no scheduler ran are claimed too (a one-shot's whatever its age, a recurring
    // campaign's up to a week back): the runner then records their recipients as excluded `outside-window`,
    // so a missed send is reported, never silently dropped. What this process claimed already is skipped.
    const lookback = schedule.recurrence ? now.getTime() - MISSED_LOOKBACK_MS : Number.NEGATIVE_INFINITY;
    const claimed = claimedThrough.get(campaign.id) ?? Number.NEGATIVE_INFINITY;
    const from = Math.max(lookback, claimed);
    const since = Number.isFinite(from) ? new Date(from) : undefined;
    const anchor = campaign.activatedAt ? { activatedAt: campaign.activatedAt } : {};
    const launch: Execution[] = [];
    for (const occurrence of dueOccurrences(schedule, { now, since, ...anchor })) {
      const requestId = `occurrence:${occurrence.key}`;
      const execution: Execution = {
        // Derived from the occurrence: of two schedulers claiming it at once, one stores it, the other finds it.
        id: executionIdFor(campaign.id, requestId),
        campaignId: campaign.id,
        requestId,
        kind: "occurrence",
        status: "in-progress",
        executeAt: occurrence.at,
        targetedProfileCount: 0,
        streamed: false,
        createdAt: now,
      };
      if (campaign.audienceId) execution.audienceId = campaign.audienceId;
      const stored = (await ctx.repos.executions.insert(execution))
        ? execution
        : (await ctx.repos.executions.find(execution.id)).value;
      claimedThrough.set(campaign.id, occurrence.at.getTime());
      if (!FINISHED_EXECUTION.has(stored.status)) launch.push(stored);
    }
    return launch;
  }

  /** Completes (or fails) a live campaign once nothing is left to send. */
  async function settle(campaign: Campaign, now: Date): Promise<boolean> {
    const schedule = campaign.schedule;
    if (campaign.type === "api-triggered") {
      if (!schedule?.endAt || schedule.endAt > now) return false;
    } else {
      // A campaign without a schedule still has its one occurrence, at activation: a process whose clock is
      // behind the activating one's must see it as still to come, not complete the campaign unsent.
      const anchor = campaign.activatedAt ? { activatedAt: campaign.activatedAt } : {};
      if (nextOccurrence(scheduleOf(campaign), { after: now, ...anchor })) return false;
      // A recurring campaign with an end date is completed at that date (DOMAIN.md), even when its last
      // occurrence came earlier; one bounded by a count alone completes once that count is sent.
      if (schedule?.recurrence && schedule.endAt && schedule.endAt > now) return false;
    }
    const executions = await ctx.repos.executions.every({ campaignId: campaign.id });
    if (executions.some((e) => !FINISHED_EXECUTION.has(e.status))) return false;
    const oneShot = campaign.type === "scheduled" && !schedule?.recurrence;
    // A one-shot is done once its occurrence ran, never before it was claimed.
    if (oneShot && executions.length === 0) return false;
    const failed = oneShot && executions.length > 0 && executions.every((e) => e.status === "failed");
    // With no delay it completes on the tick that saw its send end (which may end after the tick's `now`).
    if (oneShot && !failed && options.completeAfterMs > 0) {
      // The reference product completes a one-shot days after its send: it stays live (reports still fill
      // with feedback, it can still be stopped) until then. A failure is reported at once.
      const sentAt = Math.max(...executions.map((e) => (e.finishedAt ?? e.createdAt).getTime()));
      if (now.getTime() < sentAt + options.completeAfterMs) return false;
    }
    return move(campaign, failed ? "fail" : "complete");
  }

  /** Purges the archived campaigns whose retention period is over; returns their ids. */
  async function purgeExpired(now: Date): Promise<string[]> {
    const retention = options.archiveRetentionMs;
    if (retention === undefined) return [];
    const purged: string[] = [];
    // Only those due: an index range, so a tick costs nothing for the archived campaigns still kept.
    const cutoff = new Date(now.getTime() - retention).toISOString();
    for await (const campaign of ctx.repos.campaigns.all({
      status: "archived",
      archivedAt: { lte: cutoff },
    })) {
      if (await purgeCampaign(ctx, SCHEDULER_ACTOR, campaign)) purged.push(campaign.id);
    }
    return purged;
  }

  async function tick(wait: boolean): Promise<TickSummary> {
    const summary: TickSummary = { started: [], launched: [], completed: [], purged: [] };
    const now = ctx.now();
    const began = ctx.clock.now();
    try {
      await tickAt(now, wait, summary);
    } catch (error) {
      ctx.observe.log.error(
        { ...errorFields(error), ...summary },
        isCampaignKitError(error, "STORAGE_FAILED")
          ? "scheduler tick failed: storage unavailable"
          : "scheduler tick failed",
      );
      throw error;
    }
    ctx.observe.log.debug({ ...summary, durationMs: ctx.clock.now() - began }, "scheduler tick");
    return summary;
  }

  async function tickAt(now: Date, wait: boolean, summary: TickSummary): Promise<void> {
    for await (const campaign of campaignsIn(ctx, ["scheduled"])) {
      if ((campaign.schedule?.startAt?.getTime() ?? 0) <= now.getTime() && (await move(campaign, "start"))) {
        summary.started.push(campaign.id);
      }
    }
    const live: Campaign[] = [];
    for await (const campaign of campaignsIn(ctx, ["live"])) live.push(campaign);
    for (const campaign of live) {
      if (!campaign.replacesCampaignId) continue;
      // A retirement that failed when this version went live: stop the old version now, or on a later tick.
      await retireReplaced(ctx, runner, SCHEDULER_ACTOR, campaign.replacesCampaignId, campaign.id).catch(
        () => {},
      );
    }
    const launch = new Map<string, Execution>();
    for (const campaign of live) {
      if (campaign.type !== "scheduled") continue;
      for (const execution of await claimOccurrences(campaign, now)) launch.set(execution.id, execution);
    }
    // Only what no live process runs: a claim still valid means its owner is on it.
    for await (const execution of ctx.repos.executions.all({
      status: { in: ["scheduled", "in-progress"] },
      claimUntil: { lte: now.toISOString() },
    })) {
      const dueAt = execution.status === "scheduled" ? execution.executeAt : execution.resumeAt;
      if (!dueAt || dueAt <= now) launch.set(execution.id, execution);
    }
    summary.launched = [...launch.keys()];
    const runs = [...launch.values()].map((execution) => runner.launch(execution));
    if (wait) await Promise.all(runs);
    for (const campaign of live) {
      const fresh = await getCampaign(ctx, campaign.id);
      // The tick's own `now`: an occurrence falling due while this tick ran was not claimed, so it must not
      // count as past either.
      if (fresh?.status === "live" && (await settle(fresh, now))) summary.completed.push(campaign.id);
    }
    summary.purged = await purgeExpired(now);
  }

  const scheduler: Scheduler = {
    async tick(options = {}) {
      // Ticks in one process never overlap: a second caller waits for the first, then ticks.
      while (current) await current.catch(() => {});
      current = tick(options.wait ?? true);
      try {
        return await current;
      } finally {
        current = undefined;
      }
    },
    start({ intervalMs = 1000 } = {}) {
      if (stopTimer) return;
      let ticking: Promise<void> | undefined;
      // The first tick and the timer's share one run, so a slow first tick makes the timer skip, not queue.
      const loop = () => {
        ticking ??= scheduler
          .tick({ wait: false })
          .then(
            () => {},
            (error: unknown) => {
              // The logger has it; without one, a failing background tick would go unseen.
              if (!ctx.observe.logging) console.error("campaign-kit scheduler tick failed:", error);
            },
          )
          .finally(() => {
            ticking = undefined;
          });
        return ticking;
      };
      stopTimer = ctx.clock.every(intervalMs, loop, { keepAlive: true });
      void loop();
    },
    async stop() {
      const stopping = stopTimer;
      stopTimer = undefined;
      await stopping?.();
      await current?.catch(() => {});
    },
  };
  return scheduler;
}
