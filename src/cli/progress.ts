import type { DispatchReport } from "../dispatch/types.js";
import { count } from "./output.js";

/** Options for {@link progressDisplay}. */
export interface ProgressOptions {
  /** Writes text as is (to stderr, so stdout stays the result). */
  write: (text: string) => void;
  /** Whether the output is a terminal: only a terminal can redraw a line in place. */
  tty: boolean;
  /** Columns of the terminal, for the bar's width; default 80. */
  columns?: number;
  /** Off a terminal, the least time between two printed lines, in ms; default 5000. */
  everyMs?: number;
  /** Wall-clock time in ms; injectable for tests. */
  now?: () => number;
}

/** Feeds the dispatcher's `progress` reports to a bar (on a terminal) or to plain lines (anywhere else). */
export interface ProgressDisplay {
  /** Shows a report; reports of several executions are summed. */
  update(report: DispatchReport): void;
  /** How many messages are expected in all, when known: the bar then shows a percentage. */
  setTotal(total: number | undefined): void;
  /** Ends the display: the last state is left on screen, or printed once if it wasn't. */
  done(): void;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 80;

/**
 * A progress bar on a terminal, redrawn in place at most every 80 ms; off a terminal (a pipe, a CI log, a
 * cron mail) a redraw would leave `\r\x1b[K` garbage, so a plain line at most every `everyMs` and the last
 * one at the end. Counts are messages (one per action per recipient): sent, failed, excluded, with the rate.
 */
export function progressDisplay(options: ProgressOptions): ProgressDisplay {
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 5000;
  const latest = new Map<string, DispatchReport>();
  let total: number | undefined;
  let startedAt: number | undefined;
  let lastWrite = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let dirty = false;

  function sums() {
    let sent = 0;
    let failed = 0;
    let excluded = 0;
    for (const report of latest.values()) {
      sent += report.outcomes.sent + report.skippedAlreadySent;
      failed += report.outcomes.failed;
      excluded += report.outcomes.excluded;
    }
    return { sent, failed, excluded, done: sent + failed + excluded };
  }

  function line(tty: boolean): string {
    const { sent, failed, excluded, done } = sums();
    const seconds = startedAt === undefined ? 0 : (now() - startedAt) / 1000;
    const rate = seconds > 0 ? `  ${count(Math.round(done / seconds))}/s` : "";
    const counts = `${count(sent)} sent  ${count(failed)} failed  ${count(excluded)} excluded`;
    const executions = latest.size === 1 ? "" : `  (${latest.size} executions)`;
    if (total === undefined || total <= 0) {
      return tty
        ? `sending  ${count(done)} messages  ${counts}${rate}${executions}`
        : `progress: ${count(done)} messages (${count(sent)} sent, ${count(failed)} failed, ${count(excluded)} excluded)${executions}`;
    }
    const ratio = Math.min(1, done / total);
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    if (!tty) {
      return `progress: ${count(done)}/${count(total)} messages ${percent.trim()} (${count(sent)} sent, ${count(failed)} failed, ${count(excluded)} excluded)${executions}`;
    }
    const rest = ` ${percent}  ${count(done)}/${count(total)}  ${counts}${rate}${executions}`;
    const width = Math.max(10, Math.min(BAR_WIDTH, columns - 1 - "sending ".length - rest.length));
    const filled = Math.round(ratio * width);
    return `sending ${"█".repeat(filled)}${"░".repeat(width - filled)}${rest}`;
  }

  // A line longer than the terminal wraps, and `\r` then redraws only its last row: cut it to fit.
  const columns = options.columns || 80; // 0 when a pseudo-terminal has no size
  const toWidth = (text: string) => (text.length < columns ? text : `${text.slice(0, columns - 2)}…`);

  function draw(force: boolean): void {
    const at = now();
    if (options.tty) {
      if (!force && at - lastWrite < REDRAW_MS) {
        dirty = true;
        return;
      }
      options.write(`\r\x1b[K${toWidth(line(true))}`);
      drawn = true;
    } else {
      if (!force && at - lastWrite < everyMs) {
        dirty = true;
        return;
      }
      options.write(`${line(false)}\n`);
    }
    lastWrite = at;
    dirty = false;
  }

  return {
    update(report) {
      startedAt ??= now();
      latest.set(report.executionId, report);
      draw(false);
    },
    setTotal(value) {
      total = value;
    },
    done() {
      if (options.tty) {
        if (latest.size > 0) draw(true);
        if (drawn) options.write("\n");
      } else if (dirty) {
        draw(true);
      }
      drawn = false;
      dirty = false;
    },
  };
}
