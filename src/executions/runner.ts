import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { DispatchReport, DispatchRequest } from "../dispatch/types.js";
import { CampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import type { Execution } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { AudienceSource } from "../ports/audience-source.js";
import { configurationsOf, getCampaign, isRunning } from "../repositories/campaigns.js";
import type { Context } from "../repositories/context.js";
import { acquireLease, releaseLease } from "../repositories/leases.js";
import { planExecution } from "./plan.js";
import { dueSlices, nextSliceAt, sliceWriter } from "./slices.js";

/** Statuses an execution never leaves. */
export const FINISHED_EXECUTION = new Set<Execution["status"]>(["succeeded", "failed", "cancelled"]);

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** Sends each pass of an execution. */
  dispatcher: Dispatcher;
  /** Streams audiences and looks held-back recipients up; `undefined` when the kit has none. */
  audiences: AudienceSource | undefined;
  /** This process's name in leases. */
  owner: string;
  /** How long a lease on a running execution lasts before another process may take it over, in ms. */
  leaseMs: number;
}

/**
 * Runs executions through the dispatcher, each under a lease so that two processes (or two ticks) never run
 * one execution at once, and so that a crashed process's execution is resumed, without re-sending, once its
 * lease expires. An audience execution's first pass streams the audience once and sends what its plan says
 * is due; what is due later (waves, time zones, quiet hours) is kept as slices, and later passes read only
 * the slices that fell due.
 */
