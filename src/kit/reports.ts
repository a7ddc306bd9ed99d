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
          return { result: report(id, await ctx.storage.summarize({ campaignId: id }), executions) };
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
          return { result: { ...report(execution.campaignId, summary, [execution]), executionId: id } };
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
