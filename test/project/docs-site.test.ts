/**
 * The docs site as a reader gets it: `typedoc` builds it once (the same typedoc.json as `npm run docs`, into
 * test-results/docs-site/site). Every page reachable from the landing page is crawled from the built HTML,
 * and every internal link on it must lead to a page and anchor that exist; headless Chromium opens every
 * guide and one reference page of each kind, checks the links it renders (the sidebar is built by script)
 * the same way, sees no console error, and reads the key pages. Screenshots of the landing page and the `Campaign`
 * reference are left in test-results/docs-site/ as build artifacts.
 *
 * Chromium is Debian's (`apt-get install chromium`, which .ci/run does); without it the test skips with a
 * printed reason, except under CI=true, where it fails.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const artifacts = join(root, "test-results/docs-site");
const site = join(artifacts, "site");
// A made-up origin, answered from the built files by the browser context: no server, no port.
const origin = "http://docs.campaign-kit.test";

function chromiumPath(): string | undefined {
  const found = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
    (path) => path !== undefined && existsSync(path),
  );
  if (found === undefined && process.env.CI === "true") {
    throw new Error("CI needs Chromium for the docs site test: apt-get install -y chromium");
  }
  if (found === undefined) {
    console.warn("Skipping the docs site test: install Chromium (apt-get install -y chromium) to run it.");
  }
  return found;
}
const executablePath = chromiumPath();

/** A page's internal links (absolute, on `origin`) and the anchors it holds. */
interface Links {
  status: number;
  hrefs: string[];
  ids: string[];
}

const decode = (text: string) => text.replaceAll("&amp;", "&").replaceAll("&quot;", '"');

/** Every page reachable from index.html through the links written in the built HTML. */
function crawlFiles(): Map<string, Links> {
  const pages = new Map<string, Links>();
  const queue = ["index.html"];
  for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
    const file = join(site, url);
    if (!existsSync(file)) {
      pages.set(url, { status: 404, hrefs: [], ids: [] });
      continue;
    }
    const html = readFileSync(file, "utf8");
    const hrefs = [...html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)]
      .map((m) => new URL(decode(m[1] as string), `${origin}/${url}`).href)
      .filter((href) => href.startsWith(`${origin}/`));
    const ids = [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => decode(m[1] as string));
    pages.set(url, { status: 200, hrefs, ids });
    for (const href of hrefs) {
      const target = pageOf(href);
      if (!pages.has(target) && !queue.includes(target)) queue.push(target);
    }
  }
  return pages;
}

/** `http://origin/guides/kit.html#refusals` -> `guides/kit.html`. */
const pageOf = (href: string) => decodeURIComponent(new URL(href).pathname.slice(1)) || "index.html";

/** The links among `linked` (by the page that holds them) that lead to no page, or to no anchor on it. */
function brokenLinks(linked: Map<string, Links>, pages: Map<string, Links>): string[] {
  const broken: string[] = [];
  for (const [url, { hrefs }] of linked) {
    for (const href of hrefs) {
      const target = pages.get(pageOf(href));
      const fragment = decodeURIComponent(new URL(href).hash.slice(1));
      if (target?.status !== 200) broken.push(`${url} -> ${href} (${target?.status ?? "not crawled"})`);
      else if (fragment !== "" && !target.ids.includes(fragment))
        broken.push(`${url} -> ${href} (no anchor)`);
    }
  }
  return broken;
}

