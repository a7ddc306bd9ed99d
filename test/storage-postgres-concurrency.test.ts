import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate, postgresStorage, SCHEMA_VERSION } from "../src/drivers/postgres/index.js";
import { isCampaignKitError } from "../src/errors.js";
import { execution, fullCampaign } from "../src/testing/storage-fixtures.js";
import { databaseUrl } from "./support/database.js";

const url = databaseUrl("the PostgreSQL concurrency tests");

(url === undefined ? describe.skip : describe)("postgresStorage under concurrency", () => {
  const pool = new pg.Pool({ connectionString: url, max: 25 });
  const schemas: string[] = [];
  const freshSchema = () => {
    const schema = `ck_conc_${process.pid}_${Date.now().toString(36)}_${schemas.length}`;
    schemas.push(schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("50 writers each read-update-retry one campaign: every change lands once, one winner per version", async () => {
    const schema = freshSchema();
    await migrate({ pool, schema });
    const storage = postgresStorage({ pool, schema });
    await storage.createCampaign({ campaign: fullCampaign("c1", { tags: [] }) });
    const winners = new Map<number, string[]>();
    let conflicts = 0;

    const writer = async (name: string) => {
      for (;;) {
        const current = await storage.getCampaign({ id: "c1" });
        if (current === undefined) throw new Error("campaign vanished");
        const version = current.version + 1;
        try {
          await storage.updateCampaign({
            campaign: { ...current, version, tags: [...current.tags, name] },
            expectedVersion: current.version,
          });
          winners.set(version, [...(winners.get(version) ?? []), name]);
          return;
        } catch (error) {
          if (!isCampaignKitError(error, "CONFLICT")) throw error;
          conflicts++;
        }
      }
    };
    const names = Array.from({ length: 50 }, (_, i) => `w${i}`);
    await Promise.all(names.map(writer));

    const final = await storage.getCampaign({ id: "c1" });
    expect(final?.version).toBe(51);
    expect([...(final?.tags ?? [])].sort()).toEqual([...names].sort());
    expect(new Set(final?.tags).size).toBe(50);
    expect([...winners.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    for (const [version, won] of winners) expect(won, `winners of version ${version}`).toHaveLength(1);
    // The winner of each version appended its name at that position: nothing was overwritten.
    for (const [version, [name]] of winners) expect(final?.tags[version - 2]).toBe(name);
    expect(conflicts).toBeGreaterThan(0);
  });

  it("migrate is idempotent, run twice and run concurrently", async () => {
    const schema = freshSchema();
    const concurrent = await Promise.all(Array.from({ length: 6 }, () => migrate({ pool, schema })));
    const applied = concurrent.flatMap((result) => result.applied).sort((a, b) => a - b);
    expect(applied).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    expect(await migrate({ pool, schema })).toEqual({ applied: [] });
    const rows = await pool.query<{ version: number }>(
      `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
    );
    expect(rows.rows.map((row) => row.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
    const storage = postgresStorage({ pool, schema });
    await storage.createCampaign({ campaign: fullCampaign("c1") });
    expect(await storage.getCampaign({ id: "c1" })).toStrictEqual(fullCampaign("c1"));
  });

  it("upgrades a version-1 schema in place: executions written before read back as they were", async () => {
    const schema = freshSchema();
    await migrate({ pool, schema });
    // Back to version 1, as a database deployed before migration 2 is.
    await pool.query(
      `ALTER TABLE "${schema}".executions DROP COLUMN recipients, DROP COLUMN resume_at,
         DROP COLUMN audience_size`,
    );
    await pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version >= 2`);
    const old = execution("x1", "c1", "req-1", true);
    await pool.query(
      `INSERT INTO "${schema}".executions (id, campaign_id, request_id, kind, status, targeted_profile_count,
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [old.id, old.campaignId, old.requestId, old.kind, old.status, old.targetedProfileCount, old.createdAt],
    );
    expect(await migrate({ pool, schema })).toEqual({
      applied: Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 2),
    });
    const storage = postgresStorage({ pool, schema });
    expect(await storage.getExecution({ id: "x1" })).toStrictEqual(old);
    const resumed = { ...execution("x1", "c1", "req-1"), status: "in-progress" as const };
    await storage.updateExecution({ execution: resumed });
    expect(await storage.getExecution({ id: "x1" })).toStrictEqual(resumed);
  });

  it("names the fix when the tables are missing", async () => {
    const storage = postgresStorage({ pool, schema: `ck_missing_${process.pid}` });
    const error = await storage.getCampaign({ id: "c1" }).catch((e: unknown) => e);
    expect(isCampaignKitError(error, "STORAGE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/run `migrate/);
    expect((error as Error).cause).toBeDefined();
  });
});
