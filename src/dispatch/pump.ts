import { setMaxListeners } from "node:events";
import type { LimitFunction } from "p-limit";
import type { ExclusionReason } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import { runBatch } from "./batch.js";
import type { PreparedAction, Run } from "./run.js";
import type { DispatchPlan, DispatchRequest } from "./types.js";

/** The longest dispatches hold the event loop before letting timers and I/O run, in ms. */
const YIELD_AFTER_MS = 20;

/**
 * How many batches a slice starts without waiting: enough for every lane's concurrency to fill at once (the
 * default lane is 32 batches, the look-ahead twice that), few enough that a burst of them stays short.
 */
const STARTS_PER_SLICE = 64;

// When the current slice of the event loop started (`undefined` once the loop has turned since), and how
// many batches started in it without waiting.
let sliceStart: number | undefined;
let startedInSlice = 0;
const turned = () => {
  sliceStart = undefined;
};

/**
 * Lets a batch start once the event loop can spare it. With storage, audience and adapter all in memory
 * every await resolves at once, so dispatches would run as one chain of microtasks: no timer, claim renewal,
 * HTTP request or new connection would get a turn until the last was done. The slice is shared by every
 * dispatch of the thread, not counted per dispatch: a thousand unitary sends, each far shorter than a slice,
 * held the loop for seconds. The first {@link STARTS_PER_SLICE} batches of a slice start at once (they run
 * interleaved, so the clock can't tell yet what they cost); the others each wait for a `setImmediate` of their
 * own (Node drains microtasks between them, so what started before has run as far as it could when the next
 * checks the clock), and once the slice is spent they wait for the loop's next turn.
 */
async function shareEventLoop(): Promise<void> {
  for (let waited = false; ; waited = true) {
    if (sliceStart === undefined) {
      // A probe on the loop's next check phase: the slice ends when the loop has turned.
      sliceStart = performance.now();
      startedInSlice = 0;
      setImmediate(turned);
    }
    const fresh = performance.now() - sliceStart < YIELD_AFTER_MS;
    if (fresh && (waited || startedInSlice < STARTS_PER_SLICE)) {
      startedInSlice++;
      return;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** How one dispatch pulls its recipients: the lane it sends in, its batch size, its plan. */
export interface PumpOptions {
  lane: LimitFunction;
  batchSize: number;
  plan: DispatchPlan | undefined;
  controller: AbortController;
}

/**
 * Applies the plan to one chunk: who is sent now, who is excluded by it (by profile id), and who is held
 * back, kept through the plan before the chunk's sends start.
 */
async function applyPlan(
  run: Run,
  plan: DispatchPlan,
  chunk: readonly Profile[],
  position: number,
): Promise<{ now: Profile[]; planned: Map<string, ExclusionReason> | undefined }> {
  const at = run.clock.now();
  const now: Profile[] = [];
  let planned: Map<string, ExclusionReason> | undefined;
  let later: Map<number, Profile[]> | undefined;
  for (let i = 0; i < chunk.length; i++) {
    const profile = chunk[i]!;
    const decision = plan.decide(profile, position + i, at);
    if (decision === undefined) now.push(profile);
    else if ("exclude" in decision) {
      planned ??= new Map();
      planned.set(profile.id, decision.exclude);
      now.push(profile);
    } else {
      later ??= new Map();
      const due = later.get(decision.deferUntil);
      if (due) due.push(profile);
      else later.set(decision.deferUntil, [profile]);
    }
  }
  for (const [dueAt, profiles] of later ?? []) {
    await plan.defer(profiles, dueAt);
    run.report.deferred += profiles.length;
  }
  return { now, planned };
}

/**
 * Pulls recipients only while fewer than twice the lane's concurrency of batches are in flight, so memory
 * holds O(concurrency x batch size) profiles whatever the audience size, and runs each batch through every
 * action. Resolves with the first failure (which aborts the rest), or `undefined`.
 */
export async function pump(
  run: Run,
  actions: readonly PreparedAction[],
  recipients: DispatchRequest["recipients"],
  options: PumpOptions,
): Promise<unknown> {
  const { lane, batchSize: size, plan, controller } = options;
  const maxInFlight = lane.concurrency * 2;
  let inFlight = 0;
  let pulled = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  // Every batch in flight and every adapter call may listen on the run's signal: concurrency bounds the
  // count, so Node's default warning at 10 listeners would only be noise. One batch holds a listener or
  // two at a time, so the call (a measurable cost for many tiny dispatches) waits for the second batch.
  let manyListeners = false;
  const settle = () => {
    inFlight--;
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const send = async (chunk: readonly Profile[], position: number) => {
    const { now, planned } = plan
      ? await applyPlan(run, plan, chunk, position)
      : { now: chunk, planned: undefined };
    if (now.length === 0) return;
    await Promise.all(actions.map((action) => runBatch(run, action, now, lane, planned)));
  };
  const launch = (chunk: readonly Profile[]) => {
    inFlight++;
    if (!manyListeners && inFlight * actions.length > 1) {
      setMaxListeners(0, controller.signal);
      manyListeners = true;
    }
    run.report.recipients += chunk.length;
    send(chunk, pulled).then(settle, (error: unknown) => {
      failure ??= error;
      controller.abort(error);
      settle();
    });
    pulled += chunk.length;
  };
  // No timer, claim renewal or HTTP request gets a turn while dispatches hold the loop: see shareEventLoop.
  const room = async () => {
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
    await shareEventLoop();
  };
  let buffer: Profile[] = [];
  const flush = async () => {
    await room();
    launch(buffer);
    buffer = [];
  };
  const take = async (item: readonly Profile[] | Profile) => {
    if (!Array.isArray(item)) {
      buffer.push(item as Profile);
      if (buffer.length >= size) await flush();
    } else if (item.length === size && buffer.length === 0) {
      await room();
      launch(item);
    } else {
      for (const profile of item) {
        buffer.push(profile);
        if (buffer.length >= size) await flush();
      }
    }
  };
  if (!run.signal.aborted) {
    if (Symbol.asyncIterator in recipients) {
      for await (const item of recipients) {
        await take(item);
        if (run.signal.aborted) break;
      }
    } else {
      for (const item of recipients) {
        await take(item);
        if (run.signal.aborted) break;
      }
    }
    if (buffer.length > 0 && !run.signal.aborted) {
      // The last, partial batch is the only one of a unitary send: it waits its turn like any other.
      await room();
      if (!run.signal.aborted) launch(buffer);
    }
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  return failure;
}
