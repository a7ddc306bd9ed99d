/**
 * The BullMQ {@link WorkQueue}: `campaign-kit/bullmq`, for teams that run Redis. Needs the optional peer
 * dependency `bullmq` (5 or later, with its `ioredis`).
 *
 * @packageDocumentation
 * @module campaign-kit/bullmq
 */
import { type ConnectionOptions, DelayedError, type Job, Queue, Worker } from "bullmq";
import { CampaignKitError } from "../errors.js";
import type {
  ChunkHandler,
  ChunkOutcome,
  WorkChunk,
  WorkLane,
  WorkQueue,
  WorkServer,
} from "../ports/work-queue.js";

/**
 * What the driver needs of the host's ioredis connection (an `ioredis` `Redis`): typed by shape, so that
 * consumers need no `ioredis` types of their own to compile against this subpath.
 */
export interface BullmqRedisConnection {
  /** ioredis's options; BullMQ needs `maxRetriesPerRequest: null`. */
  readonly options?: { maxRetriesPerRequest?: number | null | undefined };
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  multi(): BullmqRedisPipeline;
  scard(key: string): Promise<number>;
  smembers(key: string): Promise<string[]>;
}

/** The part of an ioredis pipeline the driver uses. */
export interface BullmqRedisPipeline {
  srem(key: string, member: string): BullmqRedisPipeline;
  sadd(key: string, member: string): BullmqRedisPipeline;
  expire(key: string, seconds: number): BullmqRedisPipeline;
  exec(): Promise<unknown>;
}

/** Options for {@link bullmqWorkQueue}. */
export interface BullmqWorkQueueOptions {
  /**
   * The host's ioredis connection, made with `maxRetriesPerRequest: null` (BullMQ's workers block on Redis).
   * campaign-kit never closes it; BullMQ duplicates it for its blocking reads. Run Redis with
   * `maxmemory-policy noeviction`: an evicted job is a lost chunk.
   */
  connection: BullmqRedisConnection;
  /** The start of both queues' names: `<name>-transactional` and `<name>-marketing`. Default `campaign-kit`. */
  name?: string;
  /** BullMQ's key prefix. Default `bull`. */
  prefix?: string;
  /**
   * How long a chunk's lock lasts without renewal, in ms (default 10000; BullMQ renews it every half while
   * the chunk is handled). A dead worker's chunk is moved back by the next stalled check after the lock
   * lapses: checks run every `leaseMs / 4`, so it returns within about 1.25 times this (BullMQ's defaults,
   * 30 s + 30 s, take up to a minute).
   */
  leaseMs?: number;
  /** How long a chunk whose handler threw waits before it is served again, in ms. Default 1000. */
  retryDelayMs?: number;
  /** How long completed chunk jobs are kept, so planning an execution again finds them, in s. Default 1 day. */
  keepCompletedSeconds?: number;
}

interface ChunkJobData {
  chunk: WorkChunk;
  /** The job's stall count when it was last handed back: more stalls than this mean a redelivery. */
  stalls?: number;
}

/** Adds ids to an execution's open set unless already done: KEYS open, done; ARGV ids. */
const OPEN_SCRIPT = `
for i, id in ipairs(ARGV) do
  if redis.call('SISMEMBER', KEYS[2], id) == 0 then redis.call('SADD', KEYS[1], id) end
end
redis.call('EXPIRE', KEYS[1], 604800)
return 0`;

/**
 * A {@link WorkQueue} on BullMQ: one queue per lane, each served by its own BullMQ `Worker` with the lane's
 * concurrency (so transactional chunks never wait for a marketing slot, and BullMQ's blocking reads wake a
 * worker the moment one is added), one job per chunk with the chunk's derived id as its `jobId` (so
 * enqueuing a chunk twice adds nothing while the job is kept). Completed jobs are removed after
 * `keepCompletedSeconds` (BullMQ keeps them forever otherwise); a chunk handed back is moved to the delayed
 * set with its new range. What is left of each execution is two small Redis sets (open and done chunk ids),
 * kept a week.
 *
 * No BullMQ rate limiter is used: it throttles a whole queue, so one campaign's limit would stall every
 * other; the kit's rate budget is per campaign, in storage.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { bullmqWorkQueue } from "campaign-kit/bullmq";
 *
 * const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
 * const kit = await createCampaignKit({ storage, audiences, channels, workQueue: bullmqWorkQueue({ connection }) });
 * ```
 */
