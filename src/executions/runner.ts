import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { DispatchReport, DispatchRequest } from "../dispatch/types.js";
import { CampaignKitError, isCampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import type { DeliveryOutcome, Execution } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { ExecutionProgressEvent } from "../observe/events.js";
import type { AudienceSource } from "../ports/audience-source.js";
import { errorFields } from "../ports/logger.js";
import type { TelemetrySpan } from "../ports/telemetry.js";
import type { WorkQueue } from "../ports/work-queue.js";
import { configurationsOf, getCampaign, isRunning } from "../repositories/campaigns.js";
import type { Context } from "../repositories/context.js";
import { planChunks, sharedByWorkers } from "./chunks.js";
import { claim, claimed, type Held, write } from "./claims.js";
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
  /** This process's name in claims on executions. */
  owner: string;
  /** How long a claim on a running execution lasts before another process may take it over, in ms. */
  claimMs: number;
  /**
   * Where executions are handed to workers (`runWorker`); without one, this process sends everything itself.
   * With one, unitary executions and audience first passes (without waves, from a source that cuts ranges)
   * are enqueued as chunks, and this process only watches them to the end.
   */
  queue?: WorkQueue | undefined;
  /** Members per chunk when planning an execution for workers. */
  chunkSize?: number;
}

/**
 * Runs executions through the dispatcher, each under a claim so that two processes (or two ticks) never run
 * one execution at once, and so that a crashed process's execution is resumed, without re-sending, once its
 * claim expires. An audience execution's first pass streams the audience once and sends what its plan says
 * is due; what is due later (waves, time zones, quiet hours) is kept as slices, and later passes read only
 * the slices that fell due.
 */
