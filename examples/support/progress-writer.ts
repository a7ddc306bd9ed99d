import type { DispatchReport } from "../../src/dispatch/types.js";

/** Options for {@link progressWriter}. */
export interface ProgressWriterOptions {
  /** Whether the output is a terminal (`process.stdout.isTTY`): only a terminal can redraw a line. */
  tty: boolean;
  /** Writes text as is (`(text) => process.stdout.write(text)`). */
  write: (text: string) => void;
  /** The line to show for a report, without a line break. */
  format: (report: DispatchReport) => string;
  /** Off a terminal, the dispatch time between two printed lines, in milliseconds. Default 3,000. */
  everyMs?: number;
}

/** What {@link progressWriter} returns: feed it every `progress` report, then call `done` once. */
export interface ProgressWriter {
  /** Shows a `progress` report. */
  update(report: DispatchReport): void;
  /** Ends the progress output: the last line is left on screen, or printed if it wasn't. */
  done(): void;
}

/**
 * Shows a dispatch's progress on a terminal as one line redrawn in place. Anywhere else (a pipe, a file, a
 * CI log) a redraw leaves `\r\x1b[K` garbage, so it prints a plain line when a dispatch's report says
 * `everyMs` more have passed, and the last one at the end. Time comes from the reports (`durationMs`, measured
 * on the kit's clock), so a virtual clock drives it in tests and no timer is needed.
 */
export function progressWriter(options: ProgressWriterOptions): ProgressWriter {
  const everyMs = options.everyMs ?? 3000;
  let pending: string | undefined;
  let drawn = false;
  // Per execution: a new dispatch starts its own durationMs at 0.
  let execution: string | undefined;
  let printedAt = Number.NEGATIVE_INFINITY;

  return {
    update(report) {
      const line = options.format(report);
      if (options.tty) {
        options.write(`\r\x1b[K${line}`);
        drawn = true;
        return;
      }
      if (report.executionId !== execution) {
        if (pending !== undefined) options.write(`${pending}\n`);
        execution = report.executionId;
        printedAt = Number.NEGATIVE_INFINITY;
      }
      pending = line;
      if (report.durationMs - printedAt < everyMs) return;
      options.write(`${line}\n`);
      printedAt = report.durationMs;
      pending = undefined;
    },
    done() {
      if (drawn) options.write("\n");
      else if (pending !== undefined) options.write(`${pending}\n`);
      drawn = false;
      pending = undefined;
    },
  };
}
