import { EXCLUSION_REASONS, type ExclusionReason, type Execution } from "../model/execution.js";
import type { LedgerSummary } from "../ports/ledger.js";
import { findCampaign } from "../repositories/campaigns.js";
import { type ActorRef, type KitContext, operate } from "./context.js";

/** Delivery counts of a campaign or one of its executions. */
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
  };
}
