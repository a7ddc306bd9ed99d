import { build } from "esbuild";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { DispatchReport } from "../../src/dispatch/types.js";
import * as http from "../../src/http/index.js";
import * as root from "../../src/index.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { PrerequisiteResult } from "../../src/kit/prerequisites/problems.js";
import type { Campaign } from "../../src/model/campaign.js";
import * as model from "../../src/model/index.js";
import type { ChannelAdapter } from "../../src/ports/channel.js";
import type { Storage } from "../../src/ports/storage.js";
import * as schedule from "../../src/schedule/index.js";

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
    expect(await packagesImportedBy("src/drivers/postgres/index.ts")).not.toContain("vitest");
    expect(await packagesImportedBy("src/testing/index.ts")).toContain("vitest");
    // The HTTP handler is web-standard: no framework, no dependency beyond the kit's own.
    expect(await packagesImportedBy("src/http/index.ts")).toEqual(["zod"]);
    for (const entry of ["src/drivers/postgres/index.ts", "src/drivers/smtp.ts", "src/testing/index.ts"]) {
      expect(await packagesImportedBy(entry)).not.toContain("bullmq");
    }
  });

  it("keeps @opentelemetry/api behind campaign-kit/otel: the root entry types telemetry structurally", async () => {
    expect(await packagesImportedBy("src/drivers/otel.ts")).toEqual(["@opentelemetry/api"]);
    for (const entry of ["src/index.ts", "src/http/index.ts", "src/drivers/postgres/index.ts"])
      expect(await packagesImportedBy(entry), entry).not.toContain("@opentelemetry/api");
  });

  it("keeps jiti behind the CLI: campaign-kit/cli imports nothing, the bin only the kit's own and jiti", async () => {
    expect(await packagesImportedBy("src/cli/index.ts")).toEqual([]);
    const bin = await packagesImportedBy("src/cli/bin.ts");
    expect(bin).toContain("jiti");
    for (const optional of ["pg", "nodemailer", "vitest", "@aws-sdk/client-sesv2"])
      expect(bin).not.toContain(optional);
    for (const entry of ["src/index.ts", "src/drivers/postgres/index.ts", "src/http/index.ts"])
      expect(await packagesImportedBy(entry), entry).not.toContain("jiti");
  });

  it("ships the Twilio and FCM channels with no dependency at all: fetch is enough", async () => {
    expect(await packagesImportedBy("src/drivers/channels/twilio.ts")).toEqual([]);
    expect(await packagesImportedBy("src/drivers/channels/fcm.ts")).toEqual([]);
  });

  it("keeps the AWS SDK behind campaign-kit/channels/ses; the HTTP provider channels import no package", async () => {
    expect(await packagesImportedBy("src/drivers/channels/ses.ts")).toEqual(["@aws-sdk/client-sesv2"]);
    for (const provider of ["resend", "postmark", "sendgrid"])
      expect(await packagesImportedBy(`src/drivers/channels/${provider}.ts`), provider).toEqual([]);
    for (const entry of ["src/index.ts", "src/model/index.ts", "src/drivers/smtp.ts", "src/testing/index.ts"])
      expect(await packagesImportedBy(entry), entry).not.toContain("@aws-sdk/client-sesv2");
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
      "CampaignKitError",
      "PermanentDeliveryError",
      "RateLimitedError",
    ]) {
      expect(typeof (root as Record<string, unknown>)[name], name).not.toBe("undefined");
    }
    // The execution API and the feedback handler with its provider webhooks live at `campaign-kit/http`,
    // not in the root entry.
    expect(Object.keys(http).sort()).toEqual([
      "executionApi",
      "feedbackEndpoints",
      "postmarkWebhook",
      "resendWebhook",
      "sendgridWebhook",
      "sesWebhook",
      "toNodeHandler",
      "toProblemDocument",
      "twilioWebhook",
    ]);
    for (const name of ["feedbackEndpoints", "sesWebhook"]) expect(name in root, name).toBe(false);
    for (const name of ["executionApi", "executionApiHandler", "toNodeHandler", "toProblemDocument"])
      expect(name in root, name).toBe(false);
    // A small front door: what a host calls, not every schema and constant.
    expect(Object.keys(root).length).toBeLessThanOrEqual(30);
    for (const name of ["can", "applyLifecycleAction", "campaignSchema", "roleSchema", "CHANNELS"]) {
      expect(typeof (model as Record<string, unknown>)[name], name).not.toBe("undefined");
    }
    expect(typeof schedule.occurrencesBetween).toBe("function");
    // Type-level checks: `npm run typecheck` fails if the public types drift.
    expectTypeOf(root.createCampaignKit).returns.resolves.toEqualTypeOf<CampaignKit>();
    expectTypeOf(root.checkPrerequisites).returns.toEqualTypeOf<PrerequisiteResult>();
    expectTypeOf(root.memoryStorage()).toEqualTypeOf<Storage>();
    expectTypeOf(root.memoryChannel()).toMatchTypeOf<ChannelAdapter>();
    expectTypeOf<Campaign["type"]>().toEqualTypeOf<"scheduled" | "api-triggered">();
    expectTypeOf<Campaign["status"]>().toEqualTypeOf<root.CampaignStatus>();
    expectTypeOf<ReturnType<root.Dispatcher["dispatch"]>>().resolves.toEqualTypeOf<DispatchReport>();
    expectTypeOf(http.executionApi).parameter(0).toEqualTypeOf<Pick<CampaignKit, "executions">>();
    expectTypeOf(http.feedbackEndpoints).parameter(0).toEqualTypeOf<Pick<CampaignKit, "feedback">>();
    expectTypeOf<http.ExecutionApiHandler>().toEqualTypeOf<
      (request: Request, context?: http.HandlerContext) => Promise<Response>
    >();
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
