import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

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

  it("tells how to install the package", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("```sh\nnpm install campaign-kit\n```");
  });

  it("shows a first campaign and a password reset that run as written", { timeout: 60_000 }, async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const section = readme.split("## A first campaign")[1]?.split("\n## ")[0] ?? "";
    // Every ts block of the section, in order: the first campaign, the reset's set-up, the reset itself.
    const blocks = section
      .split("```ts")
      .slice(1)
      .map((block) => block.split("```")[0] as string);
    expect(blocks).toHaveLength(3);
    // The snippets assume a `profiles` array and import the published name: point them at the sources.
    const source = [
      'const profiles = [{ id: "p1", identities: { email: "ana@example.com" }, addresses: {}, attributes: { firstName: "Ana" }, consent: { email: true }, suppressedChannels: [] }];',
      ...blocks.map((block) =>
        block.replaceAll('from "campaign-kit"', `from ${JSON.stringify(join(root, "src/index.ts"))}`),
      ),
      'for (const id of ["winter-sale", "password-reset"])',
      '  if ((await kit.reports.campaign({ actor: "ada", id })).outcomes.sent !== 1) throw new Error(id + ": not sent");',
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
