import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

describe("the README", () => {
  it("has a quick start of two commands: the demo and the tests", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const quickStart = readme.split("## Quick start")[1]?.split("```sh")[1]?.split("```")[0] ?? "";
    const commands = quickStart
      .trim()
      .split("\n")
      .map((line) => line.replace(/#.*$/, "").trim());
    expect(commands).toEqual(["npm ci && npm run demo", "npm test"]);
    const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
    expect(scripts.demo).toBe("tsx examples/demo.ts");
    expect(scripts.test).toBe("vitest run");
  });

  it("shows a first campaign that runs as written", { timeout: 60_000 }, async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const first = readme.split("## A first campaign")[1]?.split("```ts")[1]?.split("```")[0];
    expect(first).toBeDefined();
    // The snippet assumes a `profiles` array and imports the published name: point it at the sources.
    const source = [
      'const profiles = [{ id: "p1", identities: { email: "ana@example.com" }, addresses: {}, attributes: { firstName: "Ana" }, consent: { email: true }, suppressedChannels: [] }];',
      (first as string).replaceAll(
        'from "campaign-kit"',
        `from ${JSON.stringify(join(root, "src/index.ts"))}`,
      ),
      'if ((await kit.reports.campaign({ actor: "ada", id: "winter-sale" })).outcomes.sent !== 1) throw new Error("not sent");',
      "await kit.close();",
    ].join("\n");
    const folder = mkdtempSync(join(root, "node_modules", ".readme-"));
    try {
      const file = join(folder, "first-campaign.mts");
      writeFileSync(file, source);
      const { stdout } = await run(process.execPath, ["--import", "tsx", file], {
        cwd: root,
        timeout: 60_000,
      });
      expect(stdout).toContain("winter-sale");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
