import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import PgBoss from "pg-boss";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bullmqWorkQueue } from "../../src/drivers/bullmq.js";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { pgBossWorkQueue } from "../../src/drivers/pg-boss.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import { type CampaignKit, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { runWorker } from "../../src/kit/worker.js";
import type { Profile } from "../../src/model/profile.js";
import type { ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import { systemClock } from "../../src/ports/clock.js";
import type { Storage } from "../../src/ports/storage.js";
import type { WorkQueue } from "../../src/ports/work-queue.js";
import { databaseUrl } from "../support/database.js";
import { redisUrl } from "../support/redis.js";
import { ADMIN, emailConfiguration, liveReset, people, promotion } from "./fixtures.js";

/*
 * The kit's workers on the real thing: PostgreSQL storage (ledger claims, the shared rate budget) and each
 * distributed queue. Kits in one process stand for processes (each has its own storage object and queue
 * client); the kill -9 of real processes is in `npm run torture`.
 */

const url = databaseUrl("workers on PostgreSQL");
const redis = redisUrl("workers on BullMQ");
const bossSchema = `ck_wboss_${process.pid}`;

let pool: pg.Pool;
let boss: PgBoss;
let connection: Redis;
const schemas: string[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (!url || !redis) return;
  pool = new pg.Pool({ connectionString: url, max: 20 });
  boss = new PgBoss({ connectionString: url, schema: bossSchema, max: 6 });
  boss.on("error", () => {});
  await boss.start();
  connection = new Redis(redis, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});
afterAll(async () => {
  if (!url || !redis) return;
  await boss.stop({ graceful: false, wait: true });
  for (const schema of [...schemas, bossSchema])
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
  const keys = await connection.keys(`ck-w-${process.pid}:*`);
  if (keys.length > 0) await connection.del(...keys);
  await connection.quit();
});

const drivers: { name: string; queue: (name: string) => WorkQueue }[] = [
  {
    name: "pg-boss",
    queue: (name) => pgBossWorkQueue({ boss, pool, schema: bossSchema, name, leaseSeconds: 5, pollMs: 100 }),
  },
  { name: "bullmq", queue: (name) => bullmqWorkQueue({ connection, prefix: `ck-w-${process.pid}`, name }) },
];

interface World {
  scheduler: CampaignKit;
  received: OutboundMessage[];
  /** When each received message arrived (performance.now()). */
  times: number[];
  members: Profile[];
  kit(): Promise<CampaignKit>;
  worker(concurrency?: number): Promise<void>;
}

async function world(driver: (typeof drivers)[number], size: number, latencyMs = 0, rateLimit?: number) {
  const schema = `ck_w_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
  schemas.push(schema);
  await migrate({ pool, schema });
  const queueName = `w-${randomUUID().slice(0, 8)}`;
  const members = people(size);
  const audiences = memoryAudiences({
    audiences: { vip: members },
    profiles: members,
    distinctMembers: true,
  });
  const received: OutboundMessage[] = [];
  const times: number[] = [];
  const channel = (): ChannelAdapter => {
    const inner = memoryChannel({ channel: "email", latencyMs, capabilities: { batch: true } });
    return {
      ...inner,
      send: inner.send,
      sendBatch: async (messages, context) => {
        received.push(...messages);
        const now = performance.now();
        for (let i = 0; i < messages.length; i++) times.push(now);
        return inner.sendBatch!(messages, context);
      },
    };
  };
  const kit = async () => {
    // Each kit has its own storage object and queue client, as a process would.
    const storage: Storage = postgresStorage({ pool, schema });
    const queue = driver.queue(queueName);
    const made = await createCampaignKit({
      storage,
      clock: systemClock,
      administrators: [ADMIN],
      channels: [channel()],
      audiences,
      workQueue: queue,
      chunkSize: 200,
    });
    cleanup.push(async () => {
      await made.close();
      await queue.close();
    });
    return made;
  };
  const scheduler = await kit();
  await scheduler.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email", estimatedSize: size },
  });
  await scheduler.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  await scheduler.campaigns.create({
    actor: ADMIN,
    campaign: {
      ...promotion,
      id: "promo",
      ...(rateLimit ? { deliveryControls: { rateLimit, deliveryWindowHours: 12 } } : {}),
    },
  });
  const w: World = {
    scheduler,
    received,
    times,
    members,
    kit,
    async worker(concurrency = 2) {
      const worker = await runWorker({ kit: await kit(), concurrency, shutdownSignals: [] });
      cleanup.push(() => worker.close());
    },
  };
  return w;
}

describe.skipIf(!url || !redis).each(drivers)("workers on PostgreSQL with $name", (driver) => {
  it("3 workers send 3,000 members once each; another process reports it", async () => {
    const w = await world(driver, 3000);
    for (let i = 0; i < 3; i++) await w.worker(2);
    await w.scheduler.campaigns.activate({ actor: ADMIN, id: "promo" });
    await w.scheduler.scheduler.tick();
    const ids = new Map<string, Set<string>>();
    for (const m of w.received) ids.set(m.recipientId, (ids.get(m.recipientId) ?? new Set()).add(m.id));
    expect(ids.size).toBe(3000);
    expect(w.received).toHaveLength(3000);
    const report = await (await w.kit()).reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes).toEqual({ sent: 3000, failed: 0, excluded: 0 });
    expect(report.executionsByStatus).toEqual({ succeeded: 1 });
  }, 60_000);

  it("a password reset during a large marketing send reaches the adapter within a second", async () => {
    const w = await world(driver, 20_000, 20);
    await liveReset(w.scheduler);
    await w.worker(2);
    await w.worker(2);
    await w.scheduler.campaigns.activate({ actor: ADMIN, id: "promo" });
    const ticking = w.scheduler.scheduler.tick();
    while (w.received.length < 1000) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await w.scheduler.executions.triggerUnitary({
      actor: ADMIN,
      request: {
        requestId: "reset-1",
        campaignId: "reset",
        recipients: [
          {
            type: "aep",
            namespace: "email",
            userId: w.members[7]!.identities.email!,
            context: { link: "https://acme.example/reset" },
          },
        ],
      },
    });
    while (!w.received.some((m) => m.campaignId === "reset")) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const latency = performance.now() - started;
    console.log(
      `${driver.name}: password reset reached the adapter ${latency.toFixed(0)} ms after the trigger`,
    );
    expect(latency).toBeLessThan(1000);
    expect(w.received.filter((m) => m.campaignId === "promo").length).toBeLessThan(20_000);
    await w.scheduler.campaigns.stop({ actor: ADMIN, id: "promo" });
    await ticking;
  }, 60_000);
});

describe.skipIf(!url || !redis)("one rate budget per campaign shared by every worker", () => {
  const seconds = Number(process.env.RATE_TEST_SECONDS ?? 60);
  it(`holds within 5% of the limit over ${seconds} s across 2 and across 4 workers`, async () => {
    const limit = 150;
    const run = async (workers: number) => {
      const w = await world(drivers[0]!, limit * seconds * 2, 0, limit);
      for (let i = 0; i < workers; i++) await w.worker(2);
      return w;
    };
    const [two, four] = await Promise.all([run(2), run(4)]);
    for (const w of [two, four]) {
      const campaign = await w.scheduler.campaigns.get({ actor: ADMIN, id: "promo" });
      expect(campaign.deliveryControls.rateLimit).toBe(limit);
    }
    await Promise.all([two, four].map((w) => w.scheduler.campaigns.activate({ actor: ADMIN, id: "promo" })));
    const ticks = [two, four].map((w) => w.scheduler.scheduler.tick());
    // The first second holds the budget's burst (one second's worth): measure the steady state after it.
    await new Promise((resolve) => setTimeout(resolve, (seconds + 2) * 1000));
    for (const w of [two, four]) await w.scheduler.campaigns.stop({ actor: ADMIN, id: "promo" });
    await Promise.all(ticks);
    for (const [i, w] of [two, four].entries()) {
      const from = w.times[0]! + 1000;
      const count = w.times.filter((t) => t >= from && t < from + seconds * 1000).length;
      console.log(`rate budget, ${i === 0 ? 2 : 4} workers: ${count} messages in ${seconds} s at ${limit}/s`);
      expect(Math.abs(count - limit * seconds)).toBeLessThanOrEqual(limit * seconds * 0.05);
    }
  }, 300_000);
});
