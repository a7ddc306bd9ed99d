import { CampaignKitError } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import { type RepeatingTask, repeatingTask } from "../ports/repeating-task.js";

/** Options of {@link virtualClock}. */
export interface VirtualClockOptions {
  /** The instant it starts at: a `Date`, an ISO string or milliseconds since the epoch; defaults to 2026-01-01T00:00:00Z. */
  start?: Date | string | number;
  /**
   * Milliseconds the clock moves forward after each {@link Clock.now} reading; defaults to 0 (reading never
   * moves time). 1 makes successive readings distinct, as they mostly are on a real clock, for tests that
   * order things by when they happened.
   */
  stepMs?: number;
}

/** A {@link Clock} whose time a test controls; see {@link virtualClock}. */
export interface VirtualClock extends Clock {
  /**
   * Moves time forward by `ms` at once (not timer by timer: an hour's advance runs an every-minute timer
   * once, not 60 times; advance in a loop to see each run). Wakes the sleeps due by then and starts the
   * background timers due by then. Resolves once those timers' runs (and any still pending) have settled.
   * A negative `ms` moves time back, as {@link VirtualClock.set} does.
   */
  advance(ms: number): Promise<void>;
  /**
   * Moves time to `instant`, forwards as {@link VirtualClock.advance} does, or back: going back wakes and
   * starts nothing, and pending sleeps and timers keep their due instants.
   */
  set(instant: Date | string | number): Promise<void>;
}

interface Sleeper {
  at: number;
  wake: () => void;
}

interface Timer {
  due: number;
  ms: number;
  runs: RepeatingTask;
}

const DEFAULT_START = Date.UTC(2026, 0, 1);

/**
 * A virtual {@link Clock} for tests: rates, schedules, backoffs and claims run in virtual time, instantly and
 * deterministically. Pass it to `createCampaignKit({ clock })`, `createDispatcher({ clock })`, a token bucket
 * or `memoryChannel({ clock })`.
 *
 * When time moves:
 * - when the test says: {@link VirtualClock.advance} and {@link VirtualClock.set};
 * - after each reading, by `stepMs` (0 by default);
 * - by itself, to wake sleeps: while a {@link Clock.sleep} is pending, the clock waits until the event
 *   loop has run what is ready (promise callbacks, I/O callbacks already due: a `setImmediate` turn), then
 *   jumps to the earliest pending sleep's due instant and wakes every sleep due by then, in due order (ties
 *   in call order). Sleeps never wait on real time, and concurrent sleeps overlap as on a real clock: two
 *   100 ms sleeps started together both end 100 ms later. Code awaiting real I/O (a database, an HTTP call)
 *   meanwhile sees time jump by what the others slept; the clock cannot know that I/O is under way.
 *
 * Background timers ({@link Clock.every}) never make time move. A timer is due `ms` after it was created;
 * it fires when time reaches its due instant, whatever moved it, and with nothing but background timers
 * pending the clock stands still. A timer that time jumped past by several periods runs once (as a real
 * interval does after a blocked event loop); its next due instant is the previous one plus `ms`, or `ms`
 * after now if that has passed too. Runs start outside the code that moved time (on the next `setImmediate`
 * turn), except those `advance` and `set` start, which start at once and which their promise waits for.
 *
 * @example
 * ```ts
 * import { virtualClock } from "campaign-kit/testing";
 *
 * const clock = virtualClock({ start: "2026-12-01T08:00:00Z" });
 * const kit = await createCampaignKit({ clock, channels: [email], audiences });
 * // ... activate a campaign that starts at 10:00, then:
 * await clock.set("2026-12-01T10:00:00Z");
 * await kit.scheduler.tick();
 * ```
 */
export function virtualClock(options: VirtualClockOptions = {}): VirtualClock {
  let current = instantOf(options.start ?? DEFAULT_START);
  const stepMs = options.stepMs ?? 0;
  if (!(Number.isFinite(stepMs) && stepMs >= 0)) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `virtualClock: \`stepMs\` must be 0 or more, got ${stepMs}.`,
    );
  }
  // Kept in due order; a new sleep goes after those due at the same instant.
  const sleepers: Sleeper[] = [];
  const timers = new Set<Timer>();
  let checkQueued = false;

  const timerDue = () => [...timers].some((t) => t.due <= current);

  function wakeDue(): void {
    while (sleepers.length > 0 && sleepers[0]!.at <= current) sleepers.shift()!.wake();
  }

  function fireDue(): Promise<void>[] {
    const runs: Promise<void>[] = [];
    for (const timer of timers) {
      if (timer.due > current) continue;
      const next = timer.due + timer.ms;
      timer.due = next > current ? next : current + timer.ms;
      runs.push(timer.runs.run());
    }
    return runs;
  }

  function queueCheck(): void {
    if (checkQueued || (sleepers.length === 0 && !timerDue())) return;
    checkQueued = true;
    setImmediate(check);
  }

  function check(): void {
    checkQueued = false;
    const earliest = sleepers[0];
    if (earliest) current = Math.max(current, earliest.at);
    wakeDue();
    fireDue();
    queueCheck();
  }

  async function moveTo(instant: number): Promise<void> {
    const pending = [...timers].map((t) => t.runs.settled());
    current = instant;
    wakeDue();
    const started = fireDue();
    queueCheck();
    await Promise.all([...pending, ...started]);
  }

  return {
    now() {
      const reading = current;
      if (stepMs > 0) {
        current += stepMs;
        queueCheck();
      }
      return reading;
    },
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        if (!(ms > 0)) return resolve();
        const sleeper: Sleeper = {
          at: current + ms,
          wake: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const index = sleepers.indexOf(sleeper);
          if (index >= 0) sleepers.splice(index, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        let index = sleepers.length;
        while (index > 0 && sleepers[index - 1]!.at > sleeper.at) index--;
        sleepers.splice(index, 0, sleeper);
        queueCheck();
      }),
    every(ms, task) {
      const timer: Timer = { due: current + ms, ms, runs: repeatingTask(ms, task) };
      timers.add(timer);
      return async () => {
        timers.delete(timer);
        await timer.runs.settled();
      };
    },
    advance: (ms) => moveTo(instantOf(current + ms)),
    set: (instant) => moveTo(instantOf(instant)),
  };
}

function instantOf(instant: Date | string | number): number {
  const ms =
    instant instanceof Date ? instant.getTime() : typeof instant === "string" ? Date.parse(instant) : instant;
  if (!Number.isFinite(ms)) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `virtualClock: '${String(instant)}' is not a valid instant.`,
    );
  }
  return ms;
}
