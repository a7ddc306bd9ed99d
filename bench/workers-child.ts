/**
 * A worker process of `npm run bench -- workers`: a kit on the bench's PostgreSQL schema with a no-op email
 * channel, serving chunks from the bench's queue until SIGTERM.
 *
 * Arguments: driver (`pg-boss` or `bullmq`), schema, queue schema (pg-boss) or key prefix (BullMQ), queue
 * name, recipient count. `DATABASE_URL` and, for BullMQ, `REDIS_URL` name the services.
 */
import { Redis } from "ioredis";
import pg from "pg";
import PgBoss from "pg-boss";
import { bullmqWorkQueue } from "../src/drivers/bullmq.js";
import { pgBossWorkQueue } from "../src/drivers/pg-boss.js";
import { postgresStorage } from "../src/drivers/postgres/index.js";
import { createCampaignKit, memoryChannel, runWorker } from "../src/index.js";
import type { WorkQueue } from "../src/ports/work-queue.js";
import { rangedBenchAudience } from "./fixtures.js";

const [driver, schema, queueSpace, queueName, count] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 12 });
let close = async () => {};
let workQueue: WorkQueue;
if (driver === "pg-boss") {
  const boss = new PgBoss({
    connectionString: process.env.DATABASE_URL!,
    schema: queueSpace,
    max: 4,
    supervise: false,
  });
  boss.on("error", () => {});
  await boss.start();
  workQueue = pgBossWorkQueue({ boss, pool, schema: queueSpace, name: queueName });
  close = () => boss.stop({ graceful: false, wait: true });
} else {
  const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  workQueue = bullmqWorkQueue({ connection, prefix: queueSpace, name: queueName });
  close = async () => void connection.disconnect();
}
const kit = await createCampaignKit({
  storage: postgresStorage({ pool, schema }),
  channels: [memoryChannel({ channel: "email", record: false })],
  audiences: rangedBenchAudience("all", Number(count)),
  workQueue,
});
const worker = await runWorker({ kit, concurrency: 4 });
process.stdout.write("ready\n");
await worker.closed;
await kit.close();
await workQueue.close();
await close();
await pool.end();
process.exit(0);
