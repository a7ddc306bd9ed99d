import { repeatingTask } from "./repeating-task.js";

/**
 * Time as the kit sees it. Everything that reads the time, waits, or does something periodically goes
 * through the clock the host injects, so tests check rates, schedules and claims on a virtual clock
 * (`virtualClock` from `campaign-kit/testing`) instead of wall time. {@link systemClock} is the real one and
 * the only place campaign-kit touches real timers.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or rejects with the signal's reason when it aborts first. A sleeping
   * caller waits on the clock: a virtual clock moves its time forward to wake it.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs `task` every `ms` milliseconds in the background until the returned `stop` is called: the kit keeps
   * claims alive and the scheduler ticks with it. The first run comes `ms` after the call. A run never starts
   * while the previous one is still pending (that firing is skipped), and a rejected run is ignored, so a task
   * handles its own errors. `stop` cancels later runs and resolves once a run under way has settled.
   *
   * Unlike {@link Clock.sleep}, a background timer never makes time pass: on a virtual clock it fires when
   * something else moves time past its due instant, and a clock with only background timers pending stands
   * still.
   *
   * @param ms The period, in milliseconds; a positive number.
   */
  every(ms: number, task: () => void | Promise<void>, options?: EveryOptions): () => Promise<void>;
}

/** Options of {@link Clock.every}. */
export interface EveryOptions {
  /**
   * On a real clock, whether the timer keeps the Node.js process running, as a `ref`'d `setInterval` does;
   * defaults to `false` (`unref`'d). The scheduler's timer sets it so a process that only runs the scheduler
   * stays up until `stop()`. A virtual clock ignores it.
   */
  keepAlive?: boolean;
}

/** The real clock: `Date.now()`, `setTimeout` and `setInterval`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  every(ms, task, options = {}) {
    const runs = repeatingTask(ms, task);
    const timer = setInterval(runs.run, ms);
    if (!options.keepAlive) timer.unref();
    return async () => {
      clearInterval(timer);
      await runs.settled();
    };
  },
};
