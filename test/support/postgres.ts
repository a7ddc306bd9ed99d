import pg from "pg";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import type { Storage } from "../../src/ports/storage.js";

/**
 * One pool on `url` handing out fresh, migrated schemas, so each test starts empty and parallel test files never
 * meet; `close()` drops them all and ends the pool.
 */
export function postgresSchemas(url: string, prefix: string) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const schemas: string[] = [];
  return {
    pool,
    /** A fresh schema's name, migrated unless `migrated` is false. */
    async schema(migrated = true): Promise<string> {
      const schema = `${prefix}_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
      schemas.push(schema);
      if (migrated) await migrate({ pool, schema });
      return schema;
    },
    /** Storage on a fresh migrated schema. */
    async storage(): Promise<Storage> {
      return postgresStorage({ pool, schema: await this.schema() });
    },
    async close(): Promise<void> {
      for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}
