import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/index.js";
import { SCHEMA_VERSION } from "../../src/drivers/postgres/migrations.js";
import { databaseUrl } from "../support/database.js";
import { cli } from "./support.js";

const url = databaseUrl("the CLI on PostgreSQL");
const schema = `cli12_${process.pid}_${Date.now().toString(36)}`;
const config = ["--config", "postgres.config.mjs"];
const env = { CLI_TEST_SCHEMA: schema, ...(url ? { DATABASE_URL: url } : {}) };
const run = (args: readonly string[], input?: string) =>
  cli([...args, ...config], { env, ...(input === undefined ? {} : { input }) });

interface Ticked {
  launched: string[];
  executions: { executionId: string; campaignId: string; status: string; sent: number }[];
}

// Each case spawns the CLI several times; commands run in order, on one schema, as an operator would.
describe.skipIf(!url)("campaign-kit on PostgreSQL", { timeout: 180_000 }, () => {
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: url });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("before migrate, a command exits 7 (storage) and says to run migrate", async () => {
    const before = await run(["status", "newsletter"]);
    expect(before.code).toBe(EXIT_CODES.STORAGE_UNAVAILABLE);
    expect(before.stderr).toContain("STORAGE_FAILED");
    expect(before.stderr).toContain("run `campaign-kit migrate` first");
  });

  it("migrate applies every migration once, then finds the schema up to date", async () => {
    const first = await run(["migrate", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const every = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1);
    expect(first.json()).toEqual({ storage: "postgres", schema, applied: every, version: SCHEMA_VERSION });
    const again = await run(["migrate"]);
    expect(again.stdout).toBe(`Schema ${schema} is up to date (version ${SCHEMA_VERSION}).\n`);
  });

  it("tick sends, and status and report read the executions back in later runs", async () => {
    const ticked = await run(["tick", "--json"]);
    expect(ticked.code).toBe(EXIT_CODES.SEND_FAILED);
    const { executions } = ticked.json<Ticked>();
    const newsletter = executions.find((e) => e.campaignId === "newsletter");
    expect(newsletter).toMatchObject({ status: "succeeded", sent: 40 });

    const status = await run(["status", newsletter?.executionId ?? "", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({
      object: "execution",
      execution: {
        campaignId: "newsletter",
        kind: "occurrence",
        status: "succeeded",
        targetedProfileCount: 40,
      },
      report: { outcomes: { sent: 40, failed: 0 } },
    });
    const human = await run(["status", newsletter?.executionId ?? ""]);
    expect(human.stdout).toMatch(/^status:\s+succeeded$/m);
    expect(human.stdout).toMatch(/^sent:\s+40$/m);

    const campaign = await run(["status", "doomed"]);
    // Its one occurrence failed: the campaign failed with it.
    expect(campaign.stdout).toMatch(/^status:\s+failed$/m);
    expect(campaign.stdout).toMatch(/occurrence\s+failed\s+40/);

    const report = await run(["report", "newsletter", "--json"]);
    expect(report.json()).toMatchObject({
      campaignId: "newsletter",
      outcomes: { sent: 40, failed: 0, excluded: 0 },
      byChannel: { email: { sent: 40 } },
      executions: 1,
      executionsByStatus: { succeeded: 1 },
    });
    const one = await run(["report", "newsletter", "--execution", newsletter?.executionId ?? "", "--json"]);
    expect(one.json()).toMatchObject({ executionId: newsletter?.executionId, outcomes: { sent: 40 } });
    const human2 = await run(["report", "doomed"]);
    expect(human2.stdout).toMatch(/^failed\s+40$/m);
    // Nothing more is due: a second tick sends nothing.
    const second = await run(["tick"]);
    expect([second.code, second.stdout]).toEqual([0, "Nothing was due.\n"]);
  });

  it("trigger records an execution the next tick sends; the same requestId again creates nothing", async () => {
    const payload = JSON.stringify({
      requestId: "pg-reset-1",
      campaignId: "reset",
      recipients: [{ type: "aep", namespace: "email", userId: "m5@example.com" }],
    });
    const accepted = await run(["trigger", "-", "--json"], payload);
    expect(accepted.code, accepted.stderr).toBe(0);
    const { executionId } = accepted.json<{ executionId: string; created: boolean }>();
    expect(accepted.json()).toMatchObject({ created: true, kind: "unitary" });
    // This process stopped sending on exit (its claim released): the next tick finishes the execution.
    const ticked = await run(["tick", "--json"]);
    expect(ticked.code, ticked.stderr).toBe(0);
    const status = await run(["status", executionId, "--json"]);
    expect(status.json()).toMatchObject({
      execution: { status: "succeeded" },
      report: { outcomes: { sent: 1 } },
    });
    const again = await run(["trigger", "-", "--wait", "--json"], payload);
    expect(again.json()).toMatchObject({ executionId, created: false, execution: { status: "succeeded" } });
  });

  it("an unreachable database exits 7", async () => {
    const file = join(tmpdir(), `cli12-unreachable-${process.pid}.mjs`);
    writeFileSync(
      file,
      `export { default } from ${JSON.stringify(new URL("fixtures/postgres.config.mjs", import.meta.url).pathname)};\n`,
    );
    const down = await cli(["status", "newsletter", "--json", "--config", file], {
      env: { ...env, DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" },
    });
    expect(down.code).toBe(EXIT_CODES.STORAGE_UNAVAILABLE);
  });
});
