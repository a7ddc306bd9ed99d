/**
 * Mistakes a host makes wiring the kit, or an untyped JavaScript caller makes calling it, fail at once with
 * a clear error, not later with all-zero counts or "'ada' lacks undefined".
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { type CampaignKitOptions, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { refusal } from "../support/outcomes.js";
import { ADMIN, promotion, seededKit } from "./fixtures.js";

const withSms = {
  ...promotion,
  actions: [
    ...promotion.actions,
    { channel: "sms" as const, channelConfigurationId: "sms-marketing", content: { body: "Sale!" } },
  ],
};

describe("a campaign on a channel with no adapter", () => {
  it("is refused at create, listing CHANNEL_ADAPTER_MISSING with the fix", async () => {
    const kit = await seededKit({ channels: [memoryChannel({ channel: "email" })] });
    const error = await refusal(kit.campaigns.create({ actor: ADMIN, campaign: { ...withSms, id: "c" } }));
    expect(error.code).toBe("PREREQUISITES_UNMET");
    const problems = error.details.problems as { code: string; fix: string; subject: { path?: string } }[];
    expect(problems.map((p) => p.code)).toEqual(["CHANNEL_ADAPTER_MISSING"]);
    expect(problems[0]?.subject.path).toBe("actions.1.channel");
    expect(problems[0]?.fix).toContain("channels");
  });

  it("is refused at activation when the kit that activates it has no adapter", async () => {
    const storageKit = await seededKit({
      channels: [memoryChannel({ channel: "email" }), memoryChannel({ channel: "sms" })],
    });
    await storageKit.campaigns.create({ actor: ADMIN, campaign: { ...withSms, id: "c" } });
    const emailOnly = await createCampaignKit({
      storage: storageKit.storage,
      channels: [memoryChannel({ channel: "email" })],
    });
    const error = await refusal(emailOnly.campaigns.activate({ actor: ADMIN, id: "c" }));
    expect(error.code).toBe("PREREQUISITES_UNMET");
    expect(error.message).toContain("CHANNEL_ADAPTER_MISSING");
  });
});

describe("createCampaignKit options", () => {
  it.each([
    [
      "two adapters for one channel",
      { channels: [memoryChannel({ channel: "email" }), memoryChannel({ channel: "email", name: "other" })] },
      "channels.1",
    ],
    [
      "an adapter without send",
      { channels: [{ name: "x", channel: "email", capabilities: {} }] },
      "channels.0.send",
    ],
    [
      "an adapter on an unknown channel",
      { channels: [{ ...memoryChannel(), channel: "fax" }] },
      "channels.0.channel",
    ],
    ["channels that are not a list", { channels: memoryChannel() }, "channels"],
    [
      "an audience source without members",
      { audiences: { findProfiles: async () => new Map() } },
      "audiences.members",
    ],
    ["a non-positive claim time", { claimMs: 0 }, "claimMs"],
    ["an administrator that is not an id", { administrators: [""] }, "administrators.0"],
    ["storage missing methods", { storage: { getCampaign: async () => undefined } }, "storage"],
  ])("refuse %s, naming the option", async (_, options, path) => {
    const error = await refusal(createCampaignKit(options as unknown as CampaignKitOptions));
    expect(error.code).toBe("VALIDATION_FAILED");
    const issues = error.details.issues as { path: string }[];
    expect(issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain("createCampaignKit");
  });

  it("accepts a complete, well-formed set", async () => {
    const kit = await createCampaignKit({
      channels: [memoryChannel({ channel: "email" }), memoryChannel({ channel: "sms" })],
      audiences: memoryAudiences(),
      administrators: [ADMIN],
      claimMs: 5_000,
    });
    expect(kit.scheduler).toBeDefined();
  });
});

describe("untyped callers", () => {
  it("get VALIDATION_FAILED naming a missing or unknown intent", async () => {
    const kit = await seededKit();
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c" } });
    for (const intent of [undefined, "launch"]) {
      const error = await refusal(
        kit.campaigns.check({ actor: ADMIN, id: "c", intent } as unknown as Parameters<
          typeof kit.campaigns.check
        >[0]),
      );
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.message).toContain("intent");
      expect(error.message).not.toContain("undefined");
    }
  });

  it("get VALIDATION_FAILED naming a missing user or role", async () => {
    const kit = await seededKit();
    const assign = kit.roles.assign as unknown as (params: Record<string, unknown>) => Promise<unknown>;
    for (const [params, path] of [
      [{ actor: ADMIN, roleId: "campaign-manager" }, "userId"],
      [{ actor: ADMIN, userId: "ana" }, "roleId"],
    ] as const) {
      const error = await refusal(assign(params));
      expect(error.code).toBe("VALIDATION_FAILED");
      expect((error.details.issues as { path: string }[]).map((i) => i.path)).toContain(path);
    }
  });
});
