import type { Dispatcher } from "../dispatch/dispatcher.js";
import type { RateGate } from "../dispatch/rate.js";
import type { DispatchReport, InDoubtPolicy } from "../dispatch/types.js";
import type { Campaign } from "../model/campaign.js";
import type { Profile } from "../model/profile.js";
import type { AudienceRange, AudienceSource } from "../ports/audience-source.js";
import type { ChunkDelivery, ChunkOutcome } from "../ports/work-queue.js";
import { configurationsOf, isRunning } from "../repositories/campaigns.js";
import type { Context } from "../repositories/context.js";
import { planExecution } from "./plan.js";
import { FINISHED_EXECUTION } from "./runner.js";
import { sliceWriter } from "./slices.js";

/** What processing chunks needs from the kit. */
export interface ChunkWorkerParts {
  ctx: Context;
  dispatcher: Dispatcher;
  audiences: AudienceSource | undefined;
  /** What to do with messages a dead worker left in doubt. */
  inDoubt: InDoubtPolicy;
  /** This worker's name, the start of every claim owner. */
  owner: string;
  /**
   * The longest one chunk is held, in ms: past it the worker stops reading the range, finishes what it
   * read and hands the rest back, so no chunk outlives its lock (pg-boss's expiry) and closing is quick.
   */
  maxChunkMs: number;
  /** A wait for the rate budget longer than this (ms) hands the rest of the chunk back to the queue. */
  maxWaitMs: number;
  /** The campaign's shared rate budget, or `undefined` for this process's own bucket. */
  rateGate?: ((campaign: Campaign) => RateGate | undefined) | undefined;
  /** How often a running chunk checks for a stop, in ms. */
  stopCheckMs: number;
}

/** Why a chunk's dispatch was aborted. */
class ChunkHalt extends Error {
  constructor(
    readonly reason: "stopped" | "released" | "wait",
    readonly resumeAt = 0,
  ) {
    super(`The chunk was halted: ${reason}.`);
  }
}

/** What one chunk did, for the worker's events. */
export interface ChunkReport {
  /** The chunk's outcome. */
  outcome: ChunkOutcome;
  /** The dispatch's report, when it ran. */
  report?: DispatchReport;
}

/**
 * Sends one chunk: reads its execution and campaign (a finished execution or stopped campaign completes it
 * at once), streams its range (or a unitary execution's recipients) through the dispatcher with ledger
 * claims, and answers `done`, or `later` with the part of the range not read.
 */
