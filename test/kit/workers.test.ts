import { afterEach, describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { memoryWorkQueue } from "../../src/drivers/memory/work-queue.js";
import { type CampaignKit, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { runWorker, type Worker } from "../../src/kit/worker.js";
import { messageId } from "../../src/model/message-id.js";
import type { Profile } from "../../src/model/profile.js";
import type { ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import { systemClock } from "../../src/ports/clock.js";
import type { Storage } from "../../src/ports/storage.js";
import type { WorkQueue, WorkServer } from "../../src/ports/work-queue.js";
import { ADMIN, emailConfiguration, liveReset, people, promotion } from "./fixtures.js";

/*
 * Several kits on one storage, one queue and one audience source stand for several processes: a scheduler
 * that plans executions and workers that send their chunks. The distributed drivers run the same scenarios
 * against PostgreSQL and Redis in test/drivers/work-queues.
 */

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface World {
  storage: Storage;
  queue: WorkQueue;
  scheduler: CampaignKit;
  members: Profile[];
  /** Every message any worker's adapter received, in order. */
  received: OutboundMessage[];
  kit(options?: { channel?: ChannelAdapter }): Promise<CampaignKit>;
  worker(kit: CampaignKit, concurrency?: number): Promise<Worker>;
}

async function world(size: number, channel: (received: OutboundMessage[]) => ChannelAdapter): Promise<World> {
  const storage = memoryStorage();
  const queue = memoryWorkQueue({ leaseMs: 300, retryDelayMs: 50 });
  const members = people(size);
  const audiences = memoryAudiences({
    audiences: { vip: members },
    profiles: members,
    distinctMembers: true,
  });
  const received: OutboundMessage[] = [];
  const kit = async (options: { channel?: ChannelAdapter } = {}) => {
    const made = await createCampaignKit({
      storage,
      clock: systemClock,
      administrators: [ADMIN],
      channels: [options.channel ?? channel(received)],
      audiences,
      workQueue: queue,
      chunkSize: 100,
    });
    cleanup.push(() => made.close());
    return made;
  };
  const scheduler = await kit();
  await scheduler.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email", estimatedSize: size },
  });
  await scheduler.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  return {
    storage,
    queue,
    scheduler,
    members,
    received,
    kit,
    async worker(on, concurrency = 2) {
      const worker = await runWorker({ kit: on, concurrency, shutdownSignals: [] });
      cleanup.push(() => worker.close());
      return worker;
    },
  };
}

/** A memory email channel that also tells the world what it received. */
const recording =
  (options: Parameters<typeof memoryChannel>[0] = {}) =>
  (received: OutboundMessage[]): ChannelAdapter => {
    const inner = memoryChannel({ channel: "email", ...options });
    return {
      ...inner,
      send: async (message, context) => {
        received.push(message);
        return inner.send(message, context);
      },
      ...(inner.sendBatch
        ? {
            sendBatch: async (
              messages: readonly OutboundMessage[],
              context: Parameters<NonNullable<ChannelAdapter["sendBatch"]>>[1],
            ) => {
              received.push(...messages);
              return inner.sendBatch!(messages, context);
            },
          }
        : {}),
    };
  };

async function launch(w: World, id = "promo"): Promise<void> {
  await w.scheduler.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id } });
  await w.scheduler.campaigns.activate({ actor: ADMIN, id });
}

const perRecipient = (received: OutboundMessage[]) => {
  const ids = new Map<string, Set<string>>();
  const copies = new Map<string, number>();
  for (const m of received) {
    ids.set(m.recipientId, (ids.get(m.recipientId) ?? new Set()).add(m.id));
    copies.set(m.id, (copies.get(m.id) ?? 0) + 1);
  }
  return { ids, copies };
};

