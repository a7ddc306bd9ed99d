import { CampaignKitError, isCampaignKitError } from "../../errors.js";
import type { CampaignKit } from "../../kit/create-campaign-kit.js";
import type { Campaign } from "../../model/campaign.js";
import type { Execution } from "../../model/execution.js";
import type { Command } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { fields, table, when } from "../output.js";

/** An execution as the CLI shows it: no claim internals, no recipients' profiles (their addresses stay in). */
export function executionView(e: Execution) {
  return {
    id: e.id,
    campaignId: e.campaignId,
    requestId: e.requestId,
    kind: e.kind,
    status: e.status,
    ...(e.audienceId === undefined ? {} : { audienceId: e.audienceId }),
    ...(e.recipients === undefined ? {} : { recipients: e.recipients.length }),
    targetedProfileCount: e.targetedProfileCount,
    createdAt: when(e.createdAt),
    ...(e.executeAt === undefined ? {} : { executeAt: when(e.executeAt) }),
    ...(e.startedAt === undefined ? {} : { startedAt: when(e.startedAt) }),
    ...(e.resumeAt === undefined ? {} : { resumeAt: when(e.resumeAt) }),
    ...(e.finishedAt === undefined ? {} : { finishedAt: when(e.finishedAt) }),
    ...(e.error === undefined ? {} : { error: e.error }),
  };
}

/** A campaign as the CLI shows it: what says where it stands, not its content. */
function campaignView(c: Campaign) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    category: c.category,
    status: c.status,
    version: c.version,
    ...(c.audienceId === undefined ? {} : { audienceId: c.audienceId }),
    channels: c.actions.map((a) => a.channel),
    ...(c.schedule?.startAt === undefined ? {} : { startAt: when(c.schedule.startAt) }),
    ...(c.schedule?.endAt === undefined ? {} : { endAt: when(c.schedule.endAt) }),
    ...(c.activatedAt === undefined ? {} : { activatedAt: when(c.activatedAt) }),
    updatedAt: when(c.updatedAt),
  };
}

/** The value, or `undefined` when the kit says there is no such object. */
async function orMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isCampaignKitError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

async function showExecution(kit: CampaignKit, actor: string, execution: Execution, json: boolean) {
  const report = await kit.reports.execution({ actor, id: execution.id }).catch((error: unknown) => {
    // Counts need `campaign-report.read`; the status needs only `campaign.read`.
    if (isCampaignKitError(error, "FORBIDDEN")) return undefined;
    throw error;
  });
  const view = executionView(execution);
  if (json)
    return `${JSON.stringify({ object: "execution", execution: view, ...(report ? { report } : {}) }, null, 2)}\n`;
  return fields([
    ["execution", view.id],
    ["campaign", view.campaignId],
    ["request", view.requestId],
    ["kind", view.kind],
    ["status", view.status],
    ["error", view.error],
    ["audience", view.audienceId],
    ["recipients", view.recipients],
    ["targeted", view.targetedProfileCount],
    ["created", view.createdAt],
    ["execute at", view.executeAt],
    ["started", view.startedAt],
    ["next slice", view.resumeAt],
    ["finished", view.finishedAt],
    ["sent", report?.outcomes.sent],
    ["failed", report?.outcomes.failed],
    ["excluded", report?.outcomes.excluded],
  ]);
}

async function showCampaign(
  kit: CampaignKit,
  actor: string,
  campaign: Campaign,
  limit: number,
  json: boolean,
) {
  const page = await kit.executions.list({ actor, filter: { campaignId: campaign.id }, limit });
  const view = campaignView(campaign);
  const executions = page.items.map(executionView);
  if (json) {
    const more = page.nextCursor === undefined ? {} : { moreExecutions: true };
    return `${JSON.stringify({ object: "campaign", campaign: view, executions, ...more }, null, 2)}\n`;
  }
  const head = fields([
    ["campaign", view.id],
    ["name", view.name],
    ["type", `${view.type} ${view.category}`],
    ["status", view.status],
    ["version", view.version],
    ["audience", view.audienceId],
    ["channels", view.channels.join(", ")],
    ["starts", view.startAt],
    ["ends", view.endAt],
    ["activated", view.activatedAt],
    ["updated", view.updatedAt],
  ]);
  if (executions.length === 0) return `${head}\nNo executions yet.\n`;
  const rows = executions.map((e) => [
    e.id,
    e.kind,
    e.status,
    e.targetedProfileCount,
    e.createdAt,
    e.finishedAt ?? "-",
  ]);
  const more = page.nextCursor === undefined ? "" : `(first ${limit} executions; --limit shows more)\n`;
  return `${head}\n${table(["execution", "kind", "status", "targeted", "created", "finished"], rows)}${more}`;
}

/**
 * `campaign-kit status <id>`: an execution (its status, times and counts) or a campaign (its status and
 * executions). The id is looked up as an execution, then as a campaign; `--campaign` or `--execution` says which.
 */
export const statusCommand: Command = {
  summary: "Show an execution (status, times, counts) or a campaign (status, executions)",
  usage: "<id>",
  options: {
    campaign: { type: "boolean" },
    execution: { type: "boolean" },
    limit: { type: "string" },
  },
  help: {
    campaign: "the id is a campaign's",
    execution: "the id is an execution's",
    limit: "executions listed for a campaign, 1 to 500 (default 20)",
  },
  positionals: [1, 1],
  async run(context) {
    const { values, output } = context;
    const id = context.positionals[0] as string;
    if (values.campaign === true && values.execution === true) {
      throw new CampaignKitError("INVALID_ARGUMENTS", "Give --campaign or --execution, not both.", {
        details: { command: "status", argument: "--campaign" },
      });
    }
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new CampaignKitError(
        "INVALID_ARGUMENTS",
        `--limit is a whole number from 1 to 500, not '${values.limit}'.`,
        {
          details: { command: "status", argument: "--limit" },
        },
      );
    }
    const actor = await context.requireActor();
    const kit = await context.kit();
    if (values.campaign !== true) {
      const execution = await (values.execution === true
        ? kit.executions.get({ actor, id })
        : orMissing(() => kit.executions.get({ actor, id })));
      if (execution) {
        output.out(await showExecution(kit, actor, execution, output.json));
        return EXIT_CODES.OK;
      }
    }
    const campaign = await (values.campaign === true
      ? kit.campaigns.get({ actor, id })
      : orMissing(() => kit.campaigns.get({ actor, id })));
    if (!campaign) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `No execution or campaign has id '${id}': check it (\`campaign-kit status --campaign <id>\` lists a campaign's executions).`,
        { details: { id } },
      );
    }
    output.out(await showCampaign(kit, actor, campaign, limit, output.json));
    return EXIT_CODES.OK;
  },
};
