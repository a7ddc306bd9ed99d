import { describe, expect, it } from "vitest";
import { templateError } from "../../../src/dispatch/render/environment.js";
import { checkPrerequisites } from "../../../src/kit/prerequisites/check.js";

describe("templateError", () => {
  it("accepts the helpers campaign-kit renders with", () => {
    for (const source of [
      "Hi {{fallback profile.firstName 'there'}}",
      "{{formatDate context.at 'd MMMM yyyy' 'Europe/Paris'}}",
      "{{#if (eq profile.tier 'gold')}}30%{{else}}20%{{/if}}",
      "{{#each context.items}}{{this.name}}{{/each}}",
      "{{#with profile.person.name}}{{firstName}}{{/with}}",
      "{{#profile.items}}{{name}}{{/profile.items}}",
    ]) {
      expect(templateError(source), source).toBeUndefined();
    }
  });

  it("names unknown helpers wherever they are called, even in branches that may never run", () => {
    expect(templateError("{{#if profile.vip}}{{upper profile.name}}{{/if}}")).toEqual({
      reason: "unknown-helper",
      message: "Unknown helper 'upper'",
    });
    expect(templateError("{{#if (equals a b)}}x{{/if}} {{money context.total currency='EUR'}}")).toEqual({
      reason: "unknown-helper",
      message: "Unknown helpers 'equals', 'money'",
    });
  });

  it("renders JSON-safe values in webhook payloads with json", async () => {
    const { compileAction } = await import("../../../src/dispatch/render/compile.js");
    const action = compileAction({
      channel: "webhook",
      channelConfigurationId: "hook",
      // A space before the last brace: `}}}` would close a triple-stash.
      content: { payload: '{"name": {{json profile.name}}, "code": {{json context.code}} }' },
    });
    const rendered = action.render(
      {
        id: "p",
        identities: {},
        addresses: {},
        attributes: { name: 'Ana "the" \\ Great' },
        consent: {},
        suppressedChannels: [],
      },
      {},
    );
    expect(rendered.channel === "webhook" && JSON.parse(rendered.payload)).toEqual({
      name: 'Ana "the" \\ Great',
      code: null,
    });
  });

  it("reports syntax errors on one line", () => {
    expect(templateError("Hi {{name")).toMatchObject({
      reason: "syntax",
      message: expect.stringMatching(/^Parse error on line 1/),
    });
  });

  it("makes an unknown helper a prerequisite problem, not a send-time failure", () => {
    const result = checkPrerequisites({
      actor: { id: "root", roles: ["campaign-administrator"] },
      intent: "create",
      campaign: {
        type: "api-triggered",
        category: "transactional",
        name: "x",
        tags: [],
        identityNamespace: "email",
        deliveryControls: { deliveryWindowHours: 12 },
        apiTrigger: { createNewProfile: false, highThroughput: false },
        actions: [
          { channel: "sms", channelConfigurationId: "sms", content: { body: "{{shout context.code}}" } },
        ],
      },
      audience: undefined,
      configurations: new Map([
        [
          "sms",
          {
            id: "sms",
            name: "SMS",
            channel: "sms",
            purpose: "transactional",
            status: "active",
            settings: { provider: "p", senderNumber: "+33612345678" },
          },
        ],
      ]),
      now: new Date("2026-12-01T00:00:00Z"),
    });
    expect(result.problems).toEqual([
      {
        code: "TEMPLATE_INVALID",
        message: "The SMS body of the sms action calls a helper that doesn't exist: Unknown helper 'shout'.",
        fix: "Use the helpers campaign-kit provides at actions.0.content.body: if, unless, each, with, lookup, fallback, formatDate, eq, json.",
        subject: { kind: "action", path: "actions.0.content.body" },
      },
    ]);
  });
});

describe("templates that parse but could never render", () => {
  it("are refused before the campaign is made", () => {
    expect(templateError("Hi {{> footer}}")).toEqual({
      reason: "unsupported",
      message: "Partials ({{> name}}) are not supported: write the content inline",
    });
    expect(templateError("{{formatDate context.at 'YYYY-MM-DD'}}")).toMatchObject({
      reason: "unsupported",
      message: expect.stringMatching(/^formatDate pattern 'YYYY-MM-DD' is invalid/),
    });
    expect(templateError("{{formatDate context.at 'yyyy' 'Mars/Olympus'}}")).toEqual({
      reason: "unsupported",
      message: "formatDate zone 'Mars/Olympus' is not an IANA time zone",
    });
  });

  it("render a bad pattern arriving at send time as missing instead of failing the batch", async () => {
    const { formatDateHelper } = await import("../../../src/dispatch/render/helpers.js");
    expect(formatDateHelper("2026-12-01T09:00:00Z", "YYYY", { hash: {} })).toBe("");
    expect(formatDateHelper("2026-12-01T09:00:00Z", "d MMMM yyyy", "Europe/Paris", { hash: {} })).toBe(
      "1 December 2026",
    );
  });
});