export interface Runner {
  /** Starts (or joins) the execution in the background; resolves when this process is done with it. */
  launch(execution: Pick<Execution, "id" | "campaignId">): Promise<void>;
  /** Resolves when this process is done with the execution; at once when it isn't running it. */
  wait(executionId: string): Promise<void>;
  /** Aborts this process's sends for a campaign and waits for them to settle. */
  abortCampaign(campaignId: string): Promise<void>;
  /** Resolves when this process's running executions are done. */
  idle(): Promise<void>;
  /** Aborts every running execution (they resume later, elsewhere or after a restart) and waits for them. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

/** Why the runner aborts a dispatch: the campaign or execution was stopped, or another process took over. */
class Halt extends Error {
  constructor(readonly reason: "stopped" | "lease-lost" | "closing") {
    super(`The execution was halted: ${reason}.`);
  }
}

/** What one pass of an execution did. */
interface PassOutcome {
  reports: DispatchReport[];
  /** Recipients the pass considered. */
  targeted: number;
  /** When the next slice falls due; absent when none is left. */
  nextDueAt?: Date | undefined;
  /** The execution's fields the pass set (`streamed`, `audienceSize`). */
  changes?: Partial<Execution>;
}

/** Builds the runner. */
export function createRunner(ctx: Context, options: RunnerOptions): Runner {
  const running = new Map<string, { campaignId: string; controller: AbortController; done: Promise<void> }>();
  const leaseOf = (executionId: string) => ({ key: `execution:${executionId}`, owner: options.owner });

  /** Writes `changes` to the execution unless someone cancelled it meanwhile: their word stands. */
  async function settle(executionId: string, changes: Partial<Execution>): Promise<void> {
    await ctx.repos.executions.update(executionId, (current) => {
      if (current.status === "cancelled") return undefined;
      const next = { ...current, ...changes };
      for (const key of Object.keys(changes) as (keyof Execution)[]) {
        if (changes[key] === undefined) delete next[key];
      }
      return next;
    });
  }

  function source(): AudienceSource {
    if (!options.audiences) {
      throw new CampaignKitError(
        "AUDIENCE_SOURCE_MISSING",
        "The kit has no `audiences` source to read recipients from; pass one to createCampaignKit.",
      );
    }
    return options.audiences;
  }

  /**
   * Keeps the lease and watches for a stop made anywhere: another process stopping the campaign or
   * cancelling the execution, or this process losing its lease, aborts the dispatch. A background timer on
   * the kit's clock, so a virtual test clock drives it without ever being moved by it.
   */
  function watch(executionId: string, campaignId: string, controller: AbortController): () => Promise<void> {
    // The stop function waits for a renewal under way: landing after the release, it would lock the
    // execution for `leaseMs`.
    return ctx.clock.every(Math.min(options.leaseMs / 3, 1000), async () => {
      try {
        const [held, campaign, execution] = await Promise.all([
          acquireLease(ctx.repos.leases, { ...leaseOf(executionId), ttlMs: options.leaseMs, now: ctx.now() }),
          getCampaign(ctx, campaignId),
          ctx.repos.executions.get(executionId),
        ]);
        if (!held) controller.abort(new Halt("lease-lost"));
        else if (!isRunning(campaign) || execution?.value.status === "cancelled") {
          controller.abort(new Halt("stopped"));
        }
      } catch {
        // Storage trouble: the dispatch's own ledger writes will fail and end it; nothing to add here.
      }
    });
  }

  async function dispatch(
    campaign: Campaign,
    execution: Execution,
    request: Pick<DispatchRequest, "recipients" | "recipientOverrides" | "window" | "plan">,
    signal: AbortSignal,
  ): Promise<DispatchReport> {
    return options.dispatcher.dispatch({
      campaign,
      executionId: execution.id,
      configurations: await configurationsOf(ctx, campaign),
      ...(execution.context ? { context: execution.context } : {}),
      ...request,
      signal,
    });
  }

  /** A unitary execution: the recipients resolved when the call was accepted, sent at once. */
  async function unitaryPass(campaign: Campaign, execution: Execution, signal: AbortSignal) {
    const recipients = execution.recipients ?? [];
    const overrides = new Map(recipients.map((r) => [r.profile.id, r]));
    const report = await dispatch(
      campaign,
      execution,
      { recipients: [recipients.map((r) => r.profile)], recipientOverrides: overrides },
      signal,
    );
    return { reports: [report], targeted: recipients.length };
  }

  /** Streams the audience once: sends what is due, keeps the rest as slices. */
  async function firstPass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
  ): Promise<PassOutcome> {
    const audienceId = execution.audienceId ?? campaign.audienceId;
    if (!audienceId) {
      throw new CampaignKitError("NOT_FOUND", `Campaign '${campaign.id}' has no audience to send to.`);
    }
    const audiences = source();
    const waves = campaign.type === "scheduled" && campaign.deliveryControls.waves !== undefined;
    // Waves are cut from the audience's size, counted once and kept: a resumed pass must cut the same.
    const audienceSize = waves
      ? (execution.audienceSize ?? (await count(audiences, audienceId, signal)))
      : undefined;
    const plan = planExecution(campaign, execution, audienceSize);
    const window = { start: ctx.now(), end: plan.window.end };
    const members = audiences.members({ audienceId, signal });
    if (!plan.slices) {
      const report = await dispatch(campaign, execution, { recipients: members, window }, signal);
      return { reports: [report], targeted: report.recipients };
    }
    const slices = sliceWriter(ctx, execution, campaign.identityNamespace);
    const report = await dispatch(
      campaign,
      execution,
      {
        recipients: members,
        window,
        plan: plan.dispatchPlan((profiles, dueAt) => slices.add(profiles, dueAt)),
      },
      signal,
    );
    await slices.flush();
    if (report.aborted) return { reports: [report], targeted: report.recipients };
    return {
      reports: [report],
      targeted: report.recipients,
      nextDueAt: await nextSliceAt(ctx, execution.id),
      changes: { streamed: true, ...(audienceSize === undefined ? {} : { audienceSize }) },
    };
  }

