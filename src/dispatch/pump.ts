import { setMaxListeners } from "node:events";
import type { LimitFunction } from "p-limit";
import type { ExclusionReason } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import { runBatch } from "./batch.js";
import type { PreparedAction, Run } from "./run.js";
import type { DispatchPlan, DispatchRequest } from "./types.js";

/** The longest the dispatcher holds the event loop before letting timers and I/O run, in ms of CPU time. */
const YIELD_AFTER_MS = 20;

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
  // With storage, audience and adapter all in memory, every await resolves at once and the whole send
  // would run as one chain of microtasks: no timer, claim renewal or HTTP request would get a turn. Give the
  // event loop a turn whenever the dispatch has held it for a slice.
  let heldSince = performance.now();
  const room = async () => {
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
    if (performance.now() - heldSince >= YIELD_AFTER_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      heldSince = performance.now();
    }
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
    if (buffer.length > 0 && !run.signal.aborted) launch(buffer);
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  return failure;
}
