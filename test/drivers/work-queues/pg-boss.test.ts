import { randomUUID } from "node:crypto";
import pg from "pg";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, describe } from "vitest";
import { pgBossWorkQueue } from "../../../src/drivers/pg-boss.js";
import { runWorkQueueSuite } from "../../../src/testing/work-queue-suite.js";
import { databaseUrl } from "../../support/database.js";

const url = databaseUrl("the pg-boss work queue");
const schema = `ck_boss_${process.pid}`;

describe.skipIf(url === undefined)("pg-boss 10 (DATABASE_URL)", () => {
  let pool: pg.Pool;
  let boss: PgBoss;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url, max: 10 });
    boss = new PgBoss({ connectionString: url!, schema, max: 4 });
    boss.on("error", () => {});
    await boss.start();
  });
  afterAll(async () => {
    await boss.stop({ graceful: false, wait: true });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  runWorkQueueSuite({
    name: "pgBossWorkQueue",
    create: () =>
      pgBossWorkQueue({
        boss,
        pool,
        schema,
        name: `t-${randomUUID().slice(0, 8)}`,
        leaseSeconds: 3,
        pollMs: 50,
        retryDelayMs: 200,
      }),
    redeliveryMs: 6000,
  });
});
