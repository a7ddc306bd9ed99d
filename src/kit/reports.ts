import pLimit from "p-limit";
import type { Channel } from "../model/common.js";
import { EXCLUSION_REASONS, type ExclusionReason, type Execution } from "../model/execution.js";
import { validationFailed } from "../model/input-guard.js";
import type { LedgerSummary } from "../ports/ledger.js";
import { findCampaign } from "../repositories/campaigns.js";
import { type ActorRef, type KitContext, operate } from "./context.js";
import {
  countConversions,
  EXPERIMENT_CONFIDENCE,
  type ExperimentReport,
  experimentAction,
  experimentReport,
} from "./experiment-report.js";
import {
  type Engagement,
  type EngagementBreakdown,
  engagementOf,
  type HourlyBucket,
  type SentCounts,
} from "./feedback/engagement.js";

/**
 * Delivery counts of a campaign or one of its executions. Exclusions count every recipient not sent, for a
 * reason; `excludedByReason.holdout` are a content experiment's holdout, sent nothing on purpose: a
 * measurement, not a delivery problem (see {@link ReportsApi.experiment}).
 */
export interface DeliveryReport extends Omit<LedgerSummary, "excludedByReason"> {
  /** Excluded messages by reason, every reason present (0 when none). */
  excludedByReason: Record<ExclusionReason, number>;
  /** The campaign reported on. */
  campaignId: string;
  /** Set on an execution's report. */
  executionId?: string;
  /** Profiles targeted: the audience members streamed, or the recipients named by unitary calls. */
  targeted: number;
  /** Executions counted (1 for an execution's report). */
  executions: number;
  /** Executions by status. */
  executionsByStatus: Partial<Record<Execution["status"], number>>;
  /**
   * What happened after the send, from delivery feedback: delivered, bounces (hard and soft), opens and
   * clicks (unique and total), unsubscribes, complaints, custom events, and their rates. Send errors are
   * `outcomes.failed`, exclusions `excludedByReason`. See {@link Engagement} for the precedence rules.
   */
  engagement: Engagement;
  /** The same figures for each execution (a campaign report's executions that sent or heard anything). */
  byExecution: Record<string, Engagement>;
  /** The same figures for each action, by its channel (a campaign has one action per channel). */
  byAction: Partial<Record<Channel, Engagement>>;
  /**
   * The same figures for each experiment treatment, by treatment id, for messages whose ledger record
   * carries one (`byTreatment` holds their delivery outcomes).
   */
  engagementByTreatment: Record<string, Engagement>;
  /** Sends and feedback events by hour (UTC), oldest first, for plotting: only hours with something. */
  hourly: HourlyBucket[];
}

function sentCounts(summary: LedgerSummary, byExecution: Record<string, number>): SentCounts {
  const byAction: SentCounts["byAction"] = {};
  for (const [channel, counts] of Object.entries(summary.byChannel))
    byAction[channel as Channel] = counts?.sent ?? 0;
  const byTreatment: Record<string, number> = {};
  for (const [id, counts] of Object.entries(summary.byTreatment)) byTreatment[id] = counts.sent;
  return {
    total: summary.outcomes.sent,
    byExecution,
    byAction,
    byTreatment,
    byHour: summary.sentByHour ?? {},
  };
}

/** Reports. Need `campaign-report.read`. */
export interface ReportsApi {
  /** Every execution of a campaign, summed. */
  campaign(params: { actor: ActorRef; id: string }): Promise<DeliveryReport>;
  /** One execution. */
  execution(params: { actor: ActorRef; id: string }): Promise<DeliveryReport>;
  /**
   * The result of the campaign's content experiment, over all its executions: per treatment, the recipients
   * exposed (sent), their conversions for the experiment's metric (feedback recorded for their messages), the
   * rate and the probability to beat the control; the holdout; and the winner, named only when it beats every
   * other treatment with at least `confidence` probability (default 0.95).
   *
   * @throws CampaignKitError `NOT_FOUND` when the campaign does not exist or runs no experiment;
   * `VALIDATION_FAILED` for a `confidence` outside 0.5 to 0.9999.
   * @example
   * ```ts
   * const result = await kit.reports.experiment({ actor: "ada", id: "spring-sale" });
   * for (const t of result.treatments) console.log(t.id, t.exposed, t.conversions, t.rate, t.probabilityToBeatControl);
   * console.log(result.winner ?? "no winner yet");
   * ```
   */
  experiment(params: { actor: ActorRef; id: string; confidence?: number }): Promise<ExperimentReport>;
}

