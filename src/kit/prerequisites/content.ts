import { TEMPLATE_HELPERS, templateError } from "../../dispatch/render/environment.js";
import { actionVariants, type CampaignAction, type ContentAction } from "../../model/campaign.js";
import type { PrerequisiteProblem } from "./problems.js";

/** One template of a campaign action: where it sits, what to call it in a sentence, and its source. */
export interface ActionTemplateField {
  /** Dotted path from the campaign (`actions.0.content.subject`), as validation issues name paths. */
  path: string;
  /** The field in words, for messages ("email subject"). */
  label: string;
  /** The Handlebars source; `undefined` when the optional field is absent. */
  source: string | undefined;
  /** Whether the channel can't send without this field. */
  required: boolean;
}

/**
 * Every template field of one content of an action (its own, or a treatment's), in a fixed order, including
 * absent optional ones, so that callers can both check that content exists and compile what is there.
 *
 * @param contentPath - the dotted path of the content from the campaign (`actions.0.content`).
 */
export function actionTemplateFields(action: ContentAction, contentPath: string): ActionTemplateField[] {
  const at = (field: string) => `${contentPath}.${field}`;
  switch (action.channel) {
    case "email":
      return [
        { path: at("subject"), label: "email subject", source: action.content.subject, required: true },
        { path: at("html"), label: "email HTML body", source: action.content.html, required: false },
        { path: at("text"), label: "email text body", source: action.content.text, required: false },
      ];
    case "sms":
      return [{ path: at("body"), label: "SMS body", source: action.content.body, required: true }];
    case "push":
      return [
        { path: at("title"), label: "push title", source: action.content.title, required: true },
        { path: at("body"), label: "push body", source: action.content.body, required: true },
        ...Object.entries(action.content.data ?? {}).map(([key, value]) => ({
          path: at(`data.${key}`),
          label: `push data '${key}'`,
          source: value,
          required: false,
        })),
      ];
    case "webhook":
      return [
        { path: at("payload"), label: "webhook payload", source: action.content.payload, required: true },
      ];
  }
}

const isBlank = (source: string | undefined) => source === undefined || source.trim() === "";

/**
 * The CONTENT_MISSING and TEMPLATE_INVALID problems of one action: of its content, or of every treatment's
 * content when it runs an experiment.
 */
export function contentProblems(action: CampaignAction, index: number): PrerequisiteProblem[] {
  const variants = actionVariants(action);
  if (variants.length === 0) {
    return [
      {
        code: "CONTENT_MISSING",
        message: `The ${action.channel} action has no content.`,
        fix: "Write its `content`, or give it an `experiment` whose treatments carry content.",
        subject: { kind: "action", path: `actions.${index}.content` },
      },
    ];
  }
  return variants.flatMap((variant) =>
    variantProblems(
      variant.action,
      `actions.${index}.${variant.contentPath}`,
      variant.treatmentId === undefined
        ? `the ${action.channel} action`
        : `treatment '${variant.treatmentId}' of the ${action.channel} action`,
    ),
  );
}

function variantProblems(action: ContentAction, contentPath: string, owner: string): PrerequisiteProblem[] {
  const problems: PrerequisiteProblem[] = [];
  const fields = actionTemplateFields(action, contentPath);
  for (const field of fields) {
    if (field.required && isBlank(field.source)) {
      problems.push({
        code: "CONTENT_MISSING",
        message: `The ${field.label} of ${owner} is empty.`,
        fix: `Write the ${field.label}.`,
        subject: { kind: "action", path: field.path },
      });
    }
  }
  if (action.channel === "email" && isBlank(action.content.html) && isBlank(action.content.text)) {
    problems.push({
      code: "CONTENT_MISSING",
      message: `${owner.charAt(0).toUpperCase()}${owner.slice(1)} has no body.`,
      fix: "Write an HTML or a text body.",
      subject: { kind: "action", path: contentPath },
    });
  }
  for (const field of fields) {
    if (field.source === undefined || isBlank(field.source)) continue;
    const error = templateError(field.source);
    if (error === undefined) continue;
    const where = `The ${field.label} of ${owner}`;
    problems.push({
      code: "TEMPLATE_INVALID",
      message:
        error.reason === "syntax"
          ? `${where} is not valid Handlebars: ${error.message}`
          : error.reason === "unknown-helper"
            ? `${where} calls a helper that doesn't exist: ${error.message}.`
            : `${where} can't render: ${error.message}.`,
      fix:
        error.reason === "syntax"
          ? `Fix the template syntax at ${field.path}: close every {{ with }} and every {{#block}} with {{/block}}.`
          : error.reason === "unknown-helper"
            ? `Use the helpers campaign-kit provides at ${field.path}: ${[...TEMPLATE_HELPERS].join(", ")}.`
            : `Rewrite ${field.path} without it.`,
      subject: { kind: "action", path: field.path },
    });
  }
  return problems;
}
