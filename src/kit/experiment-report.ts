import { experimentIdOf } from "../dispatch/experiment.js";
import { CampaignKitError } from "../errors.js";
import type { Campaign } from "../model/campaign.js";
import type { Channel } from "../model/common.js";
import type { DeliveryOutcome } from "../model/execution.js";
import { type ExperimentMetric, HOLDOUT_TREATMENT_ID } from "../model/experiment.js";
import type { LedgerSummary } from "../ports/ledger.js";
import type { Store } from "../ports/storage.js";
import { probabilityToBeat, significantWinner } from "./experiment-statistics.js";

/**
 * The confidence a treatment needs to be named the winner, unless a report asks for another: it must beat
 * every other treatment, control included, with at least this probability.
 */
export const EXPERIMENT_CONFIDENCE = 0.95;

/** One treatment's figures in an {@link ExperimentReport}. */
export interface TreatmentResult {
  /** The treatment's id. */
  id: string;
  /** Its name, when it has one. */
  name?: string;
  /** Whether it is the control: the first treatment, the one the others are compared with. */
  control: boolean;
  /** Its share of the recipients, in percent, as configured. */
  percentage: number;
  /**
   * Messages of this treatment recorded `sent`, over every execution: recipients exposed, counted once per
   * occurrence of a recurring campaign.
   */
  exposed: number;
  /** Its messages that failed for good. */
  failed: number;
  /** Its recipients excluded (no consent, missing variable...): assigned it, but never exposed. */
  excluded: number;
  /** Exposed recipients who converted: feedback documents of the metric's type for this treatment. */
  conversions: number;
  /** `conversions / exposed`, 0 when nothing was exposed. */
  rate: number;
  /**
   * The probability that this treatment's true conversion rate is higher than the control's, given what was
   * observed (Beta-Binomial posteriors, uniform priors); `undefined` for the control itself.
   */
  probabilityToBeatControl?: number;
}

/** A content experiment's result: per treatment, the holdout, and the winner when there is one. */
export interface ExperimentReport {
  /** The campaign reported on. */
  campaignId: string;
  /** The channel of the action that runs the experiment. */
  channel: Channel;
  /** The experiment's assignment seed (its `id`, or `<campaign id>:<channel>`). */
  experimentId: string;
  /** What counts as a conversion. */
  metric: ExperimentMetric;
  /** The confidence a winner needs (0.95 unless asked otherwise). */
  confidence: number;
  /** Every treatment, the control first. */
  treatments: TreatmentResult[];
  /**
   * The holdout: recipients sent nothing on purpose (recorded `excluded`, reason `holdout`) and, for a custom
   * metric, those of them who converted anyway. Absent when the experiment holds nobody out.
   */
  holdout?: { percentage: number; recipients: number; conversions: number; rate: number };
  /**
   * The id of the treatment that beats every other with at least `confidence` probability; absent while no
   * treatment does (not enough data yet, or no real difference).
   */
  winner?: string;
}

const ZERO: Record<DeliveryOutcome, number> = { sent: 0, failed: 0, excluded: 0 };

/** The action of `campaign` that runs an experiment, or `NOT_FOUND`. */
export function experimentAction(campaign: Campaign) {
  const action = campaign.actions.find((a) => a.experiment !== undefined);
  if (action?.experiment === undefined) {
    throw new CampaignKitError(
      "NOT_FOUND",
      `Campaign '${campaign.id}' runs no content experiment: give one of its actions an \`experiment\` to compare treatments.`,
      { details: { campaignId: campaign.id } },
    );
  }
  return { action, experiment: action.experiment };
}

/**
 * How many feedback documents of `type` each treatment of the campaign has: conversions, one document per
 * (message, type). Read page by page, so a large campaign never sits in memory.
 */
export async function countConversions(
  store: Store,
  campaignId: string,
  type: ExperimentMetric,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await store.list({
      collection: "feedback",
      where: { campaignId, type },
      limit: 500,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const document of page.items) {
      const treatmentId = document.keys.treatmentId;
      if (typeof treatmentId === "string") counts.set(treatmentId, (counts.get(treatmentId) ?? 0) + 1);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return counts;
}

/** Builds the report from the ledger's counts by treatment and the conversions. */
export function experimentReport(
  campaign: Campaign,
  summary: Pick<LedgerSummary, "byTreatment">,
  conversions: ReadonlyMap<string, number>,
  confidence = EXPERIMENT_CONFIDENCE,
): ExperimentReport {
  const { action, experiment } = experimentAction(campaign);
  const treatments: TreatmentResult[] = experiment.treatments.map((treatment, index) => {
    const counts = summary.byTreatment[treatment.id] ?? ZERO;
    const converted = conversions.get(treatment.id) ?? 0;
    const result: TreatmentResult = {
      id: treatment.id,
      control: index === 0,
      percentage: treatment.percentage,
      exposed: counts.sent,
      failed: counts.failed,
      excluded: counts.excluded,
      conversions: converted,
      rate: counts.sent === 0 ? 0 : converted / counts.sent,
    };
    if (treatment.name !== undefined) result.name = treatment.name;
    return result;
  });
  const arms = treatments.map((t) => ({ exposed: t.exposed, conversions: t.conversions }));
  treatments.forEach((treatment, index) => {
    if (index > 0) treatment.probabilityToBeatControl = probabilityToBeat(arms[index]!, arms[0]!);
  });
  const report: ExperimentReport = {
    campaignId: campaign.id,
    channel: action.channel,
    experimentId: experimentIdOf(campaign.id, action),
    metric: experiment.metric,
    confidence,
    treatments,
  };
  if (experiment.holdoutPercentage > 0) {
    const recipients = (summary.byTreatment[HOLDOUT_TREATMENT_ID] ?? ZERO).excluded;
    const converted = conversions.get(HOLDOUT_TREATMENT_ID) ?? 0;
    report.holdout = {
      percentage: experiment.holdoutPercentage,
      recipients,
      conversions: converted,
      rate: recipients === 0 ? 0 : converted / recipients,
    };
  }
  const winner = significantWinner(arms, confidence);
  if (winner !== undefined) report.winner = treatments[winner]!.id;
  return report;
}
