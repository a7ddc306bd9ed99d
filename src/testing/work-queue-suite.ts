import { randomUUID } from "node:crypto";
import { systemClock } from "../ports/clock.js";
import type { ChunkDelivery, ChunkOutcome, WorkChunk, WorkLane, WorkQueue } from "../ports/work-queue.js";
import { workChunk } from "../ports/work-queue.js";
import { vitest } from "./vitest.js";

/** Options for {@link runWorkQueueSuite}. */
export interface WorkQueueSuiteOptions {
  /** The name of the `describe` block. Default `"WorkQueue"`. */
  name?: string;
  /**
   * Makes an empty queue; called before each test. For a distributed engine, use a fresh queue name or key
   * prefix each time so tests never see each other's jobs.
   */
  create: () => Promise<WorkQueue> | WorkQueue;
  /** Called after each test, after the queue was closed: drop what `create` made. */
  cleanup?: () => Promise<void>;
  /**
   * The longest a chunk abandoned by its worker (`close({ abandon: true })`) may take to be served again, in
   * ms: the driver's lease or expiry plus its checking interval. Default 15000.
   */
  redeliveryMs?: number;
}

const DONE: ChunkOutcome = { status: "done" };

/**
 * The work-queue contract, run against any {@link WorkQueue}: idempotent enqueue by chunk id, every chunk
 * served once and counted until done, the transactional lane first, chunks handed back with a new range and
 * time, thrown chunks served again, an abandoned chunk redelivered (and flagged so) within the lease, a
 * graceful close that aborts the chunks in hand, cancel, and concurrency. Call it from a vitest file.
 *
 * @example
 * ```ts
 * import { runWorkQueueSuite } from "campaign-kit/testing";
 * runWorkQueueSuite({ create: () => memoryWorkQueue({ leaseMs: 500 }), redeliveryMs: 2000 });
 * ```
 */
