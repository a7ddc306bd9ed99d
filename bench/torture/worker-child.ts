/**
 * A worker process of the kill-a-worker scenario: a kit on the scenario's PostgreSQL schema and pg-boss queue
 * that sends chunks through the provider log until SIGTERM (or SIGKILL, which is the point).
 *
 * Arguments: schema, pg-boss schema, queue name, recipient count, provider log path, `idempotent` or not.
 */
import pg from "pg";
import PgBoss from "pg-boss";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { pgBossWorkQueue } from "../../src/drivers/pg-boss.js";
import { postgresStorage } from "../../src/drivers/postgres/index.js";
import { runWorker } from "../../src/kit/worker.js";
import { providerLogChannel } from "./provider-log.js";
import { AUDIENCE, members, readyKit } from "./support.js";

const [schema, bossSchema, queueName, count, logPath, idempotent] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const url = process.env.DATABASE_URL!;
const pool = new pg.Pool({ connectionString: url, max: 8 });
const boss = new PgBoss({ connectionString: url, schema: bossSchema, max: 4, supervise: false });
boss.on("error", () => {});
await boss.start();
const provider = await providerLogChannel(logPath, idempotent === "idempotent");
const workQueue = pgBossWorkQueue({
  boss,
  pool,
  schema: bossSchema,
  name: queueName,
  leaseSeconds: 3,
  pollMs: 100,
});
const kit = await readyKit(
  {
    storage: postgresStorage({ pool, schema }),
    channels: [provider],
    audiences: memoryAudiences({ audiences: { [AUDIENCE]: () => members(Number(count)) } }),
    workQueue,
  },
  false,
);
const worker = await runWorker({ kit, concurrency: 2 });
process.stdout.write("ready\n");
await worker.closed;
await kit.close();
await workQueue.close();
await boss.stop({ graceful: false, wait: true });
await provider.close();
await pool.end();
process.exit(0);