function report(
  campaignId: string,
  summary: LedgerSummary,
  executions: readonly Execution[],
  breakdown: EngagementBreakdown,
): DeliveryReport {
  const executionsByStatus: DeliveryReport["executionsByStatus"] = {};
  for (const e of executions) executionsByStatus[e.status] = (executionsByStatus[e.status] ?? 0) + 1;
  const excludedByReason = Object.fromEntries(EXCLUSION_REASONS.map((reason) => [reason, 0])) as Record<
    ExclusionReason,
    number
  >;
  for (const [reason, count] of Object.entries(summary.excludedByReason)) {
    excludedByReason[reason as ExclusionReason] = count;
  }
  return {
    campaignId,
    ...summary,
    excludedByReason,
    targeted: executions.reduce((sum, e) => sum + e.targetedProfileCount, 0),
    executions: executions.length,
    executionsByStatus,
    engagement: breakdown.total,
    byExecution: breakdown.byExecution,
    byAction: breakdown.byAction,
    engagementByTreatment: breakdown.byTreatment,
    hourly: breakdown.hourly,
  };
}

/** Builds the reports API. */
export function reportsApi(ctx: KitContext): ReportsApi {
  return {
    campaign: ({ actor, id }) =>
      operate(
        ctx,
        actor,
        "campaign-report.read",
        { action: "report.campaign", objectType: "campaign", objectId: id, read: true },
        async () => {
          await findCampaign(ctx, id);
          const executions = await ctx.repos.executions.every({ campaignId: id });
          const summary = await ctx.storage.summarize({ campaignId: id });
          // Each execution's sent count, for its rates: a few at a time, as a recurring campaign has many.
          const limit = pLimit(4);
          const perExecution = await Promise.all(
            executions.map((e) =>
              limit(async () => {
                const one = await ctx.storage.summarize({ campaignId: id, executionId: e.id });
                return [e.id, one.outcomes.sent] as const;
              }),
            ),
          );
          const sent = sentCounts(summary, Object.fromEntries(perExecution.filter(([, n]) => n > 0)));
          const breakdown = await engagementOf(ctx.repos, { campaignId: id }, sent);
          return { result: report(id, summary, executions, breakdown) };
        },
      ),
    execution: ({ actor, id }) =>
      operate(
        ctx,
        actor,
        "campaign-report.read",
        { action: "report.execution", objectType: "execution", objectId: id, read: true },
        async () => {
          const execution = (await ctx.repos.executions.find(id)).value;
          const summary = await ctx.storage.summarize({ campaignId: execution.campaignId, executionId: id });
          const sent = sentCounts(summary, summary.outcomes.sent > 0 ? { [id]: summary.outcomes.sent } : {});
          const breakdown = await engagementOf(
            ctx.repos,
            { campaignId: execution.campaignId, executionId: id },
            sent,
          );
          return {
            result: { ...report(execution.campaignId, summary, [execution], breakdown), executionId: id },
          };
        },
      ),
    experiment: ({ actor, id, confidence = EXPERIMENT_CONFIDENCE }) =>
      operate(
        ctx,
        actor,
        "campaign-report.read",
        { action: "report.experiment", objectType: "campaign", objectId: id, read: true },
        async () => {
          if (!(typeof confidence === "number" && confidence >= 0.5 && confidence <= 0.9999)) {
            throw validationFailed("experiment report", [
              {
                path: "confidence",
                message: "Expected a probability from 0.5 to 0.9999, such as 0.95 (the default)",
              },
            ]);
          }
          const campaign = await findCampaign(ctx, id);
          const { experiment } = experimentAction(campaign);
          const [summary, conversions] = await Promise.all([
            ctx.storage.summarize({ campaignId: id }),
            countConversions(ctx.storage, id, experiment.metric),
          ]);
          return { result: experimentReport(campaign, summary, conversions, confidence) };
        },
      ),
  };
}
