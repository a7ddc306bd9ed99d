import { systemClock } from "../../ports/clock.js";
import type { ChunkHandler, WorkChunk, WorkLane, WorkQueue, WorkServer } from "../../ports/work-queue.js";

/** Options for {@link memoryWorkQueue}. */
export interface MemoryWorkQueueOptions {
  /**
   * How long a chunk stays with a worker that let go of it without a word (`close({ abandon: true })`, the
   * in-process stand-in for a crash) before it is served again, in ms. Default 5000.
   */
  leaseMs?: number;
  /** How long a chunk whose handler threw waits before it is served again, in ms. Default 1000. */
  retryDelayMs?: number;
}

interface Entry {
  chunk: WorkChunk;
  state: "waiting" | "active" | "done";
  /** When it may be served (ms). */
  availableAt: number;
  /** Handed out before and not completed or handed back. */
  redelivered: boolean;
  /** While active: when its lease runs out, if its server was abandoned. */
  leaseUntil: number;
  /** The server holding it while active. */
  holder?: object;
}

/**
 * The reference {@link WorkQueue}: chunks in a `Map`, served to the servers of this process, transactional
 * first. For tests and single-process hosts that want the worker model (a kit and its workers in one
 * process); several processes need a distributed driver (`campaign-kit/pg-boss`, `campaign-kit/bullmq`).
 *
 * @example
 * ```ts
 * const queue = memoryWorkQueue();
 * const kit = await createCampaignKit({ workQueue: queue, audiences, channels });
 * const worker = await runWorker({ kit, concurrency: 4 });
 * ```
 */
export function memoryWorkQueue(options: MemoryWorkQueueOptions = {}): WorkQueue {
  const leaseMs = options.leaseMs ?? 5000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const entries = new Map<string, Entry>();
  const lanes: Record<WorkLane, string[]> = { transactional: [], marketing: [] };
  const servers = new Set<{ pump(): void }>();
  // While anyone serves: every 25 ms, expired leases come back and delayed chunks fall due.
  let stopTicking: (() => Promise<void>) | undefined;
  const wakeAll = () => {
    for (const server of servers) server.pump();
  };
  const arm = () => {
    stopTicking ??= systemClock.every(25, () => {
      expireLeases();
      wakeAll();
    });
  };
  const expireLeases = () => {
    const now = Date.now();
    for (const entry of entries.values()) {
      if (entry.state === "active" && entry.leaseUntil <= now) {
        entry.state = "waiting";
        entry.redelivered = true;
        entry.leaseUntil = Number.POSITIVE_INFINITY;
        delete entry.holder;
        lanes[entry.chunk.lane].push(entry.chunk.id);
      }
    }
  };
  /** The next chunk to serve: the transactional lane first, each lane in order, skipping delayed ones. */
  const take = (free: (lane: WorkLane) => boolean): Entry | undefined => {
    const now = Date.now();
    for (const lane of ["transactional", "marketing"] as const) {
      if (!free(lane)) continue;
      const ids = lanes[lane];
      for (let i = 0; i < ids.length; i++) {
        const entry = entries.get(ids[i]!);
        if (entry?.state !== "waiting") {
          ids.splice(i--, 1);
          continue;
        }
        if (entry.availableAt > now) continue;
        ids.splice(i, 1);
        return entry;
      }
    }
    return undefined;
  };

  return {
    name: "memory",
    leaseMs,
    async enqueue({ chunks }) {
      for (const chunk of chunks) {
        if (entries.has(chunk.id)) continue;
        entries.set(chunk.id, {
          chunk: { ...chunk, range: { ...chunk.range } },
          state: "waiting",
          availableAt: 0,
          redelivered: false,
          leaseUntil: Number.POSITIVE_INFINITY,
        });
        lanes[chunk.lane].push(chunk.id);
      }
      queueMicrotask(wakeAll);
    },

    async serve({ handler, concurrency }: { handler: ChunkHandler; concurrency: number }) {
      const limit = Math.max(1, Math.floor(concurrency));
      const running = new Map<Entry, { controller: AbortController; done: Promise<void> }>();
      const perLane: Record<WorkLane, number> = { transactional: 0, marketing: 0 };
      const free = (lane: WorkLane) => perLane[lane] < limit;
      let open = true;
      const holder = {};
      const finish = (entry: Entry, outcome: Awaited<ReturnType<ChunkHandler>> | Error) => {
        if (entry.holder !== holder || entry.state !== "active") return;
        delete entry.holder;
        entry.leaseUntil = Number.POSITIVE_INFINITY;
        if (!(outcome instanceof Error) && outcome.status === "done") {
          entry.state = "done";
          return;
        }
        entry.state = "waiting";
        entry.redelivered = false;
        if (outcome instanceof Error) entry.availableAt = Date.now() + retryDelayMs;
        else {
          entry.chunk = { ...entry.chunk, range: { ...outcome.range } };
          entry.availableAt = outcome.at.getTime();
        }
        lanes[entry.chunk.lane].push(entry.chunk.id);
        arm();
      };
      const server = {
        pump() {
          while (open) {
            const entry = take(free);
            if (!entry) break;
            const lane = entry.chunk.lane;
            perLane[lane]++;
            entry.state = "active";
            entry.holder = holder;
            const controller = new AbortController();
            const redelivered = entry.redelivered;
            entry.redelivered = true; // until completed or handed back, a second serve is a redelivery
            const done = (async () => {
              let outcome: Awaited<ReturnType<ChunkHandler>> | Error;
              try {
                outcome = await handler({
                  chunk: { ...entry.chunk, range: { ...entry.chunk.range } },
                  redelivered,
                  signal: controller.signal,
                });
              } catch (error) {
                outcome = error instanceof Error ? error : new Error(String(error));
              }
              running.delete(entry);
              perLane[lane]--;
              if (open) finish(entry, outcome);
              else if (closing === "graceful") finish(entry, outcome);
              queueMicrotask(wakeAll);
            })();
            running.set(entry, { controller, done });
          }
          arm();
        },
      };
      let closing: "graceful" | "abandon" | undefined;
      servers.add(server);
      queueMicrotask(() => server.pump());
      const workServer: WorkServer = {
        get active() {
          return running.size;
        },
        async close({ abandon = false } = {}) {
          if (!open) return;
          open = false;
          servers.delete(server);
          closing = abandon ? "abandon" : "graceful";
          if (abandon) {
            // As a crash: nothing is completed or handed back; the chunks wait out their lease.
            const until = Date.now() + leaseMs;
            for (const [entry, run] of running) {
              entry.leaseUntil = until;
              run.controller.abort(new Error("worker abandoned"));
            }
            arm();
            return;
          }
          for (const run of running.values()) run.controller.abort(new Error("worker closing"));
          await Promise.all([...running.values()].map((run) => run.done));
        },
      };
      return workServer;
    },

    async outstanding({ executionId }) {
      let count = 0;
      for (const entry of entries.values()) {
        if (entry.chunk.executionId === executionId && entry.state !== "done") count++;
      }
      return count;
    },

    async cancel({ executionId }) {
      for (const entry of entries.values()) {
        if (entry.chunk.executionId === executionId && entry.state === "waiting") entry.state = "done";
      }
    },

    async close() {
      const stopping = stopTicking;
      stopTicking = undefined;
      await stopping?.();
    },
  };
}