  /** Sends the slices that fell due, looking their recipients up again, and removes each once sent. */
  async function slicePass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
  ): Promise<PassOutcome> {
    const audiences = source();
    const windowMs = campaign.deliveryControls.deliveryWindowHours * HOUR_MS;
    const reports: DispatchReport[] = [];
    let targeted = 0;
    for await (const slice of dueSlices(ctx, execution.id, ctx.now())) {
      if (signal.aborted) break;
      const found = await audiences.findProfiles({ namespace: slice.namespace, values: slice.identities });
      const recipients: Profile[][] = [[...found.values()]];
      const window = { start: ctx.now(), end: new Date(slice.dueAt.getTime() + windowMs) };
      const report = await dispatch(campaign, execution, { recipients, window }, signal);
      reports.push(report);
      targeted += report.recipients;
      if (report.aborted) break;
      await ctx.repos.slices.delete(slice.id);
    }
    return { reports, targeted, nextDueAt: await nextSliceAt(ctx, execution.id) };
  }

  async function pass(campaign: Campaign, execution: Execution, signal: AbortSignal): Promise<PassOutcome> {
    if (execution.kind === "unitary") return unitaryPass(campaign, execution, signal);
    return execution.streamed
      ? slicePass(campaign, execution, signal)
      : firstPass(campaign, execution, signal);
  }

  /** Whether every message the execution recorded failed: a send that delivered nothing at all. */
  async function allFailed(execution: Execution, reports: DispatchReport[]): Promise<boolean> {
    if (!execution.streamed && reports.length === 1) {
      const { outcomes } = reports[0]!;
      return outcomes.sent === 0 && outcomes.failed > 0;
    }
    const { outcomes } = await ctx.storage.summarize({
      campaignId: execution.campaignId,
      executionId: execution.id,
    });
    return outcomes.sent === 0 && outcomes.failed > 0;
  }

  async function run(executionId: string, campaignId: string, controller: AbortController): Promise<void> {
    const lease = leaseOf(executionId);
    if (!(await acquireLease(ctx.repos.leases, { ...lease, ttlMs: options.leaseMs, now: ctx.now() }))) return;
    const unwatch = watch(executionId, campaignId, controller);
    let started = false;
    try {
      const stored = (await ctx.repos.executions.get(executionId))?.value;
      const now = ctx.now();
      if (!stored || FINISHED_EXECUTION.has(stored.status)) return;
      if (stored.status === "scheduled" && (stored.executeAt ?? now) > now) return;
      if (stored.resumeAt && stored.resumeAt > now) return;
      const campaign = await getCampaign(ctx, stored.campaignId);
      if (!isRunning(campaign)) {
        await settle(executionId, { status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined });
        return;
      }
      const execution = { ...stored, status: "in-progress" as const, startedAt: stored.startedAt ?? now };
      await settle(executionId, { status: "in-progress", startedAt: execution.startedAt });
      started = true;
      const outcome = await pass(campaign, execution, controller.signal);
      const counted: Partial<Execution> = {
        ...outcome.changes,
        targetedProfileCount: Math.max(execution.targetedProfileCount, outcome.targeted),
      };
      if (outcome.reports.some((report) => report.aborted) || controller.signal.aborted) {
        await settleHalted(execution, controller, counted);
        return;
      }
      if (outcome.nextDueAt) {
        await settle(executionId, { ...counted, resumeAt: outcome.nextDueAt });
        return;
      }
      const failed = await allFailed({ ...execution, ...counted }, outcome.reports);
      await settle(executionId, {
        ...counted,
        status: failed ? "failed" : "succeeded",
        finishedAt: ctx.now(),
        resumeAt: undefined,
        ...(failed ? { error: "Every message failed; see the ledger for the reasons." } : {}),
      });
    } catch (error) {
      if (!started) throw error;
      // An audience source or adapter that honours the signal throws on abort: that is a halt, not a failure.
      if (controller.signal.aborted) {
        await settleHalted({ id: executionId, campaignId }, controller, {}).catch(() => {});
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      await settle(executionId, {
        status: "failed",
        finishedAt: ctx.now(),
        error: message,
        resumeAt: undefined,
      }).catch(() => {});
    } finally {
      await unwatch();
      await releaseLease(ctx.repos.leases, lease).catch(() => {});
    }
  }

  /**
   * After an abort: a stopped campaign or cancelled execution ends `cancelled`; a shutdown or a lost lease
   * leaves it in progress, to be resumed from the ledger by whoever runs it next.
   */
  async function settleHalted(
    execution: Pick<Execution, "id" | "campaignId">,
    controller: AbortController,
    counted: Partial<Execution>,
  ): Promise<void> {
    const reason = controller.signal.reason instanceof Halt ? controller.signal.reason.reason : "closing";
    if (reason === "lease-lost") return;
    const stopped = !isRunning(await getCampaign(ctx, execution.campaignId));
    await settle(
      execution.id,
      stopped ? { ...counted, status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined } : counted,
    );
  }

  return {
    launch({ id, campaignId }) {
      const current = running.get(id);
      if (current) return current.done;
      const controller = new AbortController();
      const done = run(id, campaignId, controller)
        .catch(() => {})
        .finally(() => running.delete(id));
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

/** Counts an audience's members by streaming it once: what waves need to cut the audience. */
async function count(source: AudienceSource, audienceId: string, signal: AbortSignal): Promise<number> {
  let members = 0;
  for await (const page of source.members({ audienceId, signal })) members += page.length;
  return members;
}
