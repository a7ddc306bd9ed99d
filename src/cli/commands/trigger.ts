import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { DispatchReport } from "../../dispatch/types.js";
import { CampaignKitError, isCampaignKitError } from "../../errors.js";
import { DEFAULT_MAX_BODY_BYTES } from "../../http/body.js";
import type { CampaignKit } from "../../kit/create-campaign-kit.js";
import type { DeliveryReport } from "../../kit/reports.js";
import type { Command, CommandContext } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { count, fields, when, writeJson } from "../output.js";
import { executionView } from "./status.js";

function usage(message: string, argument: string): CampaignKitError {
  return new CampaignKitError("INVALID_ARGUMENTS", message, { details: { command: "trigger", argument } });
}

function tooLarge(where: string): CampaignKitError {
  return new CampaignKitError(
    "PAYLOAD_TOO_LARGE",
    `The payload in ${where} is over ${DEFAULT_MAX_BODY_BYTES} bytes, more than any valid call: send less.`,
    { details: { maxBytes: DEFAULT_MAX_BODY_BYTES } },
  );
}

/** The payload's text: from the file named, or from stdin for `-` (or no file, when stdin is piped). */
async function readPayload(context: CommandContext): Promise<{ text: string; where: string }> {
  const [file] = context.positionals;
  const { stdin } = context.io;
  if (file === undefined && stdin.isTTY === true) {
    throw usage(
      "Give the execution API's JSON payload: `campaign-kit trigger payload.json`, or pipe it: `... | campaign-kit trigger -`.",
      "file",
    );
  }
  if (file === undefined || file === "-") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
      size += bytes.byteLength;
      if (size > DEFAULT_MAX_BODY_BYTES) throw tooLarge("stdin");
      chunks.push(bytes);
    }
    return { text: Buffer.concat(chunks).toString("utf8"), where: "stdin" };
  }
  const path = resolve(context.io.cwd, file);
  try {
    if ((await stat(path)).size > DEFAULT_MAX_BODY_BYTES) throw tooLarge(path);
    return { text: await readFile(path, "utf8"), where: path };
  } catch (error) {
    if (isCampaignKitError(error)) throw error;
    throw usage(`Can't read the payload file ${path}: ${(error as Error).message}`, "file");
  }
}

function parsePayload(text: string, where: string): unknown {
  if (text.trim() === "") {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `The payload in ${where} is empty: give the execution API's JSON request body (a file, or piped to \`-\`).`,
      { details: { issues: [{ path: "", message: "Empty: expected a JSON object" }] } },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message;
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `The payload in ${where} is not JSON (${reason}): give the execution API's request body, such as ` +
        '{ "requestId": "r-1", "campaignId": "password-reset", "recipients": [...] }.',
      { cause: error, details: { issues: [{ path: "", message: `Not JSON: ${reason}` }] } },
    );
  }
}

/** Messages a unitary execution will send, when the actor may read it and its campaign: for the bar. */
async function expectedMessages(kit: CampaignKit, actor: string, id: string): Promise<number | undefined> {
  try {
    const execution = await kit.executions.get({ actor, id });
    if (!execution.recipients) return undefined;
    const campaign = await kit.campaigns.get({ actor, id: execution.campaignId });
    return execution.recipients.length * campaign.actions.length;
  } catch {
    return undefined;
  }
}

/**
 * `campaign-kit trigger`: an API-triggered execution from the reference execution API's payload, as
 * `POST /im/executions/unitary` or `/audience` would take it. With `--wait` it sends from this process to the
 * end, with progress; without, it records the execution and leaves sending to the scheduler.
 */
export const triggerCommand: Command = {
  summary: "Trigger an execution from the execution API's JSON payload (a file, or - for stdin)",
  usage: "[file | -]",
  options: { wait: { type: "boolean", short: "w" }, kind: { type: "string" } },
  help: {
    wait: "send from this process until the execution is done, with progress; exit 8 if it failed",
    kind: "unitary or audience; default: unitary when the payload has `recipients`, else audience",
  },
  positionals: [0, 1],
  async run(context) {
    const { values, output } = context;
    const kind = values.kind as string | undefined;
    if (kind !== undefined && kind !== "unitary" && kind !== "audience") {
      throw usage(`--kind is 'unitary' or 'audience', not '${kind}'.`, "--kind");
    }
    const { text, where } = await readPayload(context);
    const request = parsePayload(text, where);
    const unitary =
      kind === undefined
        ? typeof request === "object" && request !== null && "recipients" in request
        : kind === "unitary";
    const actor = await context.requireActor();
    const kit = await context.kit();
    const progress = values.wait === true ? context.progress() : undefined;
    const onProgress = (report: DispatchReport) => progress?.update(report);
    if (progress) kit.dispatcher.on("progress", onProgress);
    let accepted: Awaited<ReturnType<typeof kit.executions.triggerUnitary>>;
    let execution: Awaited<ReturnType<typeof kit.executions.get>> | undefined;
    let report: DeliveryReport | undefined;
    try {
      accepted = unitary
        ? await kit.executions.triggerUnitary({ actor, request: request as never })
        : await kit.executions.triggerAudience({ actor, request: request as never });
      if (values.wait === true) {
        progress?.setTotal(await expectedMessages(kit, actor, accepted.executionId));
        await kit.executions.wait({ id: accepted.executionId });
        progress?.done();
        execution = await kit.executions.get({ actor, id: accepted.executionId });
        report = await kit.reports.execution({ actor, id: accepted.executionId }).catch((error: unknown) => {
          // Reading counts needs `campaign-report.read`, which a trigger-only actor may lack.
          if (isCampaignKitError(error, "FORBIDDEN")) return undefined;
          throw error;
        });
      }
    } finally {
      kit.dispatcher.off("progress", onProgress);
      progress?.done();
    }
    const failed = execution?.status === "failed";
    const result = {
      ...accepted,
      kind: unitary ? "unitary" : "audience",
      ...(execution ? { execution: executionView(execution) } : {}),
      ...(report ? { report } : {}),
    };
    if (output.json) {
      writeJson(output, result);
      return failed ? EXIT_CODES.SEND_FAILED : EXIT_CODES.OK;
    }
    output.out(
      fields([
        ["execution", accepted.executionId],
        ["request", accepted.requestId],
        ["kind", result.kind],
        [
          "created",
          accepted.created
            ? `yes, at ${accepted.createdAt}`
            : `no: request ${accepted.requestId} was already accepted`,
        ],
        ["status", execution?.status],
        ["error", execution?.error],
        ["finished", execution?.finishedAt ? when(execution.finishedAt) : undefined],
        [
          "messages",
          report
            ? `${count(report.outcomes.sent)} sent, ${count(report.outcomes.failed)} failed, ${count(report.outcomes.excluded)} excluded`
            : undefined,
        ],
      ]),
    );
    if (values.wait !== true) {
      output.out(
        "Sending is left to the scheduler (a kit running `scheduler.start()`, or `campaign-kit tick`); " +
          "pass --wait to send from here.\n",
      );
    }
    return failed ? EXIT_CODES.SEND_FAILED : EXIT_CODES.OK;
  },
};
