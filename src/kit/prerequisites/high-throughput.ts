import { profileVariables } from "../../dispatch/render/profile-paths.js";
import { actionVariants } from "../../model/campaign.js";
import { actionTemplateFields } from "./content.js";
import { campaignLabel, type PrerequisiteInput, type PrerequisiteProblem } from "./problems.js";

/**
 * The problems of a high-throughput campaign (`apiTrigger.highThroughput`): it sends from each call's payload
 * alone and never reads a profile, so a template reading `{{profile.*}}` would render without its data. One
 * problem per template field, naming the variables it reads.
 */
export function highThroughputProblems({ campaign }: PrerequisiteInput): PrerequisiteProblem[] {
  if (campaign.type !== "api-triggered" || !campaign.apiTrigger.highThroughput) return [];
  const problems: PrerequisiteProblem[] = [];
  campaign.actions.forEach((action, index) => {
    const fields = actionVariants(action).flatMap((variant) =>
      actionTemplateFields(variant.action, `actions.${index}.${variant.contentPath}`),
    );
    for (const field of fields) {
      if (field.source === undefined) continue;
      const variables = profileVariables(field.source);
      if (variables.length === 0) continue;
      const listed = variables.map((v) => `{{${v}}}`).join(", ");
      const moved = variables.map((v) => `{{${v.replace(/^profile/, "context")}}}`).join(", ");
      problems.push({
        code: "PROFILE_VARIABLE_IN_HIGH_THROUGHPUT",
        message:
          `The ${field.label} of the ${action.channel} action reads ${listed}, but ${campaignLabel(campaign)} ` +
          "is high-throughput: it never looks profiles up, so they would render empty.",
        fix:
          `Pass the values in each call's \`context\` and write ${moved} at ${field.path}, ` +
          "or turn `apiTrigger.highThroughput` off.",
        subject: { kind: "action", path: field.path },
      });
    }
  });
  return problems;
}
