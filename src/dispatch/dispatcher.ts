import { EventEmitter } from "eventemitter3";
import pLimit, { type LimitFunction } from "p-limit";
import { CampaignKitError } from "../errors.js";
import { actionVariants, type Campaign, type ContentAction } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Channel } from "../model/common.js";
import { messageIdPrefix } from "../model/message-id.js";
import type { ChannelAdapter } from "../ports/channel.js";
import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";
import { kitLogger, type Logger } from "../ports/logger.js";
import { safeTelemetry, type Telemetry } from "../ports/telemetry.js";
import type { DispatcherEvents } from "./events.js";
import { experimentIdOf } from "./experiment.js";
import { pump } from "./pump.js";
import { type RateGate, TokenBucket } from "./rate.js";
import type { CompiledAction } from "./render/compile.js";
import { compileAction } from "./render/compile.js";
import type { ResolvedRetryOptions } from "./retry.js";
import { resolveRetryOptions } from "./retry.js";
import type { PreparedAction, Run } from "./run.js";
import { emptyReport, maybeProgress, snapshot } from "./run.js";
import type { DispatcherOptions, DispatchReport, DispatchRequest } from "./types.js";

const COMPILE_CACHE_SIZE = 256;
const HOUR_MS = 3_600_000;

/**
 * Sends campaigns: concurrent, rate-limited per campaign, retrying, exactly once per recipient and channel.
 * One dispatcher serves many dispatches at once; they share its two lanes (marketing and transactional, each
 * a p-limit limiter) and, per campaign id, a token bucket, so one campaign's throttle never stalls another
 * and transactional sends never queue behind marketing ones. Listen to {@link DispatcherEvents} with `on`.
 *
 * @example
 * ```ts
 * const dispatcher = createDispatcher({ channels: [memoryChannel()], ledger: memoryLedger(), concurrency: 16 });
 * dispatcher.on("failed", (record, error) => log.warn(record.recipientId, error));
 * const report = await dispatcher.dispatch({
 *   campaign,
 *   executionId: "2026-05-01",
 *   configurations: { news: newsConfiguration },
 *   recipients: audiences.members({ audienceId: "subscribers" }),
 * });
 * console.log(report.outcomes.sent, report.excludedByReason);
 * ```
 */
export class Dispatcher extends EventEmitter<DispatcherEvents> {
  private readonly adapters = new Map<Channel, ChannelAdapter>();
  private readonly options: DispatcherOptions;
  private readonly clock: Clock;
  private readonly retry: ResolvedRetryOptions;
  private readonly random: () => number;
  private readonly batchSize: number;
  private readonly marketingLane: LimitFunction;
  private readonly transactionalLane: LimitFunction;
  private readonly buckets = new Map<string, { bucket: TokenBucket; users: number }>();
  private readonly compiled = new Map<string, CompiledAction>();
  private readonly log: Logger;
  private readonly telemetry: Telemetry | undefined;