describe.skipIf(executablePath === undefined)("the docs site", () => {
  let buildLog = "";
  let pages = new Map<string, Links>();
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const rendered = new Map<string, Links>();

  /** Opens `url` in Chromium and keeps the links it renders, once the script-built sidebar is there. */
  async function open(url: string): Promise<void> {
    const response = await page.goto(`${origin}/${url}`, { waitUntil: "load" });
    expect(response?.status(), url).toBe(200);
    await page.locator(".tsd-navigation a").first().waitFor();
    const hrefs = await page
      .locator("a[href]")
      .evaluateAll((anchors) => anchors.map((anchor) => (anchor as unknown as { href: string }).href));
    const ids = await page.locator("[id]").evaluateAll((elements) => elements.map((element) => element.id));
    rendered.set(url, { status: 200, hrefs: hrefs.filter((href) => href.startsWith(`${origin}/`)), ids });
  }

  beforeAll(async () => {
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const typedoc = join(root, "node_modules/typedoc/bin/typedoc");
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [typedoc, "--out", site], {
      cwd: root,
    });
    buildLog = stdout + stderr;

    browser = await chromium.launch({ executablePath: executablePath ?? "", args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Nothing leaves the machine: a page that needs another origin fails to load it, and logs the error.
    await context.route(
      (url) => url.origin !== origin,
      (route) => route.abort(),
    );
    await context.route(`${origin}/**`, async (route) => {
      const path = decodeURIComponent(new URL(route.request().url()).pathname);
      const file = normalize(join(site, path.endsWith("/") ? `${path}index.html` : path));
      if (!file.startsWith(site + sep) || !existsSync(file)) return route.fulfill({ status: 404 });
      return route.fulfill({ path: file });
    });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));

    pages = crawlFiles();
    // Every guide (hand-written, so where a missing image or a stray script would be), and one reference page
    // of each kind (generated alike), for what only a browser shows.
    const guides = [...pages.keys()].filter((url) => url.startsWith("guides/"));
    for (const url of [
      "index.html",
      "modules.html",
      "hierarchy.html",
      ...guides,
      "modules/campaign-kit.html",
      "functions/campaign-kit.createCampaignKit.html",
      "interfaces/campaign-kit_model.Campaign.html",
      "classes/campaign-kit.CampaignKitError.html",
      "types/campaign-kit_model.CampaignAction.html",
      "variables/campaign-kit.ERROR_CODES.html",
    ])
      await open(url);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("builds with every guide link and {@link} resolved", () => {
    expect(buildLog).not.toMatch(/Failed to resolve link|is not a file|did not match any files/);
    expect(buildLog).not.toMatch(/\[error\]/);
  });

  it("has no broken internal link: every page and anchor linked to exists", () => {
    expect(pages.size).toBeGreaterThan(100);
    expect(brokenLinks(pages, pages)).toEqual([]);
    expect(rendered.size).toBeGreaterThan(10);
    expect(brokenLinks(rendered, pages)).toEqual([]);
  });

  it("logs no console error on the pages opened", () => {
    expect(consoleErrors).toEqual([]);
  });

  it("has a page for every guide in docs/, placed in the sidebar's sections", async () => {
    const guides = ["", "channels/"].flatMap((folder) =>
      readdirSync(join(root, "docs", folder))
        .filter((file) => file.endsWith(".md"))
        .map((file) => `guides/${folder}${file.replace(/\.md$/, ".html")}`),
    );
    for (const guide of guides) expect(pages.get(guide)?.status, guide).toBe(200);

    await page.goto(`${origin}/index.html`);
    const sections = await page.locator(".tsd-navigation > ul > li > details > summary").allTextContents();
    expect(sections.map((text) => text.trim())).toEqual([
      "Start here",
      "Guides",
      "Storage and audiences",
      "Channels",
      "API reference",
    ]);
    await page.screenshot({ path: join(artifacts, "landing.png") });
  });

  it("opens the landing page, getting started and a channel page", async () => {
    await page.goto(`${origin}/index.html`);
    await expect(page.title()).resolves.toContain("campaign-kit");
    await page.getByRole("link", { name: "Getting started", exact: true }).first().click();
    await page.waitForURL(`${origin}/guides/getting-started.html`);
    await expect(page.locator("h1").first().textContent()).resolves.toBe("Getting started");

    await page.goto(`${origin}/guides/channels/twilio.html`);
    await expect(page.locator("h1").first().textContent()).resolves.toBe("Twilio (SMS)");
    await expect(page.locator(".col-content").textContent()).resolves.toContain("twilioChannel");
  });

  it("names each module by its import path and groups its symbols by purpose", async () => {
    await page.goto(`${origin}/modules.html`);
    const modules = await page
      .locator('.col-content .tsd-member-summary-name:has(svg[aria-label="Module"])')
      .allTextContents();
    expect(modules).toEqual(
      expect.arrayContaining([
        "campaign-kit",
        "campaign-kit/model",
        "campaign-kit/http",
        "campaign-kit/postgres",
      ]),
    );
    expect(modules.filter((name) => !name.startsWith("campaign-kit"))).toEqual([]);

    await page.goto(`${origin}/modules/campaign-kit.html`);
    const groups = await page.locator(".col-content details.tsd-member-group > summary h2").allTextContents();
    expect(groups.map((text) => text.trim())).toEqual(
      expect.arrayContaining(["Kit", "Dispatcher", "Domain types", "Ports", "Drivers", "Errors"]),
    );
  });

  // Each zod-inferred domain type reads as an interface whose every field has a description.
  it.each([
    [
      "Campaign",
      ["id", "type", "name", "category", "actions", "audienceId", "schedule", "status", "apiTrigger"],
    ],
    ["Audience", ["id", "name", "status", "identityNamespace"]],
    ["ChannelConfiguration", ["id", "channel", "purpose", "status", "settings"]],
    ["Role", ["id", "name", "permissions"]],
    ["Execution", ["id", "campaignId", "requestId", "kind", "status", "recipients"]],
    ["Profile", ["id", "identities", "addresses", "attributes", "consent", "timeZone"]],
  ])("documents every field of %s", async (name, expected) => {
    await page.goto(`${origin}/interfaces/campaign-kit_model.${name}.html`);
    const members = page.locator(".col-content section.tsd-member");
    const fields = await members.evaluateAll((sections) =>
      sections.map((section) => ({
        name: section.querySelector("h3")?.textContent?.replace(/Optional|\s/g, "") ?? "",
        description: section.querySelector(".tsd-comment")?.textContent?.trim() ?? "",
      })),
    );
    expect(fields.map((field) => field.name)).toEqual(expect.arrayContaining(expected));
    expect(fields.filter((field) => field.description === "").map((field) => field.name)).toEqual([]);
    if (name === "Campaign") {
      const apiTrigger = fields.find((field) => field.name === "apiTrigger");
      expect(apiTrigger?.description).toContain('Only when type is "api-triggered"');
      await members.first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(artifacts, "campaign-reference.png") });
    }
  });

  it("documents createCampaignKit with its options", async () => {
    await page.goto(`${origin}/functions/campaign-kit.createCampaignKit.html`);
    const content = page.locator(".col-content");
    await expect(content.locator(".tsd-signature").first().textContent()).resolves.toContain(
      "createCampaignKit",
    );
    await content.getByRole("link", { name: "CampaignKitOptions" }).first().click();
    await page.waitForURL(`${origin}/interfaces/campaign-kit.CampaignKitOptions.html`);
    await expect(page.locator(".col-content section.tsd-member").count()).resolves.toBeGreaterThan(3);
  });
});
