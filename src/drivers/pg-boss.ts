/**
 * The pg-boss {@link WorkQueue}: `campaign-kit/pg-boss`, for hosts that run PostgreSQL and nothing else.
 * Needs the optional peer dependencies `pg-boss` (10.x, which runs on Node 20) and `pg`.
 *
 * @packageDocumentation
 * @module campaign-kit/pg-boss
 */
import type { Pool, PoolClient } from "pg";
import type PgBoss from "pg-boss";
import { CampaignKitError } from "../errors.js";
import { systemClock } from "../ports/clock.js";
import type {
  ChunkHandler,
  ChunkOutcome,
  WorkChunk,
  WorkLane,
  WorkQueue,
  WorkServer,
} from "../ports/work-queue.js";

/** Options for {@link pgBossWorkQueue}. */
export interface PgBossWorkQueueOptions {
  /** The host's pg-boss 10 instance, started (`await boss.start()`). campaign-kit never stops it. */
  boss: PgBoss;
  /**
   * A pool on the same database: the driver reads and updates its jobs through it (what pg-boss 10's API
   * lacks: counting an execution's jobs, handing a job back, heartbeats) and holds one client of it to
   * `LISTEN` for transactional chunks.
   */
  pool: Pool;
  /** The schema pg-boss was constructed with. Default `pgboss`. */
  schema?: string;
  /** The start of both queues' names: `<name>-transactional` and `<name>-marketing`. Default `campaign-kit`. */
  name?: string;
  /**
   * How long a chunk stays with a worker that stopped sending heartbeats before it is served again, in
   * seconds (default 10). Heartbeats go every third of it, and the driver sweeps expired jobs every fifth,
   * so a dead worker's chunk is back within about 1.3 times this.
   */
  leaseSeconds?: number;
  /** How often an idle worker looks for marketing chunks, in ms (default 250); transactional ones wake it. */
  pollMs?: number;
  /** How long a chunk whose handler threw waits before it is served again, in ms. Default 1000. */
  retryDelayMs?: number;
}

interface ChunkJobData {
  chunk: WorkChunk;
}

/** The bounds of PostgreSQL identifiers we build from names. */
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A {@link WorkQueue} on pg-boss 10: one pg-boss queue per lane, one job per chunk with the chunk's derived
 * id as the job id (so enqueuing a chunk twice inserts nothing), enqueued in one statement per batch.
 *
 * What pg-boss 10 lacks, the driver does in SQL on pg-boss's own tables (stable within 10.x): a heartbeat
 * that moves `started_on` forward while a chunk is handled, so a short expiry (`leaseSeconds`) never expires
 * a live worker's chunk while a killed worker's comes back within seconds (pg-boss's default expiry is 15
 * minutes); handing a chunk back with a new range and start time; counting and cancelling an execution's
 * jobs. Transactional chunks are announced with `NOTIFY` in the transaction that inserts them, and every
 * serving worker `LISTEN`s, so a password reset starts within milliseconds instead of a polling interval.
 *
 * @example
 * ```ts
 * import PgBoss from "pg-boss";
 * import { pgBossWorkQueue } from "campaign-kit/pg-boss";
 *
 * const boss = new PgBoss({ connectionString: process.env.DATABASE_URL });
 * await boss.start();
 * const workQueue = pgBossWorkQueue({ boss, pool });
 * const kit = await createCampaignKit({ storage: postgresStorage({ pool }), audiences, channels, workQueue });
 * ```
 */
