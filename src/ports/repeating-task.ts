import { CampaignKitError } from "../errors.js";

/** One {@link Clock.every} timer's runs, as every clock implements them. */
export interface RepeatingTask {
  /** Starts a run, unless one is pending: then returns that one (the firing is skipped). */
  run(): Promise<void>;
  /** Resolves once the run under way, if any, has settled. */
  settled(): Promise<void>;
}

/**
 * The rules {@link Clock.every} promises whatever the clock: a positive period, runs that never overlap, and
 * a rejected run that neither stops the timer nor surfaces as an unhandled rejection.
 */
export function repeatingTask(ms: number, task: () => void | Promise<void>): RepeatingTask {
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `A clock's \`every\` needs a positive period in milliseconds, got ${ms}.`,
    );
  }
  let pending: Promise<void> | undefined;
  return {
    run() {
      if (pending) return pending;
      const current = (async () => {
        try {
          await task();
        } catch {
          // The task handles its own errors (the Clock contract); one failed run must not stop the timer.
        }
      })();
      pending = current;
      // Cleared asynchronously, after the assignment above, even when the task threw synchronously.
      void current.then(() => {
        if (pending === current) pending = undefined;
      });
      return current;
    },
    settled: () => pending ?? Promise.resolve(),
  };
}