export interface Runner {
  /**
   * Stores a new execution (its id derived from its request id) and, unless it waits for its `executeAt`,
   * starts it in the background, claimed for this process in the same write. When the id is taken, a call
   * with the same request id got there first: its execution is returned, `created: false`, and nothing starts.
   */
  submit(
    execution: Execution,
    campaign: Campaign,
    parent?: TelemetrySpan,
  ): Promise<{ execution: Execution; created: boolean }>;
  /**
   * Starts (or joins) the execution in the background; resolves when this process is done with it. `start`
   * hands over what the caller already has: the execution it inserted claimed for this runner, its campaign.
   */
  launch(execution: Pick<Execution, "id" | "campaignId">, start?: LaunchOptions): Promise<void>;
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

/** What a caller that just stored an execution hands {@link Runner.launch}, to spare reading it again. */
export interface LaunchOptions {
  /** The execution as stored, claimed for this runner's owner (see {@link RunnerOptions.owner}). */
  held?: Held;
  /** Its campaign, as read to accept the execution. */
  campaign?: Campaign;
  /**
   * The execution was created for this launch, so nothing of it can be in the ledger yet: its first pass
   * skips the ledger reads when its recipients are distinct (a unitary call naming no profile twice, or an
   * audience source that declares {@link AudienceSource.distinctMembers}). Without it the runner decides
   * alone: an execution no process had started, started by this one at the first try, is fresh too; a
   * resumed or taken-over one never is.
   */
  fresh?: boolean;
  /** The span of the call that created the execution: its execution span is a child of it. */
  parent?: TelemetrySpan | undefined;
}

/** Why the runner aborts a dispatch: the campaign or execution was stopped, or another process took over. */
class Halt extends Error {
  constructor(readonly reason: "stopped" | "claim-lost" | "closing") {
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

/** What a dispatch's progress is measured against: how many recipients it will pull, when known. */
interface PassTotal {
  kind: Execution["kind"];
  /** Messages per recipient: one per action. */
  actions: number;
  total: number | undefined;
  estimated: boolean;
}

/** One pass of an execution in this process, as its logs, events and span describe it. */
interface Pass {
  fields: { executionId: string; campaignId: string; kind: Execution["kind"] };
  /** On the kit's clock, in ms. */
  startedAt: number;
  span: TelemetrySpan | undefined;
}

/**
 * The kit's progress event for a dispatcher's report. A recipient counts as processed once every action's
 * message to it is recorded (or it is held back), not when it is pulled: the dispatcher pulls ahead of
 * sending, so counting pulls would reach 100 % while thousands of sends are still queued.
 */
function progressEvent(
  report: DispatchReport,
  final: boolean,
  known: PassTotal,
  at: Date,
): ExecutionProgressEvent {
  const { sent, failed, excluded } = report.outcomes;
  const messages = sent + failed + excluded + report.skippedAlreadySent;
  const done = final && !report.aborted;
  const processed = done
    ? report.recipients
    : Math.min(report.recipients, report.deferred + Math.floor(messages / Math.max(1, known.actions)));
  const total = done ? processed : known.total;
  const percentage =
    total === undefined
      ? undefined
      : done
        ? 100
        : total === 0
          ? 0
          : Math.min(99.9, Math.floor((processed / total) * 1000) / 10);
  return {
    executionId: report.executionId,
    campaignId: report.campaignId,
    kind: known.kind,
    at,
    processed,
    total,
    estimated: done ? false : known.estimated,
    percentage,
    final,
    outcomes: { ...report.outcomes },
    retries: report.retries,
    skippedAlreadySent: report.skippedAlreadySent,
    deferred: report.deferred,
  };
}

/** Builds the runner. */
export function createRunner(ctx: Context, options: RunnerOptions): Runner {
  const running = new Map<string, { campaignId: string; controller: AbortController; done: Promise<void> }>();
  const { observe } = ctx;
  // By execution id, while its dispatch runs: one execution runs one dispatch at a time in a process.
  const totals = new Map<string, PassTotal>();
  options.dispatcher.on("progress", (report, final) => {
    const known = totals.get(report.executionId);
    if (known === undefined || observe.events.listenerCount("execution-progress") === 0) return;
    observe.emit("execution-progress", progressEvent(report, final, known, ctx.now()));
  });

  /**
   * Writes `changes` to the held execution while this process still runs it, unless someone cancelled it
   * meanwhile (their word stands); with `release`, gives up the claim in the same write.
   */
  async function settle(held: Held, changes: Partial<Execution>, release = false): Promise<void> {
    await write(ctx, held, (current) => {
      if (current.claim?.owner !== options.owner) return undefined;
      const next = current.status === "cancelled" ? { ...current } : { ...current, ...changes };
      for (const key of Object.keys(changes) as (keyof Execution)[]) {
        if (changes[key] === undefined && current.status !== "cancelled") delete next[key];
      }
      if (release) delete next.claim;
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
   * Renews the claim, and watches for a stop made anywhere: the campaign stopped or the execution cancelled
   * (stopping a campaign cancels its executions), or another process taking the execution over, aborts the
   * dispatch. A background timer on the kit's clock, so a virtual test clock drives it without ever being
   * moved by it; its stop function waits for a renewal under way, so none lands after the release.
   */
  function watch(held: Held, controller: AbortController): () => Promise<void> {
    return ctx.clock.every(Math.min(options.claimMs / 3, 1000), async () => {
      try {
        const now = ctx.now();
        const renewed = await write(ctx, held, (current) =>
          current.claim?.owner === options.owner && current.status !== "cancelled"
            ? claimed(current, options.owner, now, options.claimMs)
            : undefined,
        );
        if (renewed) return;
        const { status, claim: owner } = held.current.value;
        controller.abort(new Halt(status === "cancelled" || owner === undefined ? "stopped" : "claim-lost"));
      } catch (error) {
        // Storage trouble: the dispatch's own ledger writes will fail and end it; the claim may lapse first.
        observe.log.warn(
          {
            executionId: held.current.value.id,
            campaignId: held.current.value.campaignId,
            ...errorFields(error),
          },
          "execution claim renewal failed",
        );
      }
    });
  }

  async function dispatch(
    campaign: Campaign,
    execution: Execution,
    request: Pick<
      DispatchRequest,
      "recipients" | "recipientOverrides" | "window" | "plan" | "fresh" | "span"
    >,
    signal: AbortSignal,
    total: Pick<PassTotal, "total" | "estimated">,
  ): Promise<DispatchReport> {
    const configurations = await configurationsOf(ctx, campaign);
    totals.set(execution.id, { kind: execution.kind, actions: campaign.actions.length, ...total });
    try {
      return await options.dispatcher.dispatch({
        campaign,
        executionId: execution.id,
        configurations,
        ...(execution.context ? { context: execution.context } : {}),
        ...request,
        signal,
      });
    } finally {
      totals.delete(execution.id);
    }
  }

  /** How many recipients an audience pass will pull: counted for waves, else as the audience was registered. */
  async function audienceTotal(audienceId: string, counted: number | undefined) {
    if (counted !== undefined) return { total: counted, estimated: false };
    const size = (await ctx.repos.audiences.getCached(audienceId))?.value.estimatedSize;
    return { total: size, estimated: size !== undefined };
  }

  /** A unitary execution: the recipients resolved when the call was accepted, sent at once. */
  async function unitaryPass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
    fresh: boolean,
    span: TelemetrySpan | undefined,
  ) {
    const recipients = execution.recipients ?? [];
    const overrides = new Map(recipients.map((r) => [r.profile.id, r]));
    // Fresh only when no profile is named twice: the ledger is what would catch the second.
    const distinct = overrides.size === recipients.length;
    const report = await dispatch(
      campaign,
      execution,
      {
        recipients: [recipients.map((r) => r.profile)],
        recipientOverrides: overrides,
        fresh: fresh && distinct,
        ...(span ? { span } : {}),
      },
      signal,
      { total: recipients.length, estimated: false },
    );
    return { reports: [report], targeted: recipients.length };
  }

  /**
   * Streams the audience once: sends what is due, keeps the rest as slices. `fresh`: no pass of this
   * execution ever ran, so over a source of distinct members no batch needs to ask the ledger what it sent.
   */
  async function firstPass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
    fresh: boolean,
    span: TelemetrySpan | undefined,
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
    const skipLedger = fresh && audiences.distinctMembers === true ? { fresh: true } : {};
    const total = await audienceTotal(audienceId, audienceSize);
    const traced = span ? { span } : {};
    if (!plan.slices) {
      const report = await dispatch(
        campaign,
        execution,
        { recipients: members, window, ...skipLedger, ...traced },
        signal,
        total,
      );
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
        ...skipLedger,
        ...traced,
      },
      signal,
      total,
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
    span: TelemetrySpan | undefined,
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
      const report = await dispatch(
        campaign,
        execution,
        { recipients, window, ...(span ? { span } : {}) },
        signal,
        { total: found.size, estimated: false },
      );
      reports.push(report);
      targeted += report.recipients;
      if (report.aborted) break;
      await ctx.repos.slices.delete(slice.id);
    }
    return { reports, targeted, nextDueAt: await nextSliceAt(ctx, execution.id) };
  }

  /**
   * Hands the execution to the workers: plans its chunks (idempotent, so a process taking over an expired
   * claim plans again harmlessly), then waits, renewing its claim, until the queue holds none of them. A
   * stop cancels the chunks not served yet; the workers drop those they hold within a second.
   */
  async function sharedPass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
    queue: WorkQueue,
  ): Promise<PassOutcome> {
    const unitary = execution.kind === "unitary";
    const audienceId = execution.audienceId ?? campaign.audienceId;
    if (!unitary && !audienceId) {
      throw new CampaignKitError("NOT_FOUND", `Campaign '${campaign.id}' has no audience to send to.`);
    }
    const plan = unitary ? undefined : planExecution(campaign, execution, undefined);
    await planChunks({
      queue,
      audiences: options.audiences,
      execution,
      audienceId,
      chunkSize: options.chunkSize ?? 500,
      signal,
    });
    // Poll quickly at first (a unitary execution is done in milliseconds), then once a second.
    let delay = 5;
    while (!signal.aborted && (await queue.outstanding({ executionId: execution.id })) > 0) {
      await ctx.clock.sleep(delay, signal).catch(() => {});
      delay = Math.min(delay * 2, 1000);
    }
    if (signal.aborted) {
      if (signal.reason instanceof Halt && signal.reason.reason === "stopped") {
        await queue.cancel({ executionId: execution.id });
      }
      return { reports: [], targeted: execution.targetedProfileCount };
    }
    const { byChannel } = await ctx.storage.summarize({
      campaignId: execution.campaignId,
      executionId: execution.id,
    });
    // Every recipient has one record per action, so the busiest channel counts the recipients considered.
    let targeted = unitary ? (execution.recipients?.length ?? 0) : 0;
    for (const counts of Object.values(byChannel)) {
      targeted = Math.max(targeted, counts.sent + counts.failed + counts.excluded);
    }
    if (!plan?.slices) return { reports: [], targeted };
    return {
      reports: [],
      targeted,
      nextDueAt: await nextSliceAt(ctx, execution.id),
      changes: { streamed: true },
    };
  }

  async function runPass(
    campaign: Campaign,
    execution: Execution,
    signal: AbortSignal,
    fresh: boolean,
    span: TelemetrySpan | undefined,
  ): Promise<PassOutcome> {
    if (sharedByWorkers(options.queue, options.audiences, campaign, execution)) {
      return sharedPass(campaign, execution, signal, options.queue);
    }
    if (execution.kind === "unitary") return unitaryPass(campaign, execution, signal, fresh, span);
    return execution.streamed
      ? slicePass(campaign, execution, signal, span)
      : firstPass(campaign, execution, signal, fresh, span);
  }

  /**
   * The execution's messages by outcome, all passes and processes together: the one report of a first,
   * single-pass run holds them all; anything else (passes, a resume) is summed by the ledger.
   */
  async function outcomesOf(
    execution: Execution,
    reports: DispatchReport[],
    resumed: boolean,
  ): Promise<Record<DeliveryOutcome, number>> {
    if (!resumed && !execution.streamed && reports.length === 1) return { ...reports[0]!.outcomes };
    const { outcomes } = await ctx.storage.summarize({
      campaignId: execution.campaignId,
      executionId: execution.id,
    });
    return outcomes;
  }

  async function run(executionId: string, controller: AbortController, start: LaunchOptions): Promise<void> {
    const held = start.held ?? (await claim(ctx, executionId, options.owner, options.claimMs));
    if (!held) return;
    const unwatch = watch(held, controller);
    let pass: Pass | undefined;
    try {
      const stored = held.current.value;
      const now = ctx.now();
      if (FINISHED_EXECUTION.has(stored.status)) return;
      if (stored.status === "scheduled" && (stored.executeAt ?? now) > now) return;
      if (stored.resumeAt && stored.resumeAt > now) return;
      const campaign = start.campaign ?? (await ctx.repos.campaigns.getCached(stored.campaignId))?.value;
      if (!isRunning(campaign)) {
        await settle(held, { status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined }, true);
        return;
      }
      const execution = { ...stored, status: "in-progress" as const, startedAt: stored.startedAt ?? now };
      let fresh = start.fresh === true;
      if (stored.status !== "in-progress" || stored.startedAt === undefined) {
        const version = held.current.version;
        await settle(held, { status: "in-progress", startedAt: execution.startedAt });
        // Fresh when no process had started it and this one's start went through at the first try: a
        // conflict means someone else wrote it meanwhile, and a resumed or taken-over execution is never fresh.
        fresh ||= stored.startedAt === undefined && held.current.version === version + 1;
      }
      // Started before: a later pass, or a resume after a crash or shutdown. A submitted execution is stored
      // with its start time and handed over held, so only a start time found in storage tells.
      const resumed = execution.streamed || (start.held === undefined && stored.startedAt !== undefined);
      pass = startPass(execution, resumed, start.parent);
      const outcome = await runPass(campaign, execution, controller.signal, fresh, pass.span);
      const counted: Partial<Execution> = {
        ...outcome.changes,
        targetedProfileCount: Math.max(execution.targetedProfileCount, outcome.targeted),
      };
      if (outcome.reports.some((report) => report.aborted) || controller.signal.aborted) {
        await settleHalted(held, controller, counted, pass, outcome.reports);
        return;
      }
      if (outcome.nextDueAt) {
        await settle(held, { ...counted, resumeAt: outcome.nextDueAt }, true);
        observe.log.info(
          { ...pass.fields, nextDueAt: outcome.nextDueAt.toISOString() },
          "execution waits for its next slice",
        );
        pass.span?.setAttributes({ "campaign_kit.execution.status": "waiting" });
        return;
      }
      const done = { ...execution, ...counted };
      const outcomes = await outcomesOf(done, outcome.reports, resumed);
      const failed = outcomes.sent === 0 && outcomes.failed > 0;
      const error = "Every message failed; see the ledger for the reasons.";
      await settle(
        held,
        {
          ...counted,
          status: failed ? "failed" : "succeeded",
          finishedAt: ctx.now(),
          resumeAt: undefined,
          ...(failed ? { error } : {}),
        },
        true,
      );
      if (failed) endFailed(pass, { error, outcomes });
      else endFinished(pass, "succeeded", done.targetedProfileCount, outcomes);
    } catch (error) {
      if (!pass) throw error;
      // An audience source or adapter that honours the signal throws on abort: that is a halt, not a failure.
      if (controller.signal.aborted) {
        await settleHalted(held, controller, {}, pass, []).catch(() => {});
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      const failed = {
        status: "failed" as const,
        finishedAt: ctx.now(),
        error: message,
        resumeAt: undefined,
      };
      await settle(held, failed, true).catch(() => {});
      endFailed(pass, { error: message, cause: error });
    } finally {
      await unwatch();
      // Whatever path ended the run, the claim goes with it (nothing to write when a settle above released it).
      await settle(held, {}, true).catch(() => {});
      pass?.span?.end();
    }
  }

  /** Logs, emits and traces the start of a pass. */
  function startPass(execution: Execution, resumed: boolean, parent: TelemetrySpan | undefined): Pass {
    const fields = { executionId: execution.id, campaignId: execution.campaignId, kind: execution.kind };
    observe.log.info({ ...fields, resumed }, "execution started");
    observe.emit("execution-started", { ...fields, resumed, at: ctx.now() });
    const span = observe.telemetry?.startSpan("campaign-kit.execution", {
      attributes: {
        "campaign_kit.campaign.id": execution.campaignId,
        "campaign_kit.execution.id": execution.id,
        "campaign_kit.execution.kind": execution.kind,
        "campaign_kit.execution.resumed": resumed,
      },
      parent,
    });
    return { fields, startedAt: ctx.clock.now(), span };
  }

  function endFinished(
    pass: Pass,
    status: "succeeded" | "cancelled",
    targeted: number,
    outcomes: Record<DeliveryOutcome, number>,
  ): void {
    const durationMs = ctx.clock.now() - pass.startedAt;
    observe.log.info({ ...pass.fields, status, targeted, ...outcomes, durationMs }, "execution finished");
    observe.emit("execution-finished", {
      ...pass.fields,
      status,
      targeted,
      outcomes,
      durationMs,
      at: ctx.now(),
    });
    pass.span?.setAttributes({
      "campaign_kit.execution.status": status,
      "campaign_kit.execution.targeted": targeted,
      "campaign_kit.messages.sent": outcomes.sent,
      "campaign_kit.messages.failed": outcomes.failed,
      "campaign_kit.messages.excluded": outcomes.excluded,
    });
  }

  function endFailed(
    pass: Pass,
    failure: { error: string; cause?: unknown; outcomes?: Record<DeliveryOutcome, number> },
  ): void {
    const durationMs = ctx.clock.now() - pass.startedAt;
    const code = isCampaignKitError(failure.cause) ? failure.cause.code : undefined;
    const logged =
      failure.cause === undefined ? { error: { message: failure.error } } : errorFields(failure.cause);
    observe.log.error(
      { ...pass.fields, ...logged, ...(failure.outcomes ?? {}), durationMs },
      code === "STORAGE_FAILED" ? "execution failed: storage unavailable" : "execution failed",
    );
    observe.emit("execution-failed", {
      ...pass.fields,
      error: failure.error,
      ...(code === undefined ? {} : { code }),
      ...(failure.cause === undefined ? {} : { cause: failure.cause }),
      durationMs,
      at: ctx.now(),
    });
    pass.span?.setAttributes({ "campaign_kit.execution.status": "failed" });
    pass.span?.fail(failure.cause ?? new Error(failure.error));
  }

  /**
   * After an abort: a stopped campaign or cancelled execution ends `cancelled`; a shutdown leaves it in
   * progress, to be resumed from the ledger by whoever runs it next; a lost claim leaves it to its new owner.
   */
  async function settleHalted(
    held: Held,
    controller: AbortController,
    counted: Partial<Execution>,
    pass: Pass,
    reports: DispatchReport[],
  ): Promise<void> {
    const reason = controller.signal.reason instanceof Halt ? controller.signal.reason.reason : "closing";
    pass.span?.setAttributes({
      "campaign_kit.execution.status": reason === "stopped" ? "cancelled" : reason,
    });
    if (reason === "claim-lost") {
      observe.log.warn(pass.fields, "execution claim lost: another process runs it now");
      return;
    }
    const stopped = !isRunning(await getCampaign(ctx, held.current.value.campaignId));
    await settle(
      held,
      stopped ? { ...counted, status: "cancelled", finishedAt: ctx.now(), resumeAt: undefined } : counted,
      true,
    );
    if (!stopped) {
      observe.log.info(pass.fields, "execution interrupted: it resumes from the ledger later");
      return;
    }
    const outcomes = { sent: 0, failed: 0, excluded: 0 };
    for (const report of reports) {
      outcomes.sent += report.outcomes.sent;
      outcomes.failed += report.outcomes.failed;
      outcomes.excluded += report.outcomes.excluded;
    }
    const targeted = counted.targetedProfileCount ?? held.current.value.targetedProfileCount;
    endFinished(pass, "cancelled", targeted, outcomes);
  }

  return {
    async submit(execution, campaign, parent) {
      const waits = execution.status === "scheduled";
      const now = ctx.now();
      const stored = waits
        ? execution
        : { ...claimed(execution, options.owner, now, options.claimMs), startedAt: now };
      if (!(await ctx.repos.executions.insert(stored))) {
        return { execution: (await ctx.repos.executions.find(execution.id)).value, created: false };
      }
      if (!waits) {
        // Just stored by this call: nothing of it can be in the ledger.
        void this.launch(stored, {
          held: { current: { value: stored, version: 1 } },
          campaign,
          fresh: true,
          parent,
        });
      }
      return { execution: stored, created: true };
    },
    launch({ id, campaignId }, start = {}) {
      const current = running.get(id);
      if (current) return current.done;
      const controller = new AbortController();
      const done = run(id, controller, start)
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
