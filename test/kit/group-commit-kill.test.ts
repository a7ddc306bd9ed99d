/**
 * kill -9 in the middle of grouped commits: every trigger that was answered is kept (its execution and its
 * audit entry), and once another process resumes, each is sent, a message going twice only if it was in
 * flight at the kill, and then with the same idempotency key.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { providerLogChannel, readProviderLog } from "../../bench/torture/provider-log.js";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { messageId } from "../../src/model/message-id.js";
import { executionIdFor } from "../../src/repositories/index.js";
import { databaseUrl } from "../support/database.js";
import { ADMIN, liveReset, people } from "./fixtures.js";

const url = databaseUrl("the kill -9 during group commit test");
const CHILD = fileURLToPath(new URL("./support/trigger-until-killed.ts", import.meta.url));
/** Acknowledged triggers to wait for before the kill: enough that many commits held several triggers. */
const ACKS_BEFORE_KILL = 200;

(url === undefined ? describe.skip : describe)("kill -9 while triggers are committed in groups", () => {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const schema = `ck_gc_kill_${process.pid}_${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), "ck-gc-kill-"));
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no acknowledged trigger and sends nothing twice beyond what was in flight", async () => {
    await migrate({ pool, schema });
    const setup = await createCampaignKit({
      storage: postgresStorage({ pool, schema }),
      channels: [memoryChannel({ channel: "email" })],
      administrators: [ADMIN],
    });
    await liveReset(setup);
    await setup.close();

    const log = join(dir, "provider.log");
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, schema, log], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: string[] = [];
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) =>
        signal === "SIGKILL" ? resolve() : reject(new Error(`child exited ${code}`)),
      );
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const line of lines) if (line.startsWith("ack ")) acked.push(line.slice(4));
        if (acked.length >= ACKS_BEFORE_KILL && child.exitCode === null) child.kill("SIGKILL");
      });
    });

    // Every answered trigger is durable: its execution and the audit entry of the call.
    const ids = acked.map((requestId) => executionIdFor("reset", requestId));
    const stored = await pool.query<{ id: string }>(
      `SELECT id FROM "${schema}".documents WHERE collection = 'executions' AND id = ANY($1)`,
      [ids],
    );
    expect(stored.rows.length).toBe(acked.length);
    const audited = await pool.query<{ object_id: string }>(
      `SELECT value->>'objectId' AS object_id FROM "${schema}".documents
       WHERE collection = 'audit' AND value->>'action' = 'execution.trigger-unitary' AND value->>'outcome' = 'allowed'`,
    );
    const auditedIds = new Set(audited.rows.map((row) => row.object_id));
    expect(acked.filter((requestId) => !auditedIds.has(requestId))).toEqual([]);

    // Another process resumes what the dead one left in flight, once its claims expire.
    const provider = await providerLogChannel(log);
    const survivor = await createCampaignKit({
      storage: postgresStorage({ pool, schema }),
      channels: [provider],
      audiences: memoryAudiences({ profiles: people(100) }),
      claimMs: 1000,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      await survivor.scheduler.tick();
      await survivor.idle();
      const unfinished = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".documents
         WHERE collection = 'executions' AND value->>'status' NOT IN ('succeeded', 'failed', 'cancelled')`,
      );
      if (unfinished.rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error(`${unfinished.rows[0].n} executions never finished`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await survivor.close();
    await provider.close();

    const deliveries = readProviderLog(log);
    const copies = new Map<string, number>();
    for (const d of deliveries) copies.set(d.messageId, (copies.get(d.messageId) ?? 0) + 1);
    // Each acknowledged trigger's one message reached the provider: c<caller>-<i> was sent to p<caller + i>.
    const unsent = acked.filter((requestId) => {
      const [caller, i] = requestId.slice(1).split("-").map(Number) as [number, number];
      const recipientId = `p${(caller + i) % 100}`;
      return !copies.has(
        messageId({
          campaignId: "reset",
          executionId: executionIdFor("reset", requestId),
          recipientId,
          channel: "email",
        }),
      );
    });
    expect(unsent).toEqual([]);
    const twice = [...copies.values()].filter((n) => n > 1).length;
    // At most what 64 callers had in flight when the process died: one message each.
    expect(twice).toBeLessThanOrEqual(64);
    expect(deliveries.every((d) => d.idempotencyKey === d.messageId)).toBe(true);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".delivery_ledger`)).rows[0].n).toBe(
      copies.size,
    );
  }, 180_000);
});
