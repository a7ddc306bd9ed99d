/**
 * The read cache across processes: a kit serving triggers from cached campaigns and roles sees another
 * process's change within milliseconds of its commit, and never serves a refused call as accepted for longer.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import { changesChannel } from "../../src/drivers/postgres/watch.js";
import { isCampaignKitError } from "../../src/errors.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { databaseUrl } from "../support/database.js";
import { ADMIN, ana, liveReset } from "./fixtures.js";

const url = databaseUrl("the read cache across processes");
const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./support/change-elsewhere.ts", import.meta.url));

/** How long another process's change may take to reach this one (a NOTIFY, typically a few ms). */
const STALE_AT_MOST_MS = 1000;

(url === undefined ? describe.skip : describe)("the read cache, with another process changing things", () => {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const schema = `ck_cache_${process.pid}_${Date.now().toString(36)}`;
  beforeAll(async () => {
    await migrate({ pool, schema });
    const setup = await createCampaignKit({
      storage: postgresStorage({ pool, schema }),
      channels: [memoryChannel({ channel: "email" })],
      administrators: [ADMIN],
    });
    await liveReset(setup);
    await setup.roles.assign({ actor: ADMIN, userId: "ops", roleId: "campaign-approver" });
    await setup.close();
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** Runs the change in another Node process and returns when it committed (ms since the epoch). */
  async function elsewhere(action: string): Promise<number> {
    const { stdout } = await run(process.execPath, ["--import", "tsx", CHILD, schema, action], {
      env: { ...process.env, DATABASE_URL: url },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}").committedAt;
  }

  it("sees a revoked role, a restored one and a stopped campaign within a second of their commit", async () => {
    // Counts this process's reads of documents: cached reads make none.
    let documentReads = 0;
    const counted = new Proxy(pool, {
      get(target, property, receiver) {
        if (property !== "query") return Reflect.get(target, property, receiver);
        return (text: unknown, ...rest: unknown[]) => {
          if (typeof text === "string" && /^\s*SELECT id, version, keys, value FROM/.test(text))
            documentReads++;
          return (target.query as (...args: unknown[]) => unknown).call(target, text, ...rest);
        };
      },
    });
    const kit = await createCampaignKit({
      storage: postgresStorage({ pool: counted, schema }),
      channels: [memoryChannel({ channel: "email" })],
      audiences: memoryAudiences({ profiles: [ana] }),
      administrators: [ADMIN],
    });
    try {
      let n = 0;
      const trigger = () =>
        kit.executions.triggerUnitary({
          actor: "ops",
          request: {
            requestId: `r${n++}`,
            campaignId: "reset",
            recipients: [
              { type: "aep", namespace: "email", userId: "ana@example.com", context: { link: "x" } },
            ],
          },
        });
      await trigger();
      // The warm-up covers the send too (it runs after the 202): its suppression check reads once.
      await kit.idle();
      const readsBefore = documentReads;
      for (let i = 0; i < 20; i++) await trigger();
      expect(documentReads - readsBefore).toBe(0);

      /** Triggers until one is refused with `code`; how long after `since` that happened. */
      const refusedAfter = async (code: string, since: number) => {
        for (;;) {
          try {
            await trigger();
          } catch (error) {
            if (isCampaignKitError(error) && error.code === code) return Date.now() - since;
            throw error;
          }
          if (Date.now() - since > 10 * STALE_AT_MOST_MS) throw new Error(`never refused with ${code}`);
        }
      };
      const acceptedAfter = async (since: number) => {
        for (;;) {
          try {
            await trigger();
            return Date.now() - since;
          } catch (error) {
            if (!isCampaignKitError(error, "FORBIDDEN")) throw error;
          }
          if (Date.now() - since > 10 * STALE_AT_MOST_MS) throw new Error("never accepted again");
        }
      };

      expect(await refusedAfter("FORBIDDEN", await elsewhere("revoke"))).toBeLessThan(STALE_AT_MOST_MS);
      expect(await acceptedAfter(await elsewhere("assign"))).toBeLessThan(STALE_AT_MOST_MS);
      expect(await refusedAfter("CAMPAIGN_NOT_LIVE", await elsewhere("stop"))).toBeLessThan(STALE_AT_MOST_MS);
      await kit.idle();
    } finally {
      await kit.close();
    }
  }, 120_000);

  it("reads through while its listening connection is down, and caches again once it listens", async () => {
    const kit = await createCampaignKit({
      storage: postgresStorage({ pool, schema }),
      administrators: [ADMIN],
    });
    try {
      const listening = async () =>
        (
          await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query = $1", [
            `LISTEN "${changesChannel(schema)}"`,
          ])
        ).rows.map((row) => row.pid);
      const list = () => kit.executions.list({ actor: "ops" });
      await list(); // caches ops's roles
      const before = await listening();
      expect(before).toHaveLength(1);
      await pool.query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [before]);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the lost connection is noticed
      // A change made while this process isn't listening (its own pool: another process, to PostgreSQL),
      // before it listens again (a second from now): it must be seen all the same.
      const peerPool = new pg.Pool({ connectionString: url, max: 1 });
      const peer = await createCampaignKit({
        storage: postgresStorage({ pool: peerPool, schema }),
        readCache: false,
      });
      await peer.roles.revoke({ actor: ADMIN, userId: "ops", roleId: "campaign-approver" });
      await peer.close();
      await peerPool.end();
      await expect(list()).rejects.toMatchObject({ code: "FORBIDDEN" });
      // It listens again on its own.
      const deadline = Date.now() + 10_000;
      while ((await listening()).filter((pid) => !before.includes(pid)).length === 0) {
        if (Date.now() > deadline) throw new Error("never listened again");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await kit.close();
    }
  }, 120_000);
});
