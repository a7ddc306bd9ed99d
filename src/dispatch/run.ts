import type { EventEmitter } from "eventemitter3";
import { CampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Category, Channel } from "../model/common.js";
import type { FrequencyCap } from "../model/delivery-controls.js";
import type { DeliveryOutcome, DeliveryRecord, ExclusionReason } from "../model/execution.js";
import { EXCLUSION_REASONS } from "../model/execution.js";
import type { ChannelAdapter, OutboundMessage } from "../ports/channel.js";
import type { Clock } from "../ports/clock.js";
import type { DeliveryLedger } from "../ports/ledger.js";
import type { Logger } from "../ports/logger.js";
import type { Telemetry, TelemetrySpan } from "../ports/telemetry.js";
import type { DispatcherEvents } from "./events.js";
import type { ExperimentSplit } from "./experiment.js";
import type { RateGate } from "./rate.js";
import type { CompiledAction } from "./render/compile.js";
import type { ResolvedRetryOptions } from "./retry.js";
import type {
  ChannelCounts,
  DispatchClaims,
  DispatchReport,
  RecipientOverride,
  SuppressionList,
} from "./types.js";

/** One action of a campaign, ready to send: its adapter, configuration, compiled content and counters. */
export interface PreparedAction {
  channel: Channel;
  adapter: ChannelAdapter;
  configuration: ChannelConfiguration;
  /** The content compiled; for an experiment, the control's (see `experiment` for every treatment's). */
  compiled: CompiledAction;
  /** The action's content experiment: its split, and each treatment's content compiled once. */
  experiment?: { split: ExperimentSplit; compiled: ReadonlyMap<string, CompiledAction> };
  /** See `messageIdPrefix`: a message id is this plus the recipient id. */
  idPrefix: string;
  /** Messages per provider call: the batch size, capped by the adapter's maximum and the bucket's burst. */
  maxBatch: number;
  counts: ChannelCounts;
  /**
   * Recipient ids being processed for this action, so a recipient listed twice is not sent twice
   * concurrently. Keyed by recipient id, not message id: the action fixes the rest of the message id, and
   * short ids hash faster.
   */
  inFlight: Set<string>;
}

/** Everything one dispatch shares between its batches. Internal. */
export interface Run {
  campaign: Campaign;
  campaignId: string;
  executionId: string;
  category: Category;
  ledger: DeliveryLedger;
  clock: Clock;
  emitter: EventEmitter<DispatcherEvents>;
  bucket: RateGate;
  /** Set for a worker's dispatch: messages are claimed in the ledger before they are sent. */
  claims: DispatchClaims | undefined;
  retry: ResolvedRetryOptions;
  random: () => number;
  context: Record<string, unknown>;
  overrides: ReadonlyMap<string, RecipientOverride> | undefined;
  /** Aborts on the caller's signal and on an internal failure: no new sends after it. */
  signal: AbortSignal;
  /** Nothing of the execution is in the ledger yet: batches skip the ledger read. */
  fresh: boolean;
  windowEnd: number;
  frequencyCap: FrequencyCap | undefined;
  suppressions: SuppressionList | undefined;
  prepareMessage: ((message: OutboundMessage) => OutboundMessage) | undefined;
  report: DispatchReport;
  progressIntervalMs: number;
  lastProgressAt: number;
  log: Logger;
  /** `undefined` when nobody traces: the batches then build no attributes. */
  telemetry: Telemetry | undefined;
  /** The span batch spans belong to. */
  span: TelemetrySpan | undefined;
}

/** A fresh report with every counter at zero. */
export function emptyReport(campaignId: string, executionId: string, startedAt: Date): DispatchReport {
  const excludedByReason = {} as Record<ExclusionReason, number>;
  for (const reason of EXCLUSION_REASONS) excludedByReason[reason] = 0;
  return {
    campaignId,
    executionId,
    recipients: 0,
    outcomes: { sent: 0, failed: 0, excluded: 0 },
    byChannel: {},
    excludedByReason,
    retries: 0,
    rateLimited: 0,
    skippedAlreadySent: 0,
    inDoubt: 0,
    deferred: 0,
    interrupted: 0,
    aborted: false,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
  };
}

/** A copy of the report that later counting won't change. */
export function snapshot(report: DispatchReport): DispatchReport {
  const byChannel: DispatchReport["byChannel"] = {};
  for (const [channel, counts] of Object.entries(report.byChannel))
    byChannel[channel as Channel] = { ...counts };
  return {
    ...report,
    outcomes: { ...report.outcomes },
    byChannel,
    excludedByReason: { ...report.excludedByReason },
  };
}

/** Builds a ledger record and counts it in the report. */
export function makeRecord(
  run: Run,
  action: PreparedAction,
  messageId: string,
  recipientId: string,
  outcome: DeliveryOutcome,
  attempts: number,
  at: Date,
  reason?: string,
  treatmentId?: string,
): DeliveryRecord {
  run.report.outcomes[outcome]++;
  action.counts[outcome]++;
  const record: DeliveryRecord = {
    messageId,
    campaignId: run.campaignId,
    executionId: run.executionId,
    recipientId,
    channel: action.channel,
    outcome,
    attempts,
    at,
  };
  if (reason !== undefined) record.reason = reason;
  if (treatmentId !== undefined) record.treatmentId = treatmentId;
  return record;
}

/** Records an exclusion, counts it and tells listeners. */
export function exclude(
  run: Run,
  action: PreparedAction,
  records: DeliveryRecord[],
  messageId: string,
  recipientId: string,
  reason: ExclusionReason,
  at: Date,
  variable?: string,
  treatmentId?: string,
): void {
  const record = makeRecord(run, action, messageId, recipientId, "excluded", 0, at, reason, treatmentId);
  run.report.excludedByReason[reason]++;
  records.push(record);
  if (run.emitter.listenerCount("excluded") > 0) {
    run.emitter.emit("excluded", record, variable === undefined ? { reason } : { reason, variable });
  }
}

/** Wraps ledger failures, so a dispatch fails with `STORAGE_FAILED` and says which call broke. */
export async function ledgerCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CampaignKitError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new CampaignKitError("STORAGE_FAILED", `The delivery ledger failed in ${operation}: ${reason}`, {
      cause: error,
      details: { operation },
    });
  }
}

/** Emits `progress` when listened to and the interval has passed (or when `force`d at the end). */
export function maybeProgress(run: Run, force = false): void {
  if (run.emitter.listenerCount("progress") === 0) return;
  const now = run.clock.now();
  if (!force && now - run.lastProgressAt < run.progressIntervalMs) return;
  run.lastProgressAt = now;
  const report = snapshot(run.report);
  report.finishedAt = new Date(now);
  report.durationMs = now - report.startedAt.getTime();
  run.emitter.emit("progress", report, force);
}
