import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

// What a script does with campaign-kit/testing: drive a virtual clock, and get a clear error from a suite.
const script = `
const testing = await import("./src/testing/index.js");
const clock = testing.virtualClock({ start: "2026-01-01T00:00:00Z" });
await clock.advance(60_000);
let suite;
try {
  testing.runChannelSuite({ create: () => { throw new Error("unreachable"); }, configuration: {} });
} catch (error) {
  suite = error.name + ": " + error.message;
}
console.log(JSON.stringify({ now: new Date(clock.now()).toISOString(), suite }));
`;

/** Runs the script in a fresh Node process (tsx for the TypeScript sources) with `env`, and parses its line. */
async function runScript(env: NodeJS.ProcessEnv): Promise<{ now: string; suite: string }> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    env,
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
}

const withoutVitest = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")),
);

describe("campaign-kit/testing outside vitest", () => {
  it("loads in a plain Node process, so scripts can use its virtual clock", async () => {
    const result = await runScript(withoutVitest);
    expect(result.now).toBe("2026-01-01T00:01:00.000Z");
    expect(result.suite).toMatch(/^CampaignKitError: .*call them from a test file run by vitest/);
  });

  it("loads in a script a test spawns, which inherits vitest's environment variables", async () => {
    expect(process.env.VITEST).toBeDefined();
    const result = await runScript(process.env);
    expect(result.now).toBe("2026-01-01T00:01:00.000Z");
    expect(result.suite).toMatch(/call them from a test file run by vitest/);
  });
});
