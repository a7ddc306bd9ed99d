import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CampaignKitError, ERROR_CODES, type ErrorCode } from "../../src/errors.js";
import { toProblemDocument } from "../../src/http/index.js";
import { PREREQUISITE_CODES } from "../../src/kit/prerequisites/problems.js";
import * as testing from "../../src/testing/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
  // One page per provider channel.
  ...readdirSync(join(root, "docs/channels"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/channels/${file}`),
];
const read = (page: string) => readFileSync(join(root, page), "utf8");
const codeBlocks = (markdown: string) =>
  markdown
    .split("```")
    .filter((_, i) => i % 2 === 1)
    .filter((block) => /^(ts|js)\b/.test(block));

/** The first column of the markdown table that follows `heading`, up to the next heading. */
function tableCodes(page: string, heading: string): string[] {
  const section = read(page).split(heading)[1]?.split(/\n#+ /)[0] ?? "";
  return [...section.matchAll(/^\| ([^|]+)\|/gm)].flatMap((row) =>
    [...(row[1] as string).matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as string),
  );
}

describe("the documentation", () => {
  it.each(pages)("%s awaits createCampaignKit in every code example", (page) => {
    for (const block of codeBlocks(read(page)))
      for (const call of block.matchAll(/^.*[^.\w]createCampaignKit\(.*$/gm))
        expect(call[0], `in ${page}`).toMatch(/await createCampaignKit\(/);
  });

  it("lists every error code in the refusal table of docs/kit.md", () => {
    expect(tableCodes("docs/kit.md", "## Refusals")).toEqual(
      expect.arrayContaining(Object.keys(ERROR_CODES)),
    );
  });

  it("lists every prerequisite problem code in docs/kit.md", () => {
    expect(tableCodes("docs/kit.md", "### Prerequisite problems")).toEqual(
      expect.arrayContaining(Object.keys(PREREQUISITE_CODES)),
    );
  });

  it("gives every error code its HTTP status and fix in docs/troubleshooting.md", () => {
    const codes = tableCodes("docs/troubleshooting.md", "## Errors by code");
    expect(codes).toEqual(expect.arrayContaining(Object.keys(ERROR_CODES)));
    const section = read("docs/troubleshooting.md").split("## Errors by code")[1] ?? "";
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const status = section.match(new RegExp(`^\\| \`${code}\` +\\| (\\d{3}) `, "m"))?.[1];
      expect(Number(status), code).toBe(toProblemDocument(new CampaignKitError(code)).status);
    }
  });

  it("gives every prerequisite problem code its fix in docs/troubleshooting.md", () => {
    expect(tableCodes("docs/troubleshooting.md", "## Prerequisite problems")).toEqual(
      expect.arrayContaining(Object.keys(PREREQUISITE_CODES)),
    );
  });

  it("names only conformance suites campaign-kit/testing exports", () => {
    const named = new Set(pages.flatMap((page) => read(page).match(/\brun[A-Z]\w*Suite\b/g) ?? []));
    expect([...named].sort()).toEqual(["runAudienceSuite", "runChannelSuite", "runStorageSuite"]);
    for (const name of named)
      expect(typeof (testing as Record<string, unknown>)[name], name).toBe("function");
  });
});
