/**
 * A campaign sent by 3 worker processes: this process is the scheduler (it plans the send into chunks on a
 * pg-boss queue and reports progress), and it starts 3 copies of itself as workers. Storage, ledger and rate
 * budget are PostgreSQL; the queue is pg-boss on the same database. Needs `DATABASE_URL`; without it the
 * example says so and exits.
 *
 * Run: DATABASE_URL=postgres://... npx tsx examples/scaling-out.ts
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import PgBoss from "pg-boss";
import { pgBossWorkQueue } from "../src/drivers/pg-boss.js";
import { migrate, postgresStorage } from "../src/drivers/postgres/index.js";
import { createCampaignKit, memoryAudiences, memoryChannel, type Profile, runWorker } from "../src/index.js";

const url = process.env.DATABASE_URL;
const ADMIN = "root";
const SIZE = 6000;
const [, , role = "scheduler", schemaArg] = process.argv;
if (!url) {
  console.log("scaling-out: set DATABASE_URL to run 3 workers on PostgreSQL; skipped.");
  process.exit(0);
}
const schema = schemaArg ?? `ck_example_scaling_${process.pid}`;

// Every process builds the same audience: ids p0..p5999, read by ranges.
const people = function* (): Generator<Profile> {
  for (let i = 0; i < SIZE; i++) {
    yield {
      id: `p${i}`,
      identities: { email: `reader${i}@example.com` },
      addresses: {},
      attributes: { firstName: `Reader${i}` },
      consent: { email: true },
      suppressedChannels: [],
    };
  }
};

const pool = new pg.Pool({ connectionString: url, max: 6 });
const boss = new PgBoss({ connectionString: url, schema: `${schema}_boss`, max: 3 });
boss.on("error", () => {});
if (role === "scheduler") await migrate({ pool, schema });
await boss.start();
const workQueue = pgBossWorkQueue({ boss, pool, schema: `${schema}_boss`, name: "newsletter" });
const kit = await createCampaignKit({
  storage: postgresStorage({ pool, schema }),
  channels: [memoryChannel({ channel: "email", record: false, latencyMs: 5 })],
  audiences: memoryAudiences({ audiences: { readers: people } }),
  administrators: [ADMIN],
  workQueue,
  chunkSize: 250,
});

async function shutdown() {
  await kit.close();
  await workQueue.close();
  await boss.stop({ graceful: false, wait: true });
}

if (role === "worker") {
  // SIGTERM closes the worker gracefully: what it read is sent, the rest handed back.
  const worker = await runWorker({ kit, concurrency: 2 });
  process.stdout.write("ready\n");
  await worker.closed;
  const { done, redelivered } = worker.health();
  console.log(`worker ${process.pid}: ${done} chunks done, ${redelivered} redelivered`);
  await shutdown();
  await pool.end();
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const workers = [1, 2, 3].map(() =>
  spawn(process.execPath, [...process.execArgv, self, "worker", schema], {
    stdio: ["ignore", "pipe", "inherit"],
  }),
);
await Promise.all(
  workers.map(
    (child) =>
      new Promise<void>((resolve) =>
        child.stdout.on("data", (d: Buffer) => d.includes("ready") && resolve()),
      ),
  ),
);
for (const child of workers) child.stdout.pipe(process.stdout);

await kit.audiences.register({
  actor: ADMIN,
  audience: { id: "readers", name: "Readers", status: "realized", identityNamespace: "email" },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "news",
    name: "Newsletter",
    channel: "email",
    purpose: "marketing",
    status: "active",
    settings: { fromName: "Acme", fromAddress: "news@mail.acme.example", subdomain: "mail.acme.example" },
  },
});
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "weekly",
    type: "scheduled",
    category: "marketing",
    name: "Weekly",
    audienceId: "readers",
    deliveryControls: { rateLimit: 2000, deliveryWindowHours: 12 },
    actions: [
      {
        channel: "email",
        channelConfigurationId: "news",
        content: { subject: "Hi {{profile.firstName}}", text: "News." },
      },
    ],
  },
});
await kit.campaigns.activate({ actor: ADMIN, id: "weekly" });
const started = performance.now();
const progress = setInterval(async () => {
  const { outcomes } = await kit.reports.campaign({ actor: ADMIN, id: "weekly" });
  console.log(`progress: ${outcomes.sent} of ${SIZE} sent`);
}, 500);
await kit.scheduler.tick(); // plans the chunks, then waits for the workers to send them all
clearInterval(progress);
const report = await kit.reports.campaign({ actor: ADMIN, id: "weekly" });
console.log(
  `3 workers sent ${report.outcomes.sent} of ${SIZE} (failed ${report.outcomes.failed}) in ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s; execution ${JSON.stringify(report.executionsByStatus)}`,
);
for (const child of workers) child.kill("SIGTERM");
await Promise.all(workers.map((child) => new Promise((resolve) => child.once("exit", resolve))));
await shutdown();
await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
await pool.query(`DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`);
await pool.end();
if (report.outcomes.sent !== SIZE) throw new Error(`expected ${SIZE} sent, got ${report.outcomes.sent}`);