export function bullmqWorkQueue(options: BullmqWorkQueueOptions): WorkQueue {
  const { connection } = options;
  if (connection.options?.maxRetriesPerRequest !== null) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "BullMQ needs its Redis connection made with `maxRetriesPerRequest: null`: new Redis(url, { maxRetriesPerRequest: null }).",
    );
  }
  // The host's ioredis instance, as BullMQ takes it.
  const redis = connection as unknown as ConnectionOptions;
  const base = options.name ?? "campaign-kit";
  const prefix = options.prefix ?? "bull";
  const leaseMs = Math.max(2000, options.leaseMs ?? 10_000);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const keep = options.keepCompletedSeconds ?? 86_400;
  const names: Record<WorkLane, string> = {
    transactional: `${base}-transactional`,
    marketing: `${base}-marketing`,
  };
  const queues: Record<WorkLane, Queue<ChunkJobData>> = {
    transactional: new Queue<ChunkJobData>(names.transactional, { connection: redis, prefix }),
    marketing: new Queue<ChunkJobData>(names.marketing, { connection: redis, prefix }),
  };
  const setKey = (kind: "open" | "done", executionId: string) =>
    `${prefix}:${base}:ck:${kind}:${executionId}`;
  const settle = async (chunk: WorkChunk) => {
    await connection
      .multi()
      .srem(setKey("open", chunk.executionId), chunk.id)
      .sadd(setKey("done", chunk.executionId), chunk.id)
      .expire(setKey("done", chunk.executionId), 604_800)
      .exec();
  };
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new CampaignKitError(
        "STORAGE_FAILED",
        `BullMQ work queue (${what}): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };

  return {
    name: "bullmq",
    leaseMs,

    enqueue: ({ chunks }) =>
      wrap("enqueue", async () => {
        if (chunks.length === 0) return;
        const byExecution = new Map<string, string[]>();
        for (const chunk of chunks) {
          byExecution.set(chunk.executionId, [...(byExecution.get(chunk.executionId) ?? []), chunk.id]);
        }
        // Counted before added: a worker finishing the job at once then finds it open, never the reverse.
        for (const [executionId, ids] of byExecution) {
          await connection.eval(
            OPEN_SCRIPT,
            2,
            setKey("open", executionId),
            setKey("done", executionId),
            ...ids,
          );
        }
        for (const lane of ["transactional", "marketing"] as const) {
          const jobs = chunks
            .filter((chunk) => chunk.lane === lane)
            .map((chunk) => ({
              name: "chunk",
              data: { chunk },
              opts: { jobId: chunk.id, removeOnComplete: { age: keep }, removeOnFail: { age: keep } },
            }));
          if (jobs.length > 0) await queues[lane].addBulk(jobs);
        }
      }),

    async serve({ handler, concurrency }: { handler: ChunkHandler; concurrency: number }) {
      const limit = Math.max(1, Math.floor(concurrency));
      const controllers = new Set<AbortController>();
      let closed = false;
      const inFlight = new Set<Promise<unknown>>();
      let abandoned = false;
      const processJob = (job: Job<ChunkJobData>, token?: string) => {
        const run = handle(job, token);
        const settled = run.catch(() => {});
        inFlight.add(settled);
        void settled.finally(() => inFlight.delete(settled));
        return run;
      };
      const handle = async (job: Job<ChunkJobData>, token?: string) => {
        if (abandoned) return new Promise<never>(() => {});
        const { chunk } = job.data;
        if (closed) {
          // Fetched while closing: straight back to the queue, for another worker.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        const controller = new AbortController();
        controllers.add(controller);
        let outcome: ChunkOutcome | Error;
        try {
          outcome = await handler({
            chunk,
            redelivered: (job.stalledCounter ?? 0) > (job.data.stalls ?? 0),
            signal: controller.signal,
          });
        } catch (error) {
          outcome = error instanceof Error ? error : new Error(String(error));
        } finally {
          controllers.delete(controller);
        }
        // A crash leaves the job locked and unanswered: it stalls and comes back, flagged redelivered.
        if (abandoned) return new Promise<never>(() => {});
        if (!(outcome instanceof Error) && outcome.status === "done") {
          await settle(chunk);
          return;
        }
        const next: ChunkJobData =
          outcome instanceof Error
            ? { chunk, stalls: job.stalledCounter ?? 0 }
            : { chunk: { ...chunk, range: outcome.range }, stalls: job.stalledCounter ?? 0 };
        const at = outcome instanceof Error ? Date.now() + retryDelayMs : outcome.at.getTime();
        await job.updateData(next);
        await job.moveToDelayed(Math.max(at, Date.now()), token);
        throw new DelayedError();
      };
      const workers = (["transactional", "marketing"] as const).map(
        (lane) =>
          new Worker<ChunkJobData>(names[lane], processJob, {
            connection: redis,
            prefix,
            concurrency: limit,
            lockDuration: leaseMs,
            stalledInterval: Math.max(500, Math.floor(leaseMs / 4)),
            // A chunk may stall many times (every worker that held it died) and must still come back.
            maxStalledCount: 1_000_000,
          }),
      );
      for (const worker of workers) worker.on("error", () => {});
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      const server: WorkServer = {
        get active() {
          return controllers.size;
        },
        async close({ abandon = false } = {}) {
          if (closed) return;
          closed = true;
          abandoned = abandon;
          for (const controller of controllers) {
            controller.abort(new Error(abandon ? "worker abandoned" : "worker closing"));
          }
          // Our chunks first (handed back or completed), then BullMQ's workers, forced: they hold no job any
          // more, and a graceful close can wait forever on a blocking read (seen with BullMQ 5/6).
          if (!abandon) {
            for (const worker of workers) void worker.pause(true).catch(() => {});
            await Promise.all([...inFlight]);
          }
          await Promise.all(workers.map((worker) => worker.close(true)));
        },
      };
      return server;
    },

    outstanding: ({ executionId }) =>
      wrap("outstanding", async () => connection.scard(setKey("open", executionId))),

    cancel: ({ executionId }) =>
      wrap("cancel", async () => {
        const ids = await connection.smembers(setKey("open", executionId));
        for (const id of ids) {
          for (const lane of ["transactional", "marketing"] as const) {
            const job = await queues[lane].getJob(id);
            if (!job) continue;
            const state = await job.getState();
            if (state !== "waiting" && state !== "delayed" && state !== "prioritized") continue;
            // Removed unless a worker took it meanwhile (then it runs, sees the stop and completes).
            if ((await queues[lane].remove(id)) === 1) await settle(job.data.chunk);
          }
        }
      }),

    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
    },
  };
}
