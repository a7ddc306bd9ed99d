import { z } from "zod";
import { idSchema } from "./common.js";

/**
 * The treatment id holdout recipients are recorded under: they are sent nothing, and the ledger holds them as
 * `excluded` with reason `holdout`. No treatment may take this id.
 */
export const HOLDOUT_TREATMENT_ID = "holdout";

/** The fewest and most treatments an experiment compares. */
export const EXPERIMENT_TREATMENTS = { min: 2, max: 5 } as const;

const CUSTOM_METRIC = /^custom:[A-Za-z0-9][\w.-]{0,99}$/;
const METRIC_MESSAGE =
  "Expected a success metric: 'opened', 'clicked', or a custom feedback event such as 'custom:purchase'";

/**
 * What counts as a conversion: the recipient `opened` the message, `clicked` in it, or a custom feedback event
 * (`custom:<name>`, for example `custom:purchase`) was recorded for their message.
 */
export const experimentMetricSchema = z.union(
  [
    z.enum(["opened", "clicked"]),
    z.custom<`custom:${string}`>((value) => typeof value === "string" && CUSTOM_METRIC.test(value)),
  ],
  { error: METRIC_MESSAGE },
);
/** An experiment's success metric: `opened`, `clicked` or `custom:<name>`. */
export type ExperimentMetric = z.infer<typeof experimentMetricSchema>;

/**
 * A traffic share in percent, 0 to 100 in steps of 0.01 (so `33.33` works, `33.333` does not): assignment
 * works in 10,000 buckets, one per hundredth of a percent.
 */
const percentageSchema = (what: string) =>
  z
    .number({ error: `Expected ${what} as a number of percent, such as 50` })
    .min(0, `${what} can't be negative`)
    .max(100, `${what} is at most 100`)
    .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-6, {
      message: `${what} has at most two decimals, such as 33.33`,
    });

/**
 * One treatment of a content experiment: its id (what reports and the ledger call it), the share of the
 * recipients it gets, and its own content, typed by the action's channel.
 */
export const treatmentSchema = <S extends z.ZodType>(content: S) =>
  z.object({
    /** Unique within the campaign; recorded as `treatmentId` on each message. `holdout` is reserved. */
    id: idSchema.refine((id) => id !== HOLDOUT_TREATMENT_ID, {
      message: `'${HOLDOUT_TREATMENT_ID}' is reserved for the holdout; name the treatment otherwise`,
    }),
    /** A name people recognise it by, for reports. */
    name: z.string().min(1).max(200).optional(),
    /** The share of recipients it gets, in percent (more than 0, at most two decimals). */
    percentage: percentageSchema("A treatment's percentage").refine((value) => value > 0, {
      message: "A treatment's percentage must be more than 0; remove a treatment nobody should get",
    }),
    /** What this treatment sends, as Handlebars templates; the same fields as the action's `content`. */
    content,
  });

/**
 * A content experiment on one action: 2 to 5 treatments, each with its own content and traffic percentage, an
 * optional holdout that is sent nothing (and counted), and the metric that decides the winner. The
 * percentages plus the holdout sum to 100. Each recipient gets the same treatment in every run: assignment is
 * a hash of (experiment id, recipient id).
 */
export const experimentSchema = <S extends z.ZodType>(content: S) =>
  z.object({
    /**
     * The assignment seed. Defaults to `<campaign id>:<channel>`; give one to keep each recipient's treatment
     * across a duplicate or a new version of the campaign, or change it to draw new groups.
     */
    id: idSchema.optional(),
    /** What counts as a conversion: `opened`, `clicked` or a custom feedback event `custom:<name>`. */
    metric: experimentMetricSchema,
    /** The treatments, 2 to 5; the first is the control the others are compared with. */
    treatments: z.array(treatmentSchema(content)),
    /** The share of recipients held out, in percent: sent nothing, counted, compared. Default 0. */
    holdoutPercentage: percentageSchema("The holdout percentage").default(0),
  });

/** One problem of an experiment's shape, with the path (from the experiment) it concerns. */
export interface ExperimentIssue {
  /** `treatments-count`, `percentages` or `duplicate-treatment`. */
  kind: "treatments-count" | "percentages" | "duplicate-treatment";
  /** Path segments from the experiment (`["treatments", 2, "id"]`). */
  path: (string | number)[];
  /** What is wrong and how to fix it, as a sentence. */
  message: string;
}

/** Hundredths of a percent: what percentages sum in, so `33.33 + 33.33 + 33.34` is exactly 100. */
export const basisPoints = (percentage: number): number => Math.round(percentage * 100);

/**
 * The rules an experiment's parts must keep together: 2 to 5 treatments, unique ids, and percentages that sum
 * to 100 with the holdout. Shared by the schema and the prerequisites, so both say the same thing.
 */
export function experimentIssues(experiment: {
  treatments: readonly { id: string; percentage: number }[];
  holdoutPercentage?: number | undefined;
}): ExperimentIssue[] {
  const issues: ExperimentIssue[] = [];
  const { treatments } = experiment;
  const { min, max } = EXPERIMENT_TREATMENTS;
  if (treatments.length < min || treatments.length > max) {
    issues.push({
      kind: "treatments-count",
      path: ["treatments"],
      message: `An experiment compares ${min} to ${max} treatments; this one has ${treatments.length}`,
    });
  }
  const seen = new Set<string>();
  treatments.forEach((treatment, index) => {
    if (seen.has(treatment.id)) {
      issues.push({
        kind: "duplicate-treatment",
        path: ["treatments", index, "id"],
        message: `Treatment id '${treatment.id}' is used twice; give each treatment its own id`,
      });
    }
    seen.add(treatment.id);
  });
  const holdout = experiment.holdoutPercentage ?? 0;
  const total = treatments.reduce((sum, t) => sum + basisPoints(t.percentage), 0) + basisPoints(holdout);
  if (total !== 10_000) {
    const parts = treatments.map((t) => t.percentage).join(" + ");
    issues.push({
      kind: "percentages",
      path: ["treatments"],
      message: `The treatments' percentages (${parts}) and the holdout (${holdout}) sum to ${total / 100}, not 100; adjust them`,
    });
  }
  return issues;
}