  constructor(options: DispatcherOptions) {
    super();
    this.options = options;
    for (const adapter of options.channels) this.adapters.set(adapter.channel, adapter);
    this.clock = options.clock ?? systemClock;
    this.retry = resolveRetryOptions(options.retry);
    this.random = options.random ?? Math.random;
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 100));
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 32));
    this.marketingLane = pLimit(concurrency);
    this.transactionalLane = pLimit(Math.max(1, Math.floor(options.transactionalConcurrency ?? concurrency)));
    // The kit hands over its logger and telemetry already made safe; wrapping them again costs nothing.
    this.log = kitLogger(options.logger);
    this.telemetry = safeTelemetry(options.telemetry);
  }

  /**
   * Sends the campaign's actions, all at once, to every recipient the iterable yields, and resolves with the
   * report once every message is sent, failed, excluded, skipped or (after an abort) interrupted. Resuming
   * with the same `executionId` skips whatever the ledger holds as sent.
   *
   * @throws CampaignKitError `CHANNEL_NOT_REGISTERED`, `NOT_FOUND` (configuration), `TEMPLATE_INVALID` before
   * anything is sent; `STORAGE_FAILED` when the ledger fails mid-way (sends in flight finish first).
   */
  async dispatch(request: DispatchRequest): Promise<DispatchReport> {
    const { campaign, executionId } = request;
    const startedAt = this.clock.now();
    const report = emptyReport(campaign.id, executionId, new Date(startedAt));
    if (request.claims && (!this.options.ledger.claim || !this.options.ledger.release)) {
      throw new CampaignKitError(
        "VALIDATION_FAILED",
        "Workers claim messages in the ledger before sending them, and this ledger has no `claim` and `release`: use memoryStorage(), postgresStorage() or a storage that implements them.",
      );
    }
    const shared = request.rate;
    const bucket: RateGate = shared ?? this.acquireBucket(campaign);
    let actions: PreparedAction[];
    try {
      actions = this.prepare(request, report, bucket);
    } catch (error) {
      if (!shared) this.releaseBucket(campaign.id);
      throw error;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal?.reason);
    if (request.signal?.aborted) controller.abort(request.signal.reason);
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const windowStart = request.window?.start.getTime() ?? startedAt;
    const overrides = request.recipientOverrides;
    const run: Run = {
      campaign,
      campaignId: campaign.id,
      executionId,
      category: campaign.category,
      ledger: this.options.ledger,
      clock: this.clock,
      emitter: this,
      bucket,
      claims: request.claims,
      retry: this.retry,
      random: this.random,
      context: request.context ?? {},
      overrides:
        overrides === undefined || overrides instanceof Map ? overrides : new Map(Object.entries(overrides)),
      signal: controller.signal,
      fresh: request.fresh === true,
      windowEnd:
        request.window?.end.getTime() ??
        windowStart + campaign.deliveryControls.deliveryWindowHours * HOUR_MS,
      frequencyCap: campaign.category === "marketing" ? campaign.deliveryControls.frequencyCap : undefined,
      suppressions: this.options.suppressions,
      prepareMessage: this.options.prepareMessage,
      report,
      progressIntervalMs: this.options.progressIntervalMs ?? 1000,
      lastProgressAt: startedAt,
      log: this.log,
      telemetry: this.telemetry,
      span: request.span,
    };
    let failure: unknown;
    try {
      if (windowStart > startedAt)
        await this.clock.sleep(windowStart - startedAt, run.signal).catch(() => {});
      failure = await pump(run, actions, request.recipients, {
        lane: run.category === "transactional" ? this.transactionalLane : this.marketingLane,
        batchSize: this.batchSize,
        plan: request.plan,
        controller,
      });
    } finally {
      request.signal?.removeEventListener("abort", onAbort);
      if (!shared) this.releaseBucket(campaign.id);
    }
    if (failure !== undefined) throw failure;
    const finishedAt = this.clock.now();
    report.aborted = request.signal?.aborted ?? false;
    report.finishedAt = new Date(finishedAt);
    report.durationMs = finishedAt - startedAt;
    maybeProgress(run, true);
    return snapshot(report);
  }

  private prepare(request: DispatchRequest, report: DispatchReport, bucket: RateGate): PreparedAction[] {
    const { campaign, executionId, configurations } = request;
    return campaign.actions.map((action) => {
      const adapter = this.adapters.get(action.channel);
      if (!adapter) {
        throw new CampaignKitError(
          "CHANNEL_NOT_REGISTERED",
          `No channel adapter for "${action.channel}" (campaign "${campaign.id}"); pass one in \`channels\`.`,
          { details: { channel: action.channel, campaignId: campaign.id } },
        );
      }
      const id = action.channelConfigurationId;
      const configuration =
        configurations instanceof Map
          ? configurations.get(id)
          : (configurations as Record<string, ChannelConfiguration>)[id];
      if (!configuration) {
        throw new CampaignKitError(
          "NOT_FOUND",
          `No channel configuration "${id}" in \`configurations\` for the ${action.channel} action of campaign "${campaign.id}".`,
          {
            details: { channelConfigurationId: id, campaignId: campaign.id },
          },
        );
      }
      // Each treatment is compiled once (and cached by content), as an action of its own.
      const variants = actionVariants(action);
      if (variants.length === 0) {
        throw new CampaignKitError(
          "VALIDATION_FAILED",
          `The ${action.channel} action of campaign "${campaign.id}" has no content: give it \`content\` or an \`experiment\`.`,
          {
            details: {
              issues: [{ path: "content", message: "An action needs `content` or an `experiment`" }],
            },
          },
        );
      }
      const compiledVariants = variants.map((variant) => ({
        treatmentId: variant.treatmentId,
        compiled: this.compile(campaign, variant.action, variant.treatmentId),
      }));
      const compiled = compiledVariants[0]!.compiled;
      const experiment = action.experiment && {
        split: {
          id: experimentIdOf(campaign.id, action),
          treatments: action.experiment.treatments,
          holdoutPercentage: action.experiment.holdoutPercentage,
        },
        compiled: new Map(compiledVariants.map((variant) => [variant.treatmentId!, variant.compiled])),
      };
      const counts = { sent: 0, failed: 0, excluded: 0, skippedAlreadySent: 0 };
      report.byChannel[action.channel] = counts;
      return {
        channel: action.channel,
        adapter,
        configuration,
        compiled,
        ...(experiment ? { experiment } : {}),
        idPrefix: messageIdPrefix(campaign.id, executionId, action.channel),
        maxBatch: Math.max(
          1,
          Math.min(this.batchSize, adapter.capabilities.maxBatchSize ?? 100, bucket.burst),
        ),
        counts,
        inFlight: new Set(),
      };
    });
  }

  /** Compiles a content once; the cache key is the content, so an edited campaign is compiled again. */
  private compile(
    campaign: Campaign,
    action: ContentAction,
    treatmentId: string | undefined,
  ): CompiledAction {
    const key = `${campaign.id}\u0000${action.channel}\u0000${treatmentId ?? ""}\u0000${JSON.stringify(action.content)}`;
    let compiled = this.compiled.get(key);
    if (!compiled) {
      compiled = compileAction(action, {
        campaignId: campaign.id,
        ...(treatmentId === undefined ? {} : { treatmentId }),
        ...(this.options.maxMessageChars === undefined ? {} : { maxChars: this.options.maxMessageChars }),
      });
      if (this.compiled.size >= COMPILE_CACHE_SIZE) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, compiled);
    }
    return compiled;
  }

  private acquireBucket(campaign: Campaign): TokenBucket {
    let entry = this.buckets.get(campaign.id);
    if (!entry) {
      const rate = campaign.deliveryControls.rateLimit;
      entry = { bucket: new TokenBucket({ ratePerSecond: rate, clock: this.clock }), users: 0 };
      this.buckets.set(campaign.id, entry);
    }
    entry.users++;
    return entry.bucket;
  }

  private releaseBucket(campaignId: string): void {
    const entry = this.buckets.get(campaignId);
    if (entry && --entry.users <= 0) this.buckets.delete(campaignId);
  }
}

/**
 * Creates a {@link Dispatcher}. See {@link DispatcherOptions} for the knobs and {@link DispatcherEvents} for
 * what it emits.
 *
 * @example
 * ```ts
 * const dispatcher = createDispatcher({
 *   channels: [smtpChannel({ transporter }), memoryChannel({ channel: "sms" })],
 *   ledger: storage.ledger,
 *   concurrency: 32,
 *   retry: { attempts: 5, baseDelayMs: 500, maxDelayMs: 60_000 },
 * });
 * ```
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new Dispatcher(options);
}