export async function processChunk(parts: ChunkWorkerParts, delivery: ChunkDelivery): Promise<ChunkReport> {
  const { ctx } = parts;
  const { chunk } = delivery;
  const done: ChunkReport = { outcome: { status: "done" } };
  const stored = await ctx.repos.executions.get(chunk.executionId);
  if (!stored || FINISHED_EXECUTION.has(stored.value.status)) return done;
  const execution = stored.value;
  const campaign = (await ctx.repos.campaigns.getCached(execution.campaignId))?.value;
  if (!isRunning(campaign)) return done;

  const controller = new AbortController();
  const onRelease = () => controller.abort(new ChunkHalt("released"));
  if (delivery.signal.aborted) return { outcome: { status: "later", at: ctx.now(), range: chunk.range } };
  delivery.signal.addEventListener("abort", onRelease, { once: true });
  // A stop made in any process reaches this worker within `stopCheckMs`: the campaign is read through the
  // kit's cache (dropped on every change the store reports), the execution from storage.
  const unwatch = ctx.clock.every(parts.stopCheckMs, async () => {
    try {
      const [current, fresh] = await Promise.all([
        ctx.repos.campaigns.getCached(execution.campaignId),
        ctx.repos.executions.get(execution.id),
      ]);
      if (!isRunning(current?.value) || !fresh || fresh.value.status === "cancelled") {
        controller.abort(new ChunkHalt("stopped"));
      }
    } catch {
      // Storage trouble: the dispatch's own ledger calls fail and end the chunk.
    }
  });
  const gate = parts.rateGate?.(campaign);
  const rate = gate ? patientGate(gate, parts.maxWaitMs, ctx.clock.now, controller) : undefined;
  const owner = `${parts.owner}:${chunk.id}:${ctx.newId()}`;
  const deadline = ctx.clock.now() + parts.maxChunkMs;
  let lastId: string | undefined;
  let cut = false;
  try {
    const base = {
      campaign,
      executionId: execution.id,
      configurations: await configurationsOf(ctx, campaign),
      ...(execution.context ? { context: execution.context } : {}),
      claims: { owner, inDoubt: parts.inDoubt },
      ...(rate ? { rate } : {}),
      signal: controller.signal,
    };
    let report: DispatchReport;
    if (execution.kind === "unitary") {
      const recipients = execution.recipients ?? [];
      report = await parts.dispatcher.dispatch({
        ...base,
        recipients: [recipients.map((r) => r.profile)],
        recipientOverrides: new Map(recipients.map((r) => [r.profile.id, r])),
      });
    } else {
      const audienceId = execution.audienceId ?? campaign.audienceId;
      if (!parts.audiences || !audienceId) return done;
      const plan = planExecution(campaign, execution, undefined);
      const members = parts.audiences.members({ audienceId, range: chunk.range, signal: controller.signal });
      // Stops reading at the deadline; what was read is sent, the rest handed back exactly (ids ascend).
      const bounded = async function* (): AsyncGenerator<readonly Profile[]> {
        for await (const page of members) {
          if (page.length === 0) continue;
          yield page;
          lastId = page[page.length - 1]!.id;
          if (ctx.clock.now() >= deadline) {
            cut = true;
            return;
          }
        }
      };
      const window = { start: ctx.now(), end: plan.window.end };
      if (plan.slices) {
        const slices = sliceWriter(ctx, execution, campaign.identityNamespace);
        report = await parts.dispatcher.dispatch({
          ...base,
          recipients: bounded(),
          window,
          plan: plan.dispatchPlan((profiles, dueAt) => slices.add(profiles, dueAt)),
        });
        await slices.flush();
      } else {
        report = await parts.dispatcher.dispatch({ ...base, recipients: bounded(), window });
      }
    }
    const halt = controller.signal.reason;
    if (halt instanceof ChunkHalt) {
      if (halt.reason === "stopped") return { outcome: { status: "done" }, report };
      // Aborted mid-read: batches in flight may be part sent; the ledger skips what was, so hand the whole
      // range back. A long wait comes back when the budget allows; a release at once, to another worker.
      const at = new Date(halt.reason === "wait" ? halt.resumeAt : ctx.clock.now());
      return { outcome: { status: "later", at, range: chunk.range }, report };
    }
    if (cut && lastId !== undefined) {
      const rest: AudienceRange = { ...chunk.range, after: lastId };
      return { outcome: { status: "later", at: ctx.now(), range: rest }, report };
    }
    return { outcome: { status: "done" }, report };
  } catch (error) {
    const halt = controller.signal.reason;
    if (halt instanceof ChunkHalt && halt.reason === "stopped") return done;
    if (halt instanceof ChunkHalt) {
      const at = new Date(halt.reason === "wait" ? halt.resumeAt : ctx.clock.now());
      return { outcome: { status: "later", at, range: chunk.range } };
    }
    throw error;
  } finally {
    delivery.signal.removeEventListener("abort", onRelease);
    await unwatch();
  }
}

/**
 * A rate gate that gives up on long waits: a reservation that would wait more than `maxWaitMs` (a campaign
 * paused by its provider, a budget spread thin over many workers) is refunded and aborts the chunk with the
 * time to come back, so the worker's slot goes to another campaign meanwhile.
 */
function patientGate(
  gate: RateGate,
  maxWaitMs: number,
  now: () => number,
  controller: AbortController,
): RateGate {
  return {
    get burst() {
      return gate.burst;
    },
    async reserve(count) {
      const wait = await gate.reserve(count);
      if (wait > maxWaitMs) {
        // The dispatcher's sleep then rejects at once and refunds the tokens.
        controller.abort(new ChunkHalt("wait", now() + wait));
        return 1;
      }
      return wait;
    },
    refund: (count) => gate.refund(count),
    slowDown: (ms) => gate.slowDown(ms),
  };
}
