import type { DispatchReport } from "../../dispatch/types.js";
import type { Execution } from "../../model/execution.js";
import type { Command } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { table, writeJson } from "../output.js";

/** One launched execution in `tick`'s result: its status when an actor may read it, and this run's counts. */
export interface TickedExecution {
  executionId: string;
  campaignId: string;
  /** Absent when no actor is set: reading an execution needs one with `campaign.read`. */
  kind?: Execution["kind"];
  /** Absent when no actor is set. */
  status?: Execution["status"];
  sent: number;
  failed: number;
  excluded: number;
  skippedAlreadySent: number;
  deferred: number;
}

/**
 * `campaign-kit tick`: does what is due now (the scheduler's `tick()`: scheduled campaigns starting,
 * occurrences, deferred triggers, waves, abandoned executions resumed), sends it to completion with progress,
 * and reports each execution. For cron: one tick per run, exit 8 when an execution ended failed.
 */
export const tickCommand: Command = {
  summary: "Run what is due now (occurrences, deferred triggers, waves, resumes) to completion",
  usage: "",
  options: {},
  help: {},
  positionals: [0, 0],
  async run(context) {
    const { output } = context;
    const kit = await context.kit();
    const actor = await context.actor();
    const progress = context.progress();
    const reports = new Map<string, DispatchReport>();
    const onProgress = (report: DispatchReport) => {
      reports.set(report.executionId, report);
      progress?.update(report);
    };
    kit.dispatcher.on("progress", onProgress);
    let summary: Awaited<ReturnType<typeof kit.scheduler.tick>>;
    try {
      summary = await kit.scheduler.tick();
    } finally {
      kit.dispatcher.off("progress", onProgress);
      progress?.done();
    }
    const executions: TickedExecution[] = [];
    for (const id of new Set([...summary.launched, ...reports.keys()])) {
      const report = reports.get(id);
      const stored = actor === undefined ? undefined : await kit.executions.get({ actor, id });
      executions.push({
        executionId: id,
        campaignId: stored?.campaignId ?? report?.campaignId ?? "",
        ...(stored ? { kind: stored.kind, status: stored.status } : {}),
        sent: report?.outcomes.sent ?? 0,
        failed: report?.outcomes.failed ?? 0,
        excluded: report?.outcomes.excluded ?? 0,
        skippedAlreadySent: report?.skippedAlreadySent ?? 0,
        deferred: report?.deferred ?? 0,
      });
    }
    const failed = executions.some((e) => e.status === "failed");
    if (output.json) {
      writeJson(output, { ...summary, executions });
      return failed ? EXIT_CODES.SEND_FAILED : EXIT_CODES.OK;
    }
    if (summary.started.length > 0) output.out(`Started: ${summary.started.join(", ")}\n`);
    if (executions.length > 0) {
      output.out(
        table(
          ["execution", "campaign", "status", "sent", "failed", "excluded", "already sent", "deferred"],
          executions.map((e) => [
            e.executionId,
            e.campaignId,
            e.status ?? "-",
            e.sent,
            e.failed,
            e.excluded,
            e.skippedAlreadySent,
            e.deferred,
          ]),
        ),
      );
    }
    if (summary.completed.length > 0) output.out(`Completed: ${summary.completed.join(", ")}\n`);
    if (summary.started.length + executions.length + summary.completed.length === 0) {
      output.out("Nothing was due.\n");
    }
    if (actor === undefined && executions.length > 0) {
      output.out("(no actor set: statuses not read; set `actor` in the config or pass --actor)\n");
    }
    return failed ? EXIT_CODES.SEND_FAILED : EXIT_CODES.OK;
  },
};
