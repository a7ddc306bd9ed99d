import { build } from "esbuild";
import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  Campaign,
  CampaignKit,
  ChannelAdapter,
  DispatchReport,
  PrerequisiteResult,
  Storage,
} from "../src/index.js";
import * as root from "../src/index.js";

/** The bare package names each entry point's code imports, followed through every file it bundles. */
async function packagesImportedBy(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent",
  });
  const names = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith("node:")) continue;
      const parts = imported.path.split("/");
      names.add(imported.path.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string));
    }
  }
  return [...names].sort();
}

describe("the package", () => {
  it("root entry point imports only its required dependencies, never an optional one", async () => {
    expect(await packagesImportedBy("src/index.ts")).toEqual([
      "@date-fns/tz",
      "date-fns",
      "eventemitter3",
      "handlebars",
      "p-limit",
      "zod",
    ]);
  });

  it("keeps each optional dependency behind its own subpath", async () => {
    expect(await packagesImportedBy("src/adapters/postgres/index.ts")).not.toContain("vitest");
    expect(await packagesImportedBy("src/testing/index.ts")).toContain("vitest");
    for (const entry of [
      "src/adapters/postgres/index.ts",
      "src/adapters/smtp/index.ts",
      "src/testing/index.ts",
    ]) {
      expect(await packagesImportedBy(entry)).not.toContain("bullmq");
    }
  });

  it("exposes the public API a host app codes against", () => {
    for (const name of [
      "createCampaignKit",
      "checkPrerequisites",
      "createDispatcher",
      "memoryStorage",
      "memoryChannel",
      "memoryAudiences",
      "webhookChannel",
      "can",
      "applyLifecycleAction",
      "campaignSchema",
      "audienceSchema",
      "channelConfigurationSchema",
      "roleSchema",
      "CampaignKitError",
      "PermanentDeliveryError",
      "RateLimitedError",
      "toProblemDocument",
      "occurrencesBetween",
    ]) {
      expect(typeof (root as Record<string, unknown>)[name], name).not.toBe("undefined");
    }
    // Type-level checks: `npm run typecheck` fails if the public types drift.
    expectTypeOf(root.createCampaignKit).returns.resolves.toEqualTypeOf<CampaignKit>();
    expectTypeOf(root.checkPrerequisites).returns.toEqualTypeOf<PrerequisiteResult>();
    expectTypeOf(root.memoryStorage()).toEqualTypeOf<Storage>();
    expectTypeOf(root.memoryChannel()).toMatchTypeOf<ChannelAdapter>();
    expectTypeOf<Campaign["type"]>().toEqualTypeOf<"scheduled" | "api-triggered">();
    expectTypeOf<Campaign["status"]>().toEqualTypeOf<root.CampaignStatus>();
    expectTypeOf<ReturnType<root.Dispatcher["dispatch"]>>().resolves.toEqualTypeOf<DispatchReport>();
    expectTypeOf<CampaignKit["campaigns"]["activate"]>().parameters.toEqualTypeOf<
      [{ actor: root.ActorRef; id: string }]
    >();
  });
});

describe("inputs", () => {
  it("accept objects written `as const`", () => {
    const draft = {
      type: "scheduled",
      category: "marketing",
      name: "x",
      tags: ["a"],
      actions: [{ channel: "sms", channelConfigurationId: "c", content: { body: "hi" } }],
    } as const;
    const request = {
      requestId: "r",
      campaignId: "c",
      recipients: [{ type: "aep", namespace: "email", userId: "u" }],
    } as const;
    expectTypeOf(draft).toMatchTypeOf<Parameters<CampaignKit["campaigns"]["create"]>[0]["campaign"]>();
    expectTypeOf(request).toMatchTypeOf<
      Parameters<CampaignKit["executions"]["triggerUnitary"]>[0]["request"]
    >();
  });
});
