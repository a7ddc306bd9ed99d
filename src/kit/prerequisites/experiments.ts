import { basisPoints, EXPERIMENT_TREATMENTS, experimentIssues } from "../../model/experiment.js";
import type { PrerequisiteCode, PrerequisiteInput, PrerequisiteProblem } from "./problems.js";

const CODES: Readonly<Record<ReturnType<typeof experimentIssues>[number]["kind"], PrerequisiteCode>> = {
  "treatments-count": "EXPERIMENT_TREATMENT_COUNT",
  percentages: "EXPERIMENT_PERCENTAGES",
  "duplicate-treatment": "EXPERIMENT_TREATMENT_DUPLICATE",
};

/**
 * The content experiments' problems: 2 to 5 treatments, unique ids, percentages summing to 100 with the
 * holdout, one experiment per campaign. The schema refuses the same; a campaign built without it (or stored
 * before a rule) still must not send a split nobody asked for. Treatment templates are checked with the
 * rest of the content.
 */
export function experimentProblems({ campaign }: PrerequisiteInput): PrerequisiteProblem[] {
  const problems: PrerequisiteProblem[] = [];
  let seen = 0;
  campaign.actions.forEach((action, index) => {
    const { experiment } = action;
    if (experiment === undefined) return;
    const base = `actions.${index}.experiment`;
    if (++seen === 2) {
      problems.push({
        code: "EXPERIMENT_MULTIPLE",
        message: `The ${action.channel} action runs a second content experiment; a campaign's report compares one.`,
        fix: `Remove the experiment of the ${action.channel} action (give it \`content\`), or move it to a campaign of its own.`,
        subject: { kind: "action", path: base },
      });
    }
    for (const issue of experimentIssues(experiment)) {
      const path = [base, ...issue.path].join(".");
      const subject = { kind: "action", path } as const;
      if (issue.kind === "treatments-count") {
        problems.push({
          code: CODES[issue.kind],
          message: `The content experiment of the ${action.channel} action has ${experiment.treatments.length} treatments; it compares ${EXPERIMENT_TREATMENTS.min} to ${EXPERIMENT_TREATMENTS.max}.`,
          fix:
            experiment.treatments.length < EXPERIMENT_TREATMENTS.min
              ? "Add a treatment to compare with, or remove the experiment and give the action `content`."
              : `Remove treatments until ${EXPERIMENT_TREATMENTS.max} are left.`,
          subject,
        });
      } else if (issue.kind === "percentages") {
        problems.push({
          code: CODES[issue.kind],
          message: `The content experiment of the ${action.channel} action splits ${splitTotal(experiment)}% of the recipients (treatments ${experiment.treatments.map((t) => t.percentage).join(" + ")}, holdout ${experiment.holdoutPercentage ?? 0}), not 100%.`,
          fix: "Set the treatments' `percentage`s and `holdoutPercentage` so that together they make exactly 100.",
          subject,
        });
      } else {
        problems.push({
          code: CODES[issue.kind],
          message: `Treatment id '${String(experiment.treatments[issue.path[1] as number]?.id)}' is used twice in the content experiment of the ${action.channel} action.`,
          fix: "Give each treatment its own `id`: reports and the delivery ledger tell them apart by it.",
          subject,
        });
      }
    }
  });
  return problems;
}

function splitTotal(experiment: {
  treatments: readonly { percentage: number }[];
  holdoutPercentage?: number | undefined;
}): number {
  const points = experiment.treatments.reduce((sum, t) => sum + basisPoints(t.percentage), 0);
  return (points + basisPoints(experiment.holdoutPercentage ?? 0)) / 100;
}
