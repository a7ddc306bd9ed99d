import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ZodError, type ZodType } from "zod";
import { CampaignKitError } from "../../src/errors.js";
import { audienceSchema } from "../../src/model/audience.js";
import { campaignDraftSchema, campaignSchema } from "../../src/model/campaign.js";
import { channelConfigurationSchema } from "../../src/model/channel-configuration.js";
import { CHANNELS } from "../../src/model/common.js";
import { deliveryRecordSchema, executionSchema } from "../../src/model/execution.js";
import { parseWith, type ValidationIssue } from "../../src/model/parse.js";
import { profileSchema } from "../../src/model/profile.js";
import { roleSchema } from "../../src/model/roles.js";
import {
  audienceArb,
  campaignDraftArb,
  channelConfigurationArb,
  deliveryRecordArb,
  executionArb,
  profileArb,
  roleArb,
  storedFieldsArb,
} from "../support/arbitraries.js";

/** Parses `input`, then parses the output again: a schema must accept what it produced, unchanged. */
function expectRoundTrip(schema: ZodType, input: unknown): void {
  const once = parseWith(schema, input, "value");
  const twice = parseWith(schema, once, "value");
  expect(twice).toEqual(once);
}

const COMBINATIONS = [
  ["scheduled", "marketing"],
  ["scheduled", "transactional"],
  ["api-triggered", "marketing"],
  ["api-triggered", "transactional"],
] as const;

describe("every schema accepts what it produced", () => {
  it.each(COMBINATIONS)("campaign draft: %s %s", (type, category) => {
    fc.assert(
      fc.property(campaignDraftArb(type, category), (draft) => {
        expectRoundTrip(campaignDraftSchema, draft);
        const parsed = parseWith(campaignDraftSchema, draft, "campaign");
        expect([parsed.type, parsed.category, parsed.name]).toEqual([type, category, draft.name]);
        expect(parsed.actions.map((a) => a.channel)).toEqual(draft.actions.map((a) => a.channel));
      }),
    );
  });

  it.each(COMBINATIONS)("stored campaign: %s %s", (type, category) => {
    fc.assert(
      fc.property(campaignDraftArb(type, category), storedFieldsArb, (draft, stored) => {
        expectRoundTrip(campaignSchema, { ...draft, ...stored });
        const parsed = parseWith(campaignSchema, { ...draft, ...stored }, "campaign");
        expect(parsed.status).toBe(stored.status ?? "draft");
        expect(parsed.version).toBe(stored.version ?? 1);
        expect(parsed.createdAt).toEqual(new Date(stored.createdAt));
      }),
    );
  });

  it.each(CHANNELS)("channel configuration: %s", (channel) => {
    fc.assert(
      fc.property(channelConfigurationArb(channel), (config) =>
        expectRoundTrip(channelConfigurationSchema, config),
      ),
    );
  });

  it.each([
    ["audience", audienceSchema, audienceArb],
    ["profile", profileSchema, profileArb],
    ["execution", executionSchema, executionArb],
    ["delivery record", deliveryRecordSchema, deliveryRecordArb],
    ["role", roleSchema, roleArb],
  ] as const)("%s", (_, schema, arb) => {
    fc.assert(fc.property(arb as fc.Arbitrary<unknown>, (input) => expectRoundTrip(schema, input)));
  });

  it("fills defaults once and keeps them", () => {
    const parsed = parseWith(campaignDraftSchema, validDraft, "campaign");
    expect(parsed).toEqual({
      ...validDraft,
      tags: [],
      identityNamespace: "email",
      deliveryControls: { deliveryWindowHours: 12 },
    });
  });
});

const validDraft = {
  type: "scheduled",
  name: "Spring sale",
  category: "marketing",
  audienceId: "vip",
  actions: [{ channel: "email", channelConfigurationId: "news", content: { subject: "Hi", text: "Sale!" } }],
} as const;
const emailConfig = {
  id: "news",
  name: "Newsletter",
  purpose: "marketing",
  channel: "email",
  settings: { fromName: "Shop", fromAddress: "news@example.com", subdomain: "mail.example.com" },
} as const;

