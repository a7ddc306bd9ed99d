import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullmqWorkQueue } from "../../../src/drivers/bullmq.js";
import { runWorkQueueSuite } from "../../../src/testing/work-queue-suite.js";
import { redisUrl } from "../../support/redis.js";

const url = redisUrl("the BullMQ work queue");
const prefix = `ck-test-${process.pid}`;

describe.skipIf(url === undefined)("BullMQ (REDIS_URL)", () => {
  let connection: Redis;
  beforeAll(() => {
    connection = new Redis(url!, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    const keys = await connection.keys(`${prefix}:*`);
    if (keys.length > 0) await connection.del(...keys);
    await connection.quit();
  });

  it("refuses a connection that retries requests, as BullMQ's workers need", () => {
    const retrying = new Redis(url!, { lazyConnect: true });
    expect(() => bullmqWorkQueue({ connection: retrying })).toThrow(/maxRetriesPerRequest: null/);
    retrying.disconnect();
  });

  runWorkQueueSuite({
    name: "bullmqWorkQueue",
    create: () =>
      bullmqWorkQueue({
        connection,
        prefix,
        name: `t-${randomUUID().slice(0, 8)}`,
        leaseMs: 2000,
        retryDelayMs: 200,
      }),
    redeliveryMs: 5000,
  });
});