export function pgBossWorkQueue(options: PgBossWorkQueueOptions): WorkQueue {
  const { boss, pool } = options;
  const schema = quote(options.schema ?? "pgboss");
  const base = options.name ?? "campaign-kit";
  const names: Record<WorkLane, string> = {
    transactional: `${base}-transactional`,
    marketing: `${base}-marketing`,
  };
  const leaseSeconds = Math.max(2, Math.floor(options.leaseSeconds ?? 10));
  const pollMs = options.pollMs ?? 250;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const channel = `campaign_kit_${base.replace(/[^a-zA-Z0-9_]/g, "_")}`.slice(0, 63);
  let ready: Promise<void> | undefined;
  const setup = () => {
    ready ??= (async () => {
      for (const name of Object.values(names)) {
        // Retries are how an expired (dead worker's) job comes back: as many as a chunk could ever need.
        // Processes starting together create queues together, which can deadlock in pg-boss's DDL: retry.
        for (let attempt = 1; ; attempt++) {
          try {
            await boss.createQueue(name, {
              name,
              retryLimit: 1_000_000,
              retryDelay: 0,
              expireInSeconds: leaseSeconds,
            });
            break;
          } catch (error) {
            const code = (error as { code?: string }).code;
            if (attempt >= 5 || (code !== "40P01" && code !== "23505")) throw error;
            await systemClock.sleep(50 * attempt);
          }
        }
      }
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
  const sql = async <T extends object>(text: string, values: unknown[]) => {
    try {
      return (await pool.query<T & Record<string, unknown>>(text, values)).rows as T[];
    } catch (error) {
      throw new CampaignKitError("STORAGE_FAILED", `pg-boss work queue: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  /** Puts an active job back to `created` at `at` with `chunk` (a new range), as if never started. */
  const handBack = (name: string, id: string, chunk: WorkChunk, at: Date) =>
    sql(
      `UPDATE ${schema}.job SET state = 'created', start_after = $3, started_on = NULL, data = $4
       WHERE name = $1 AND id = $2 AND state = 'active'`,
      [name, id, at, JSON.stringify({ chunk })],
    );
  const sweeps = new Set<object>();
  let stopSweep: (() => Promise<void>) | undefined;

  const queue: WorkQueue = {
    name: "pg-boss",
    leaseMs: leaseSeconds * 1000,

    async enqueue({ chunks }) {
      if (chunks.length === 0) return;
      await setup();
      const client = await pool.connect();
      try {
        // One transaction: the chunks and the wake-up of transactional workers commit together.
        await client.query("BEGIN");
        const db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
        await boss.insert(
          chunks.map((chunk) => ({ id: chunk.id, name: names[chunk.lane], data: { chunk } })),
          { db } as PgBoss.InsertOptions,
        );
        if (chunks.some((chunk) => chunk.lane === "transactional")) {
          await client.query("SELECT pg_notify($1, 'transactional')", [channel]);
        }
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw new CampaignKitError("STORAGE_FAILED", `pg-boss work queue: ${(error as Error).message}`, {
          cause: error,
        });
      } finally {
        client.release();
      }
    },

    async serve({ handler, concurrency }: { handler: ChunkHandler; concurrency: number }) {
      await setup();
      const limit = Math.max(1, Math.floor(concurrency));
      const perLane: Record<WorkLane, number> = { transactional: 0, marketing: 0 };
      const running = new Map<
        string,
        { controller: AbortController; done: Promise<void>; beat: () => Promise<void> }
      >();
      let open = true;
      let abandoned = false;
      let wake: (() => void) | undefined;
      const nudge = () => {
        const resume = wake;
        wake = undefined;
        resume?.();
      };
      // LISTEN on a client of its own: a transactional chunk wakes the loop at once.
      let listener: PoolClient | undefined;
      try {
        listener = await pool.connect();
        listener.on("notification", nudge);
        listener.on("error", () => {});
        await listener.query(`LISTEN ${quote(channel)}`);
      } catch {
        listener?.release(true);
        listener = undefined; // polling still finds them
      }
      // Expired jobs (a dead worker's) go back to `retry` only when pg-boss's maintenance runs, every few
      // minutes by default: sweep them ourselves, often enough for a chunk to return within the lease.
      const sweeper = {};
      sweeps.add(sweeper);
      stopSweep ??= systemClock.every(Math.max(500, (leaseSeconds * 1000) / 5), () =>
        (boss as unknown as { expire(): Promise<void> }).expire().catch(() => {}),
      );

      const start = (lane: WorkLane, job: PgBoss.JobWithMetadata<ChunkJobData>) => {
        perLane[lane]++;
        const controller = new AbortController();
        const name = names[lane];
        // The heartbeat: `started_on` moves forward, so the job's expiry counts from the latest beat.
        const beat = systemClock.every((leaseSeconds * 1000) / 3, () =>
          sql(
            `UPDATE ${schema}.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active'`,
            [name, job.id],
          ).then(
            () => {},
            () => {},
          ),
        );
        const done = (async () => {
          let outcome: ChunkOutcome | Error;
          try {
            outcome = await handler({
              chunk: job.data.chunk,
              // pg-boss counts a retry when a job started before is fetched again: only an expiry does that
              // here, since a hand-back clears `started_on`.
              redelivered: job.retryCount > 0,
              signal: controller.signal,
            });
          } catch (error) {
            outcome = error instanceof Error ? error : new Error(String(error));
          }
          await beat();
          if (!abandoned) {
            try {
              if (outcome instanceof Error) {
                await handBack(name, job.id, job.data.chunk, new Date(Date.now() + retryDelayMs));
              } else if (outcome.status === "done") {
                await boss.complete(name, job.id);
              } else {
                await handBack(name, job.id, { ...job.data.chunk, range: outcome.range }, outcome.at);
              }
            } catch {
              // The job stays active without heartbeats: it expires and comes back, flagged redelivered.
            }
          }
          running.delete(job.id);
          perLane[lane]--;
          nudge();
        })();
        running.set(job.id, { controller, done, beat });
      };

      const loop = (async () => {
        while (open) {
          let took = 0;
          try {
            for (const lane of ["transactional", "marketing"] as const) {
              const free = limit - perLane[lane];
              if (free <= 0 || !open) continue;
              const jobs = await boss.fetch<ChunkJobData>(names[lane], {
                batchSize: free,
                includeMetadata: true,
              });
              for (const job of jobs ?? []) {
                if (!open) {
                  await handBack(names[lane], job.id, job.data.chunk, new Date()).catch(() => {});
                  continue;
                }
                start(lane, job);
                took++;
              }
            }
          } catch {
            // The database is away: try again after the poll interval.
          }
          if (took > 0 || !open) continue;
          await new Promise<void>((resolve) => {
            const nap = new AbortController();
            wake = () => {
              nap.abort();
              resolve();
            };
            systemClock.sleep(pollMs, nap.signal).then(nudge, () => {});
          });
        }
      })();

      const server: WorkServer = {
        get active() {
          return running.size;
        },
        async close({ abandon = false } = {}) {
          if (!open) return;
          open = false;
          abandoned = abandon;
          nudge();
          await loop;
          sweeps.delete(sweeper);
          if (sweeps.size === 0 && stopSweep) {
            const stopping = stopSweep;
            stopSweep = undefined;
            await stopping();
          }
          if (listener) {
            listener.removeListener("notification", nudge);
            await listener.query(`UNLISTEN ${quote(channel)}`).catch(() => {});
            listener.release();
          }
          for (const run of running.values()) {
            // Abandoned as by a crash: no more heartbeats, so the chunks expire and come back.
            if (abandon) void run.beat();
            run.controller.abort(new Error(abandon ? "worker abandoned" : "worker closing"));
          }
          if (!abandon) await Promise.all([...running.values()].map((run) => run.done));
        },
      };
      return server;
    },

    async outstanding({ executionId }) {
      await setup();
      const rows = await sql<{ count: number }>(
        `SELECT count(*)::integer AS count FROM ${schema}.job
         WHERE name = ANY($1::text[]) AND data->'chunk'->>'executionId' = $2 AND state < 'completed'`,
        [Object.values(names), executionId],
      );
      return rows[0]?.count ?? 0;
    },

    async cancel({ executionId }) {
      await setup();
      await sql(
        `UPDATE ${schema}.job SET state = 'cancelled', completed_on = now()
         WHERE name = ANY($1::text[]) AND data->'chunk'->>'executionId' = $2 AND state < 'active'`,
        [Object.values(names), executionId],
      );
    },

    async close() {
      const stopping = stopSweep;
      stopSweep = undefined;
      await stopping?.();
    },
  };
  return queue;
}