/** The issues of the VALIDATION_FAILED error `parseWith` throws; fails the test when it doesn't throw one. */
function issuesOf(schema: ZodType, input: unknown): ValidationIssue[] {
  try {
    parseWith(schema, input, "value");
  } catch (error) {
    expect(error).toBeInstanceOf(CampaignKitError);
    expect(error).not.toBeInstanceOf(ZodError);
    const kitError = error as CampaignKitError;
    expect(kitError.code).toBe("VALIDATION_FAILED");
    expect(kitError.cause).toBeInstanceOf(ZodError);
    const issues = kitError.details.issues as ValidationIssue[];
    for (const issue of issues)
      expect(kitError.message).toContain(`  - ${issue.path || "(root)"}: ${issue.message}`);
    return issues;
  }
  throw new Error("expected VALIDATION_FAILED");
}

const withControls = (deliveryControls: unknown, extra: object = {}) => ({
  ...validDraft,
  ...extra,
  deliveryControls,
});
const withSettings = (channel: string, settings: unknown) => ({ ...emailConfig, channel, settings });

describe("bad inputs fail with VALIDATION_FAILED and a readable path", () => {
  it.each<[string, ZodType, unknown, ValidationIssue[]]>([
    [
      "a number as name",
      campaignDraftSchema,
      { ...validDraft, name: 42 },
      [{ path: "name", message: "Invalid input: expected string, received number" }],
    ],
    [
      "an unknown type",
      campaignDraftSchema,
      { ...validDraft, type: "weekly" },
      [{ path: "type", message: "Expected `type` to be one of: scheduled, api-triggered" }],
    ],
    [
      "a string as estimated size",
      audienceSchema,
      { id: "a", name: "A", identityNamespace: "email", estimatedSize: "big" },
      [{ path: "estimatedSize", message: "Invalid input: expected number, received string" }],
    ],
    [
      "an unknown action channel",
      campaignDraftSchema,
      { ...validDraft, actions: [{ channel: "fax", channelConfigurationId: "c", content: {} }] },
      [{ path: "actions.0.channel", message: "Expected `channel` to be one of: email, sms, push, webhook" }],
    ],
    [
      "an unknown configuration channel",
      channelConfigurationSchema,
      withSettings("fax", {}),
      [{ path: "channel", message: "Expected `channel` to be one of: email, sms, push, webhook" }],
    ],
    [
      "an invalid from address",
      channelConfigurationSchema,
      withSettings("email", { ...emailConfig.settings, fromAddress: "news-at-example" }),
      [{ path: "settings.fromAddress", message: "Expected an email address such as 'news@example.com'" }],
    ],
    [
      "a national phone number",
      channelConfigurationSchema,
      withSettings("sms", { provider: "twilio", senderNumber: "0612345678" }),
      [{ path: "settings.senderNumber", message: "Expected an E.164 phone number such as '+33612345678'" }],
    ],
    [
      "an ftp webhook URL",
      channelConfigurationSchema,
      withSettings("webhook", { url: "ftp://example.com/hook" }),
      [{ path: "settings.url", message: "Expected an http(s) URL such as 'https://example.com/hook'" }],
    ],
    [
      "a webhook URL that is no URL",
      channelConfigurationSchema,
      withSettings("webhook", { url: "example dot com" }),
      [{ path: "settings.url", message: "Expected an http(s) URL such as 'https://example.com/hook'" }],
    ],
    [
      "endAt before startAt",
      campaignDraftSchema,
      { ...validDraft, schedule: { startAt: "2026-06-02T09:00:00Z", endAt: "2026-06-01T09:00:00Z" } },
      [{ path: "schedule.endAt", message: "`endAt` must be after `startAt`" }],
    ],
    [
      "endAt equal to startAt",
      campaignDraftSchema,
      {
        ...validDraft,
        schedule: { startAt: "2026-06-01T09:00:00Z", endAt: new Date("2026-06-01T09:00:00Z") },
      },
      [{ path: "schedule.endAt", message: "`endAt` must be after `startAt`" }],
    ],
    [
      "a rate of 2001/s",
      campaignDraftSchema,
      withControls({ rateLimit: 2001 }),
      [{ path: "deliveryControls.rateLimit", message: "The rate limit is at most 2000 messages per second" }],
    ],
    [
      "a rate of 0/s",
      campaignDraftSchema,
      withControls({ rateLimit: 0 }),
      [{ path: "deliveryControls.rateLimit", message: "The rate limit is at least 1 message per second" }],
    ],
    [
      "wave percentages summing to 90",
      campaignDraftSchema,
      withControls({ waves: { split: "percentages", percentages: [50, 40] } }),
      [{ path: "deliveryControls.waves.percentages", message: "Wave percentages must sum to 100" }],
    ],
    [
      "11 equal waves",
      campaignDraftSchema,
      withControls({ waves: { split: "equal", count: 11 } }),
      [{ path: "deliveryControls.waves.count", message: "Too big: expected number to be <=10" }],
    ],
    [
      "11 waves by count",
      campaignDraftSchema,
      withControls({ waves: { split: "counts", counts: Array(11).fill(5) } }),
      [{ path: "deliveryControls.waves.counts", message: "At most 10 waves" }],
    ],
    [
      "waves 10 minutes apart",
      campaignDraftSchema,
      withControls({ waves: { split: "equal", count: 2, intervalMinutes: 10 } }),
      [{ path: "deliveryControls.waves.intervalMinutes", message: "Waves are at least 30 minutes apart" }],
    ],
    [
      "two email actions",
      campaignDraftSchema,
      { ...validDraft, actions: [validDraft.actions[0], validDraft.actions[0]] },
      [{ path: "actions", message: "A campaign has at most one action per channel" }],
    ],
    [
      "a frequency cap on a transactional campaign",
      campaignDraftSchema,
      withControls({ frequencyCap: { max: 1, period: "day" } }, { category: "transactional" }),
      [
        {
          path: "deliveryControls.frequencyCap",
          message: "Frequency capping applies to marketing campaigns only",
        },
      ],
    ],
    [
      "an unknown schedule time zone",
      campaignDraftSchema,
      { ...validDraft, schedule: { timeZone: "Mars/Olympus_Mons" } },
      [
        {
          path: "schedule.timeZone",
          message: "Expected an IANA time zone name such as 'Europe/Paris' or 'UTC'",
        },
      ],
    ],
    [
      "an unknown profile time zone",
      profileSchema,
      { id: "ana", timeZone: "CEST" },
      [{ path: "timeZone", message: "Expected an IANA time zone name such as 'Europe/Paris' or 'UTC'" }],
    ],
    [
      "an instant without offset",
      campaignDraftSchema,
      { ...validDraft, schedule: { startAt: "2026-06-01T09:00:00" } },
      [
        {
          path: "schedule.startAt",
          message: "Expected a Date or an ISO 8601 date-time with an offset, such as '2026-12-01T09:00:00Z'",
        },
      ],
    ],
    [
      "an unknown permission",
      roleSchema,
      { id: "r", name: "R", permissions: ["campaign.read", "campaign.destroy"] },
      [{ path: "permissions.1", message: expect.stringContaining("campaign.read") as unknown as string }],
    ],
  ])("%s", (_, schema, input, expected) => {
    expect(issuesOf(schema, input)).toEqual(expected);
  });

  it("reports every issue at once, each with its path", () => {
    const issues = issuesOf(campaignDraftSchema, {
      ...validDraft,
      name: "",
      actions: [{ channel: "sms", channelConfigurationId: "", content: { body: "" } }],
      deliveryControls: { rateLimit: 2001 },
    });
    expect(issues.map((i) => i.path)).toEqual([
      "name",
      "actions.0.channelConfigurationId",
      "actions.0.content.body",
      "deliveryControls.rateLimit",
    ]);
  });

  it("names the root when the whole value has the wrong type", () => {
    expect(issuesOf(audienceSchema, "vip")).toEqual([
      { path: "", message: "Invalid input: expected object, received string" },
    ]);
  });
});