export function runWorkQueueSuite(options: WorkQueueSuiteOptions): void {
  const { afterEach, beforeEach, describe, expect, it } = vitest();
  const redeliveryMs = options.redeliveryMs ?? 15_000;
  let queue: WorkQueue;
  const servers: { close(o?: { abandon?: boolean }): Promise<void> }[] = [];
  const chunks = (executionId: string, count: number, lane: WorkLane = "marketing"): WorkChunk[] =>
    Array.from({ length: count }, (_, index) =>
      workChunk({
        executionId,
        campaignId: "c1",
        index,
        lane,
        range: index === 0 ? { until: `p${index}` } : { after: `p${index - 1}`, until: `p${index}` },
      }),
    );
  const serve = async (handler: (d: ChunkDelivery) => Promise<ChunkOutcome>, concurrency = 2) => {
    const server = await queue.serve({ handler, concurrency });
    servers.push(server);
    return server;
  };
  const until = async (condition: () => boolean | Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
      await systemClock.sleep(20);
    }
  };
  const sleep = (ms: number) => systemClock.sleep(ms);

  describe(options.name ?? "WorkQueue", () => {
    beforeEach(async () => {
      queue = await options.create();
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.close({ abandon: true }).catch(() => {});
      await queue.close();
      await options.cleanup?.();
    });

    it("serves every chunk once, counts it until done, and ignores chunks enqueued again", async () => {
      const execution = `x-${randomUUID()}`;
      const planned = chunks(execution, 12);
      await queue.enqueue({ chunks: planned });
      await queue.enqueue({ chunks: planned.slice(0, 5) });
      expect(await queue.outstanding({ executionId: execution })).toBe(12);
      const seen: WorkChunk[] = [];
      await serve(async ({ chunk, redelivered }) => {
        expect(redelivered).toBe(false);
        seen.push(chunk);
        return DONE;
      }, 3);
      await until(async () => (await queue.outstanding({ executionId: execution })) === 0, 10_000);
      // Planned again after they were done: nothing new.
      await queue.enqueue({ chunks: planned });
      await sleep(300);
      expect(seen.map((c) => c.index).sort((a, b) => a - b)).toEqual(planned.map((c) => c.index));
      expect(seen.find((c) => c.index === 3)).toEqual(planned[3]);
      expect(await queue.outstanding({ executionId: execution })).toBe(0);
      expect(await queue.outstanding({ executionId: `x-${randomUUID()}` })).toBe(0);
    });

    it("serves the transactional lane at once, before any marketing chunk waiting or running", async () => {
      const marketing = `x-${randomUUID()}`;
      const transactional = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(marketing, 6) });
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await serve(async ({ chunk }) => {
        order.push(chunk.lane);
        if (order.length === 1) await gate;
        return DONE;
      }, 1);
      await until(() => order.length === 1, 10_000);
      await queue.enqueue({ chunks: chunks(transactional, 1, "transactional") });
      // Served while the marketing chunk still holds the worker's only marketing slot: lanes never wait on
      // each other.
      await until(() => order.length === 2, 10_000);
      release();
      await until(async () => (await queue.outstanding({ executionId: marketing })) === 0, 10_000);
      expect(order[1]).toBe("transactional");
      expect(order.filter((lane) => lane === "marketing")).toHaveLength(6);
    });

    it("takes a chunk handed back with the rest of its range, at the time given", async () => {
      const execution = `x-${randomUUID()}`;
      const [chunk] = chunks(execution, 1);
      await queue.enqueue({ chunks: [chunk!] });
      const deliveries: { range: WorkChunk["range"]; at: number; redelivered: boolean }[] = [];
      let backAt = 0;
      await serve(async (delivery) => {
        deliveries.push({ range: delivery.chunk.range, at: Date.now(), redelivered: delivery.redelivered });
        if (deliveries.length > 1) return DONE;
        backAt = Date.now() + 600;
        return { status: "later", at: new Date(backAt), range: { after: "m", until: "p0" } };
      });
      await until(() => deliveries.length === 2, 15_000);
      expect(deliveries[1]!.range).toEqual({ after: "m", until: "p0" });
      expect(deliveries[1]!.at).toBeGreaterThanOrEqual(backAt - 50);
      expect(deliveries[1]!.redelivered).toBe(false);
      await until(async () => (await queue.outstanding({ executionId: execution })) === 0, 10_000);
    });

    it("serves a chunk whose handler threw again, not flagged as redelivered", async () => {
      const execution = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(execution, 1) });
      const flags: boolean[] = [];
      await serve(async ({ redelivered }) => {
        flags.push(redelivered);
        if (flags.length === 1) throw new Error("storage down");
        return DONE;
      });
      await until(async () => (await queue.outstanding({ executionId: execution })) === 0, 30_000);
      expect(flags).toEqual([false, false]);
    });

    it("redelivers, flagged, the chunk of a worker that vanished, within the lease", async () => {
      const execution = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(execution, 1) });
      let taken = false;
      const dead = await serve(async ({ signal }) => {
        taken = true;
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return new Promise<ChunkOutcome>(() => {}); // never answers, as a killed process
      });
      await until(() => taken, 10_000);
      await dead.close({ abandon: true });
      const abandonedAt = Date.now();
      const second: boolean[] = [];
      await serve(async ({ redelivered }) => {
        second.push(redelivered);
        return DONE;
      });
      await until(() => second.length === 1, redeliveryMs + 5_000);
      expect(second).toEqual([true]);
      expect(Date.now() - abandonedAt).toBeLessThan(redeliveryMs + 5_000);
      await until(async () => (await queue.outstanding({ executionId: execution })) === 0, 10_000);
    }, 60_000);

    it("a graceful close aborts the chunks in hand and takes what they hand back", async () => {
      const execution = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(execution, 1) });
      let taken = false;
      const first = await serve(async ({ chunk, signal }) => {
        taken = true;
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return { status: "later", at: new Date(), range: chunk.range };
      });
      await until(() => taken, 10_000);
      await first.close();
      const second: boolean[] = [];
      await serve(async ({ redelivered }) => {
        second.push(redelivered);
        return DONE;
      });
      await until(() => second.length === 1, 10_000);
      expect(second).toEqual([false]);
    });

    it("cancel forgets the chunks not served yet", async () => {
      const execution = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(execution, 5) });
      await queue.cancel({ executionId: execution });
      expect(await queue.outstanding({ executionId: execution })).toBe(0);
      const seen: number[] = [];
      await serve(async ({ chunk }) => {
        seen.push(chunk.index);
        return DONE;
      });
      await sleep(500);
      expect(seen).toEqual([]);
    });

    it("never holds more than its concurrency, and two servers share the chunks", async () => {
      const execution = `x-${randomUUID()}`;
      await queue.enqueue({ chunks: chunks(execution, 16) });
      const active = [0, 0];
      const peak = [0, 0];
      const count = [0, 0];
      const handler = (i: number) => async () => {
        active[i]!++;
        peak[i] = Math.max(peak[i]!, active[i]!);
        await sleep(30);
        active[i]!--;
        count[i]!++;
        return DONE;
      };
      await serve(handler(0), 2);
      await serve(handler(1), 3);
      await until(async () => (await queue.outstanding({ executionId: execution })) === 0, 20_000);
      expect(count[0]! + count[1]!).toBe(16);
      expect(peak[0]).toBeLessThanOrEqual(2);
      expect(peak[1]).toBeLessThanOrEqual(3);
    });
  });
}
