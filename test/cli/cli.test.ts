import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/index.js";
import { SCHEMA_VERSION } from "../../src/drivers/postgres/migrations.js";
import { BIN, cli, FIXTURES, TSX } from "./support.js";

const MEMORY = ["--config", "memory.config.mjs"];
const unitary = (requestId: string) =>
  JSON.stringify({
    requestId,
    campaignId: "reset",
    recipients: [
      { type: "aep", namespace: "email", userId: "m1@example.com", context: { link: "https://x.example" } },
      { type: "aep", namespace: "email", userId: "m2@example.com" },
    ],
  });

const scratch = mkdtempSync(join(tmpdir(), "campaign-kit-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Ticked {
  started: string[];
  launched: string[];
  completed: string[];
  executions: {
    executionId: string;
    campaignId: string;
    kind: string;
    status: string;
    sent: number;
    failed: number;
  }[];
}

// Every case spawns the CLI (about 1 to 3 s each on a busy machine): generous timeouts.
describe("campaign-kit, the command line", { timeout: 180_000 }, () => {
  it("prints its help and version, and exits 0", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["migrate", "tick", "trigger", "status", "report"])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toContain("Exit codes");
    const trigger = await cli(["trigger", "--help"]);
    expect(trigger.stdout).toContain("--wait");
    const version = await cli(["--version"]);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("refuses a wrong command line with exit 2 and INVALID_ARGUMENTS saying what to fix", async () => {
    const none = await cli([]);
    expect(none.code).toBe(EXIT_CODES.USAGE);
    expect(none.stderr).toContain("No command given");
    const unknown = await cli(["frob", "--json"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.error()).toMatchObject({ code: "INVALID_ARGUMENTS", details: { argument: "frob" } });
    expect(unknown.error().message).toContain("one of migrate, tick, trigger, status, report");
    const flag = await cli(["tick", "--bogus", ...MEMORY]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    expect((await cli(["status", ...MEMORY])).stderr).toContain("`status` needs <id>");
    expect((await cli(["status", "a", "b", ...MEMORY])).code).toBe(2);
    const limit = await cli(["status", "newsletter", "--limit", "0", ...MEMORY]);
    expect([limit.code, limit.stderr]).toEqual([2, expect.stringContaining("--limit is a whole number")]);
    const kind = await cli(["trigger", "x.json", "--kind", "bulk", ...MEMORY]);
    expect([kind.code, kind.stderr]).toEqual([
      2,
      expect.stringContaining("--kind is 'unitary' or 'audience'"),
    ]);
    const missing = await cli(["trigger", "nowhere.json", ...MEMORY]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      expect.stringContaining("Can't read the payload file"),
    ]);
  });

  it("refuses a missing or broken config with exit 3 and CONFIG_INVALID naming the fix", async () => {
    const none = await cli(["tick", "--json"], { cwd: scratch });
    expect(none.code).toBe(EXIT_CODES.CONFIG);
    expect(none.error()).toMatchObject({ code: "CONFIG_INVALID" });
    expect(none.error().message).toContain("create campaign-kit.config.ts");
    const wrongPath = await cli(["tick", "--config", "nope.mjs"]);
    expect([wrongPath.code, wrongPath.stderr]).toEqual([
      3,
      expect.stringContaining("check the path given to --config"),
    ]);
    const typo = await cli(["tick", "--json", "--config", "bad/typo.config.mjs"]);
    expect(typo.code).toBe(3);
    expect(typo.error().message).toMatch(/kit: Required/);
    expect(typo.error().message).toMatch(/actr/);
    const throws = await cli(["tick", "--config", "bad/throws.config.mjs"]);
    expect([throws.code, throws.stderr]).toEqual([3, expect.stringContaining("DATABASE_URL is not set")]);
    const noDefault = await cli(["tick", "--config", "bad/no-default.config.mjs"]);
    expect([noDefault.code, noDefault.stderr]).toEqual([3, expect.stringContaining("has no default export")]);
    const options = await cli(["tick", "--json", "--config", "bad/options.config.mjs"]);
    expect(options.code).toBe(3);
    expect(options.error()).toMatchObject({ code: "CONFIG_INVALID" });
    expect(options.error().message).toContain("kit.channels.0.send: Expected a function");
    const noActor = await cli(["status", "newsletter", "--config", "bad/no-actor.config.mjs"]);
    expect([noActor.code, noActor.stderr]).toEqual([3, expect.stringContaining("pass --actor <userId>")]);
    // The actor from the environment is enough.
    const fromEnv = await cli(["status", "newsletter", "--config", "bad/no-actor.config.mjs"], {
      env: { CAMPAIGN_KIT_ACTOR: "ops" },
    });
    expect(fromEnv.code).toBe(0);
  });

  it("loads a TypeScript config through jiti, and finds campaign-kit.config.* in the working directory", async () => {
    const typescript = await cli(["status", "newsletter", "--json", "--config", "typescript.config.ts"]);
    expect(typescript.code, typescript.stderr).toBe(0);
    expect(typescript.json()).toMatchObject({
      object: "campaign",
      campaign: { id: "newsletter", status: "live" },
    });
    const folder = mkdtempSync(join(scratch, "found-"));
    writeFileSync(
      join(folder, "campaign-kit.config.mjs"),
      `export { default } from ${JSON.stringify(join(FIXTURES, "memory.config.mjs"))};\n`,
    );
    const found = await cli(["status", "reset", "--json"], { cwd: folder });
    expect(found.code, found.stderr).toBe(0);
    expect(found.json()).toMatchObject({ campaign: { id: "reset", type: "api-triggered" } });
  });

  describe("on memory storage", () => {
    it("migrate has nothing to do; --print-sql prints the migrations", async () => {
      const human = await cli(["migrate", ...MEMORY]);
      expect([human.code, human.stdout]).toEqual([0, expect.stringContaining("Nothing to migrate")]);
      expect((await cli(["migrate", "--json", ...MEMORY])).json()).toEqual({
        storage: "no-postgres",
        applied: [],
      });
      const sql = await cli(["migrate", "--print-sql", ...MEMORY]);
      expect(sql.stdout).toContain('CREATE TABLE "campaign_kit"."documents"');
      const json = (await cli(["migrate", "--print-sql", "--json", ...MEMORY])).json<{
        migrations: unknown[];
      }>();
      expect(json.migrations).toHaveLength(SCHEMA_VERSION);
    });

    it("tick sends what is due, reports each execution, and exits 8 when one failed", async () => {
      const run = await cli(["tick", "--json", ...MEMORY]);
      expect(run.code).toBe(EXIT_CODES.SEND_FAILED);
      expect(run.stderr).toBe(""); // --json: no progress
      const ticked = run.json<Ticked>();
      expect(ticked.launched).toHaveLength(2);
      expect(ticked.completed.sort()).toEqual(["doomed", "newsletter"]);
      const byCampaign = Object.fromEntries(ticked.executions.map((e) => [e.campaignId, e]));
      expect(byCampaign.newsletter).toMatchObject({
        kind: "occurrence",
        status: "succeeded",
        sent: 40,
        failed: 0,
      });
      expect(byCampaign.doomed).toMatchObject({ status: "failed", sent: 0, failed: 40 });
    });

    it("off a terminal, tick prints a table and plain progress lines, never a redraw", async () => {
      const run = await cli(["tick", ...MEMORY]);
      expect(run.code).toBe(8);
      expect(run.stdout).toMatch(/^execution\s+campaign\s+status\s+sent\s+failed/m);
      expect(run.stdout).toMatch(/newsletter\s+succeeded\s+40\s+0/);
      expect(run.stdout).toContain("Completed: ");
      expect(run.stderr).toMatch(/^progress: \d+ messages \(\d+ sent, \d+ failed, 0 excluded\)/m);
      expect(run.stderr).not.toContain("\r");
      expect(run.stderr).not.toContain("\u001b");
      // --quiet: no progress at all.
      expect((await cli(["tick", "--quiet", ...MEMORY])).stderr).toBe("");
    });

    it("trigger --wait sends a unitary payload from a file or stdin and reports it", async () => {
      const file = join(scratch, "reset.json");
      writeFileSync(file, unitary("r-file"));
      const fromFile = await cli(["trigger", file, "--wait", "--json", ...MEMORY]);
      expect(fromFile.code, fromFile.stderr).toBe(0);
      expect(fromFile.json()).toMatchObject({
        requestId: "r-file",
        created: true,
        kind: "unitary",
        execution: { campaignId: "reset", kind: "unitary", status: "succeeded", recipients: 2 },
        report: { outcomes: { sent: 2, failed: 0, excluded: 0 }, targeted: 2 },
      });
      const fromStdin = await cli(["trigger", "-", "--wait", ...MEMORY], { input: unitary("r-stdin") });
      expect(fromStdin.code, fromStdin.stderr).toBe(0);
      expect(fromStdin.stdout).toMatch(/status:\s+succeeded/);
      expect(fromStdin.stdout).toMatch(/messages:\s+2 sent, 0 failed, 0 excluded/);
      expect(fromStdin.stderr).toMatch(/^progress: 2\/2 messages 100%|^progress: 2 messages/m);
    });

    it("trigger refuses bad payloads with exit 4 and the kit's message, and a reader with exit 5", async () => {
      const notJson = await cli(["trigger", "--json", ...MEMORY], { input: "{oops" });
      expect(notJson.code).toBe(EXIT_CODES.REFUSED);
      expect(notJson.error()).toMatchObject({ code: "VALIDATION_FAILED" });
      expect(notJson.error().message).toContain("is not JSON");
      const empty = await cli(["trigger", ...MEMORY]); // stdin piped, and closed at once
      expect([empty.code, empty.stderr]).toEqual([
        4,
        expect.stringContaining("The payload in stdin is empty"),
      ]);
      const invalid = await cli(["trigger", "--json", "--kind", "unitary", ...MEMORY], {
        input: JSON.stringify({ requestId: "r", recipients: [] }),
      });
      expect(invalid.code).toBe(4);
      expect(invalid.error().message).toContain("campaignId");
      const scheduled = await cli(["trigger", "--json", ...MEMORY], {
        input: JSON.stringify({ requestId: "r", campaignId: "newsletter" }),
      });
      expect([scheduled.code, scheduled.error().code]).toEqual([4, "WRONG_CAMPAIGN_TYPE"]);
      const missing = await cli(["trigger", ...MEMORY], {
        input: JSON.stringify({ requestId: "r", campaignId: "ghost" }),
      });
      expect(missing.code).toBe(EXIT_CODES.NOT_FOUND);
      const viewer = await cli(["trigger", "--actor", "viewer", "--json", ...MEMORY], {
        input: unitary("r-v"),
      });
      expect([viewer.code, viewer.error().code]).toEqual([EXIT_CODES.FORBIDDEN, "FORBIDDEN"]);
      expect(viewer.error().message).toContain("campaign.publish");
    });

    it("status shows a campaign, or exits 6 for an id nothing has; report shows the campaign's counts", async () => {
      const campaign = await cli(["status", "newsletter", "--json", ...MEMORY]);
      expect(campaign.json()).toEqual({
        object: "campaign",
        campaign: expect.objectContaining({
          id: "newsletter",
          type: "scheduled",
          status: "live",
          channels: ["email"],
        }),
        executions: [],
      });
      const human = await cli(["status", "newsletter", ...MEMORY]);
      expect(human.stdout).toMatch(/^status:\s+live$/m);
      expect(human.stdout).toContain("No executions yet.");
      const nothing = await cli(["status", "ghost", "--json", ...MEMORY]);
      expect([nothing.code, nothing.error().code]).toEqual([6, "NOT_FOUND"]);
      expect((await cli(["status", "newsletter", "--execution", ...MEMORY])).code).toBe(6);
      const report = await cli(["report", "newsletter", "--json", ...MEMORY]);
      expect(report.json()).toMatchObject({ campaignId: "newsletter", outcomes: { sent: 0 }, executions: 0 });
      expect((await cli(["report", "newsletter", ...MEMORY])).stdout).toMatch(/^sent\s+0$/m);
      const viewer = await cli(["report", "newsletter", "--actor", "viewer", ...MEMORY]);
      expect([viewer.code, viewer.stderr]).toEqual([5, expect.stringContaining("campaign-report.read")]);
    });
  });

  it("on SIGINT closes the kit at once, sends stopped and recorded, and exits 130", async () => {
    const child = spawn(
      process.execPath,
      ["--import", pathToFileURL(TSX).href, BIN, "tick", "-c", "slow.config.mjs"],
      {
        cwd: FIXTURES,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    const sending = new Promise<void>((resolve) =>
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
        if (stderr.includes("progress:")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await sending;
    const interruptedAt = performance.now();
    child.kill("SIGINT");
    expect(await exited).toBe(EXIT_CODES.INTERRUPTED);
    // 80 messages at a second each would take over a minute: the sends stopped.
    expect(performance.now() - interruptedAt).toBeLessThan(20_000);
    expect(stderr).toContain("interrupted; sends in flight were recorded");
    expect(stdout).toMatch(/in-progress/);
  });

  it("on a terminal, draws a progress bar in place", async () => {
    let script = true;
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" });
    } catch {
      script = false;
    }
    if (!script && process.env.CI !== "true") {
      console.warn("Skipping the terminal test: util-linux `script` is not installed.");
      return;
    }
    // `script` runs the CLI on a pseudo-terminal and copies what it drew to stdout.
    const command = [process.execPath, "--import", pathToFileURL(TSX).href, BIN, "tick", ...MEMORY]
      .map((a) => `'${a}'`)
      .join(" ");
    // The tick exits 8 (a campaign fails on purpose): read what was drawn whatever the status.
    const drawn = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: FIXTURES,
      encoding: "utf8",
    }).stdout;
    expect(drawn).toContain("\r\x1b[K");
    expect(drawn).toMatch(/sending {2}\d+ messages {2}\d+ sent/);
    expect(drawn).not.toContain("progress:");
  });
});
