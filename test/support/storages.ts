import pg from "pg";
import { afterAll } from "vitest";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import type { Storage } from "../../src/ports/storage.js";
import { databaseUrl } from "./database.js";

/** A storage a behaviour test runs on: each `create()` gives a fresh, empty one. */
export interface StorageTarget {
  /** `memory` or `postgres`, for test names. */
  name: string;
  create(): Promise<Storage>;
}

/**
 * Memory storage, plus PostgreSQL when `DATABASE_URL` is set (each `create()` migrates a fresh schema, dropped
 * after the file's tests): for `describe.each` over the storages users run on.
 */
export function storageTargets(what: string): StorageTarget[] {
  const targets: StorageTarget[] = [{ name: "memory", create: async () => memoryStorage() }];
  const url = databaseUrl(`${what} on PostgreSQL`);
  if (url === undefined) return targets;
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  targets.push({
    name: "postgres",
    async create() {
      const schema = `ck_t_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
      schemas.push(schema);
      await migrate({ pool, schema });
      return postgresStorage({ pool, schema });
    },
  });
  return targets;
}