describe("a campaign sent by many workers (memory queue)", () => {
  it("3 workers send a 2,000-member audience once each; any process reports the progress", async () => {
    const w = await world(2000, recording());
    const workers = await Promise.all([1, 2, 3].map(async () => w.worker(await w.kit(), 2)));
    await launch(w);
    const tick = await w.scheduler.scheduler.tick();
    expect(tick.launched).toHaveLength(1);
    const { ids, copies } = perRecipient(w.received);
    expect(ids.size).toBe(2000);
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    // Every worker took part.
    expect(workers.every((worker) => worker.health().done > 0)).toBe(true);
    const other = await w.kit();
    const report = await other.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes).toEqual({ sent: 2000, failed: 0, excluded: 0 });
    expect(report.targeted).toBe(2000);
    expect(report.executionsByStatus).toEqual({ succeeded: 1 });
  });

  it("a chunk abandoned by a dead worker is finished by another, nothing sent twice", async () => {
    let calls = 0;
    // The first worker's adapter kills its worker (abandon: as kill -9) during its third provider call.
    const w = await world(600, recording({ capabilities: { batch: true, idempotencyKeys: true } }));
    const deadly = recording({ capabilities: { batch: true, idempotencyKeys: true } })(w.received);
    const dying: ChannelAdapter = {
      ...deadly,
      sendBatch: async (messages, context) => {
        if (++calls === 3) {
          // Part of the batch reaches the provider, then the process "dies".
          await deadly.sendBatch!(messages.slice(0, 10), context);
          await abandon();
          return new Promise(() => {});
        }
        return deadly.sendBatch!(messages, context);
      },
    };
    const queue = w.queue as WorkQueue;
    let server: WorkServer | undefined;
    const abandon = async () => server?.close({ abandon: true });
    const dyingKit = await w.kit({ channel: dying });
    // Serve the dying kit through the queue directly, so the test can abandon exactly its server.
    const realServe = queue.serve.bind(queue);
    queue.serve = async (params) => {
      server = await realServe(params);
      return server;
    };
    await w.worker(dyingKit, 1);
    queue.serve = realServe;
    await launch(w);
    const ticking = w.scheduler.scheduler.tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await w.worker(await w.kit(), 2);
    await ticking;
    const { ids, copies } = perRecipient(w.received);
    expect(ids.size).toBe(600);
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    // The 10 delivered before the crash were in doubt: resent with their key, which the provider dedupes.
    const twice = [...copies.values()].filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(10);
    const report = await w.scheduler.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes.sent).toBe(600);
  });

  it("messages in doubt go to a non-idempotent adapter never again: failed, reason in-doubt", async () => {
    const w = await world(300, recording({ capabilities: { idempotencyKeys: false } }));
    await launch(w);
    const execution = (await w.scheduler.executions.list({ actor: ADMIN, filter: { campaignId: "promo" } }))
      .items[0];
    // Without a tick there is no execution yet: claim three messages as a worker that then died would.
    expect(execution).toBeUndefined();
    const ticking = w.scheduler.scheduler.tick();
    let executionId: string | undefined;
    while (!executionId) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      executionId = (await w.scheduler.executions.list({ actor: ADMIN, filter: { campaignId: "promo" } }))
        .items[0]?.id;
    }
    const doubtful = ["p5", "p6", "p7"];
    await w.storage.claim!({
      claims: doubtful.map((recipientId) => ({
        messageId: messageId({
          campaignId: "promo",
          executionId: executionId!,
          recipientId,
          channel: "email",
        }),
        campaignId: "promo",
        executionId: executionId!,
        recipientId,
        channel: "email",
      })),
      owner: "dead-worker",
      at: new Date(),
    });
    const worker = await w.worker(await w.kit(), 2);
    await ticking;
    const report = await w.scheduler.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes).toEqual({ sent: 297, failed: 3, excluded: 0 });
    expect(worker.health().inDoubt).toBe(3);
    expect(w.received.some((m) => doubtful.includes(m.recipientId))).toBe(false);
  });

  it("a password reset during a large marketing send is delivered within a second", async () => {
    const w = await world(20_000, recording({ latencyMs: 20 }));
    await liveReset(w.scheduler);
    await w.worker(await w.kit(), 2);
    await launch(w);
    const ticking = w.scheduler.scheduler.tick();
    while (w.received.length < 500) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    const accepted = await w.scheduler.executions.triggerUnitary({
      actor: ADMIN,
      request: {
        requestId: "reset-1",
        campaignId: "reset",
        recipients: [
          {
            type: "aep",
            namespace: "email",
            userId: w.members[19_999]!.identities.email!,
            context: { link: "https://acme.example/reset" },
          },
        ],
      },
    });
    while (!w.received.some((m) => m.campaignId === "reset")) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const latency = performance.now() - started;
    expect(latency).toBeLessThan(1000);
    expect(w.received.filter((m) => m.campaignId === "promo").length).toBeLessThan(20_000);
    await w.scheduler.executions.wait({ id: accepted.executionId });
    await w.scheduler.campaigns.stop({ actor: ADMIN, id: "promo" });
    await ticking;
  }, 30_000);

  it("stopping the campaign stops every worker's sends within a second", async () => {
    const w = await world(5000, recording({ latencyMs: 5 }));
    await w.worker(await w.kit(), 2);
    await w.worker(await w.kit(), 2);
    await launch(w);
    const ticking = w.scheduler.scheduler.tick();
    while (w.received.length < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    await w.scheduler.campaigns.stop({ actor: ADMIN, id: "promo" });
    let seen = w.received.length;
    const stoppedTime = performance.now();
    let last = stoppedTime;
    const watch = setInterval(() => {
      if (w.received.length > seen) last = performance.now();
      seen = w.received.length;
    }, 5);
    await ticking;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    clearInterval(watch);
    // What was in flight when the workers noticed (their check runs every 250 ms) finishes; then nothing.
    expect(last - stoppedTime).toBeLessThan(1000);
    expect(w.received.length).toBeLessThan(5000);
    const report = await w.scheduler.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.executionsByStatus).toEqual({ cancelled: 1 });
  }, 30_000);
});
