/**
 * `npm run bench -- workers`: one campaign to N recipients (default 100,000; `BENCH_WORKERS_N`) with a
 * PostgreSQL ledger and a no-op provider, sent (1) by a single process, (2) by 2 worker processes on
 * pg-boss and (3) on BullMQ, in chunks of 500; and (4) the one-job-per-recipient pattern (one BullMQ job per
 * recipient, each writing its ledger row) on min(N, 20,000) recipients, scaled. Needs DATABASE_URL and
 * REDIS_URL. Prints recipients per second and the ratios.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import PgBoss from "pg-boss";
import { bullmqWorkQueue } from "../src/drivers/bullmq.js";
import { pgBossWorkQueue } from "../src/drivers/pg-boss.js";
import { migrate, postgresStorage } from "../src/drivers/postgres/index.js";
import { createCampaignKit, memoryChannel } from "../src/index.js";
import type { WorkQueue } from "../src/ports/work-queue.js";
import { benchConfiguration, rangedBenchAudience } from "./fixtures.js";

const CHILD = fileURLToPath(new URL("./workers-child.ts", import.meta.url));
const ADMIN = "root";

async function sendOnce(
  pool: pg.Pool,
  schema: string,
  n: number,
  workQueue: WorkQueue | undefined,
  startWorkers: () => Promise<ChildProcess[]>,
): Promise<number> {
  await migrate({ pool, schema });
  const kit = await createCampaignKit({
    storage: postgresStorage({ pool, schema }),
    channels: [memoryChannel({ channel: "email", record: false })],
    audiences: rangedBenchAudience("all", n),
    administrators: [ADMIN],
    ...(workQueue ? { workQueue } : {}),
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "all", name: "All", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({
    actor: ADMIN,
    configuration: benchConfiguration,
  });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: "bench",
      type: "scheduled",
      category: "marketing",
      name: "Bench",
      audienceId: "all",
      actions: [
        { channel: "email", channelConfigurationId: "news", content: { subject: "Hi", text: "Hello." } },
      ],
    },
  });
  const children = await startWorkers();
  await kit.campaigns.activate({ actor: ADMIN, id: "bench" });
  const started = performance.now();
  await kit.scheduler.tick();
  const seconds = (performance.now() - started) / 1000;
  const { outcomes } = await kit.reports.campaign({ actor: ADMIN, id: "bench" });
  if (outcomes.sent !== n) throw new Error(`expected ${n} sent, got ${outcomes.sent}`);
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("exit", resolve))));
  await kit.close();
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  return n / seconds;
}

function workers(args: string[]): Promise<ChildProcess[]> {
  return Promise.all(
    [1, 2].map(
      () =>
        new Promise<ChildProcess>((resolve) => {
          const child = spawn(process.execPath, [...process.execArgv, CHILD, ...args], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          child.stdout?.on("data", (d: Buffer) => d.includes("ready") && resolve(child));
        }),
    ),
  );
}

/** Novu's pattern: one BullMQ job per recipient, each writing its own ledger row; 2 workers x 50. */
async function perRecipient(pool: pg.Pool, schema: string, n: number, connection: Redis): Promise<number> {
  await migrate({ pool, schema });
  const storage = postgresStorage({ pool, schema });
  const prefix = `ck-bench-${process.pid}`;
  const queue = new Queue("per-recipient", { connection, prefix });
  const started = performance.now();
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const process_ = async (job: { data: { r: string } }) => {
    await storage.record({
      records: [
        {
          messageId: `m:${job.data.r}`,
          campaignId: "bench",
          executionId: "x",
          recipientId: job.data.r,
          channel: "email",
          outcome: "sent",
          attempts: 1,
          at: new Date(),
        },
      ],
    });
    if (++done === n) finish();
  };
  const consumers = [1, 2].map(
    () => new Worker("per-recipient", process_, { connection, prefix, concurrency: 50 }),
  );
  for (let from = 0; from < n; from += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, n - from) }, (_, i) => ({
        name: "r",
        data: { r: `p${from + i}` },
        opts: { removeOnComplete: true },
      })),
    );
  }
  await finished;
  const rate = n / ((performance.now() - started) / 1000);
  await Promise.all(consumers.map((c) => c.close(true)));
  await queue.obliterate({ force: true });
  await queue.close();
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  return rate;
}

export async function run(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const redis = process.env.REDIS_URL;
  if (!url || !redis) {
    console.log("workers: set DATABASE_URL and REDIS_URL; skipped.");
    return;
  }
  const n = Number(process.env.BENCH_WORKERS_N ?? 100_000);
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  const tag = `ck_bench_w_${process.pid}`;
  const connection = new Redis(redis, { maxRetriesPerRequest: null });
  const bossSchema = `${tag}_boss`;
  const boss = new PgBoss({ connectionString: url, schema: bossSchema, max: 4 });
  boss.on("error", () => {});
  await boss.start();
  try {
    console.log(`${n.toLocaleString("en-US")} recipients, PostgreSQL ledger, no-op provider, chunks of 500`);
    const single = await sendOnce(pool, `${tag}_single`, n, undefined, async () => []);
    console.log(`single process:            ${Math.round(single).toLocaleString("en-US")} recipients/s`);
    const pgBoss = await sendOnce(
      pool,
      `${tag}_pgboss`,
      n,
      pgBossWorkQueue({ boss, pool, schema: bossSchema, name: "bench" }),
      () => workers(["pg-boss", `${tag}_pgboss`, bossSchema, "bench", String(n)]),
    );
    console.log(
      `2 workers, pg-boss:        ${Math.round(pgBoss).toLocaleString("en-US")} recipients/s (${(pgBoss / single).toFixed(2)}x single)`,
    );
    const prefix = `ck-bench-${process.pid}`;
    const bull = await sendOnce(
      pool,
      `${tag}_bullmq`,
      n,
      bullmqWorkQueue({ connection, prefix, name: "bench" }),
      () => workers(["bullmq", `${tag}_bullmq`, prefix, "bench", String(n)]),
    );
    console.log(
      `2 workers, BullMQ:         ${Math.round(bull).toLocaleString("en-US")} recipients/s (${(bull / single).toFixed(2)}x single)`,
    );
    const m = Math.min(n, 20_000);
    const job = await perRecipient(pool, `${tag}_per`, m, connection);
    console.log(
      `one job per recipient (${m.toLocaleString("en-US")}): ${Math.round(job).toLocaleString("en-US")} recipients/s; ` +
        `chunked workers are ${(pgBoss / job).toFixed(1)}x (pg-boss), ${(bull / job).toFixed(1)}x (BullMQ)`,
    );
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await pool.query(`DROP SCHEMA IF EXISTS "${bossSchema}" CASCADE`);
    await pool.end();
    const keys = await connection.keys(`ck-bench-${process.pid}:*`);
    if (keys.length > 0) await connection.del(...keys);
    connection.disconnect();
  }
}
