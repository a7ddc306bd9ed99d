import { CampaignKitError } from "../../errors.js";
import { EXCLUSION_REASONS } from "../../model/execution.js";
import type { Command } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { fields, table, when, writeJson } from "../output.js";

/**
 * `campaign-kit report <campaignId>`: the campaign's delivery report (every execution summed), or one
 * execution's with `--execution`: messages by outcome, by channel, exclusions by reason, executions by status.
 */
export const reportCommand: Command = {
  summary: "Show a campaign's delivery report (or one execution's, with --execution)",
  usage: "<campaignId>",
  options: { execution: { type: "string" } },
  help: { execution: "report on this execution of the campaign only" },
  positionals: [0, 1],
  async run(context) {
    const { values, output } = context;
    const [campaignId] = context.positionals;
    const executionId = values.execution as string | undefined;
    if (campaignId === undefined && executionId === undefined) {
      throw new CampaignKitError(
        "INVALID_ARGUMENTS",
        "Give a campaign id (`campaign-kit report <campaignId>`), or --execution <id>.",
        {
          details: { command: "report", argument: "campaignId" },
        },
      );
    }
    const actor = await context.requireActor();
    const kit = await context.kit();
    const report =
      executionId === undefined
        ? await kit.reports.campaign({ actor, id: campaignId as string })
        : await kit.reports.execution({ actor, id: executionId });
    if (campaignId !== undefined && report.campaignId !== campaignId) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `Execution '${executionId}' belongs to campaign '${report.campaignId}', not '${campaignId}'.`,
        { details: { id: executionId, campaignId } },
      );
    }
    if (output.json) {
      writeJson(output, report);
      return EXIT_CODES.OK;
    }
    const { outcomes } = report;
    let text = fields([
      ["campaign", report.campaignId],
      ["execution", report.executionId],
      ["executions", report.executions],
      [
        "by status",
        Object.entries(report.executionsByStatus)
          .map(([status, n]) => `${n} ${status}`)
          .join(", ") || "-",
      ],
      ["targeted", report.targeted],
      ["retries", report.retries],
      ["first sent", report.firstSentAt === undefined ? undefined : when(report.firstSentAt)],
      ["last sent", report.lastSentAt === undefined ? undefined : when(report.lastSentAt)],
    ]);
    text += `\n${table(
      ["outcome", "messages"],
      [
        ["sent", outcomes.sent],
        ["failed", outcomes.failed],
        ["excluded", outcomes.excluded],
      ],
    )}`;
    const channels = Object.entries(report.byChannel);
    if (channels.length > 0) {
      text += `\n${table(
        ["channel", "sent", "failed", "excluded"],
        channels.map(([channel, c]) => [channel, c?.sent ?? 0, c?.failed ?? 0, c?.excluded ?? 0]),
      )}`;
    }
    const reasons = EXCLUSION_REASONS.filter((reason) => report.excludedByReason[reason] > 0);
    if (reasons.length > 0) {
      text += `\n${table(
        ["excluded because", "messages"],
        reasons.map((reason) => [reason, report.excludedByReason[reason]]),
      )}`;
    }
    output.out(text);
    return EXIT_CODES.OK;
  },
};
