import type { ExecutionProgressEvent } from "../../src/index.js";

/** Options for {@link progressWriter}. */
export interface ProgressWriterOptions {
  /** Whether the output is a terminal (`process.stdout.isTTY`): only a terminal can redraw a line. */
  tty: boolean;
  /** Writes text as is (`(text) => process.stdout.write(text)`). */
  write: (text: string) => void;
  /** The line to show for an event, without a line break. */
  format: (event: ExecutionProgressEvent) => string;
  /** Off a terminal, the kit-clock time between two printed lines, in milliseconds. Default 3,000. */
  everyMs?: number;
}

/** What {@link progressWriter} returns: feed it every `execution-progress` event, then call `done` once. */
export interface ProgressWriter {
  /** Shows an `execution-progress` event. */
  update(event: ExecutionProgressEvent): void;
  /** Ends the progress output: the last line is left on screen, or printed if it wasn't. */
  done(): void;
}

/**
 * Shows an execution's progress on a terminal as one line redrawn in place. Anywhere else (a pipe, a file, a
 * CI log) a redraw leaves `\r\x1b[K` garbage, so it prints a plain line when an event comes `everyMs` after
 * the last printed one, and the last one at the end. Time comes from the events (`at`, on the kit's clock),
 * so a virtual clock drives it in tests and no timer is needed.
 */
export function progressWriter(options: ProgressWriterOptions): ProgressWriter {
  const everyMs = options.everyMs ?? 3000;
  let pending: string | undefined;
  let drawn = false;
  // Per execution: a new one prints its first line at once.
  let execution: string | undefined;
  let printedAt = Number.NEGATIVE_INFINITY;

  return {
    update(event) {
      const line = options.format(event);
      if (options.tty) {
        options.write(`\r\x1b[K${line}`);
        drawn = true;
        return;
      }
      if (event.executionId !== execution) {
        if (pending !== undefined) options.write(`${pending}\n`);
        execution = event.executionId;
        printedAt = Number.NEGATIVE_INFINITY;
      }
      pending = line;
      const at = event.at.getTime();
      if (at - printedAt < everyMs) return;
      options.write(`${line}\n`);
      printedAt = at;
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
