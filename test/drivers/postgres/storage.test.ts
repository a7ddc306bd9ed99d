import pg from "pg";
import { afterAll, describe } from "vitest";
import { migrate, postgresStorage } from "../../../src/drivers/postgres/index.js";
import { runStorageSuite } from "../../../src/testing/index.js";
import { databaseUrl } from "../../support/database.js";

const url = databaseUrl("the PostgreSQL storage suite");

(url === undefined ? describe.skip : describe)("PostgreSQL (DATABASE_URL)", () => {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  // Another process's view: its own pool on the same schema.
  const peerPool = new pg.Pool({ connectionString: url, max: 2 });
  afterAll(() => Promise.all([pool.end(), peerPool.end()]));
  // A fresh schema per test: each starts empty, and parallel test files never meet.
  let schema = "";
  let count = 0;
  runStorageSuite({
    name: "postgresStorage",
    create: async () => {
      schema = `ck_test_${process.pid}_${Date.now().toString(36)}_${count++}`;
      await migrate({ pool, schema });
      return postgresStorage({ pool, schema });
    },
    peer: () => postgresStorage({ pool: peerPool, schema }),
    cleanup: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  });
});
