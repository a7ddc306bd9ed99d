/**
 * Templates that pass the prerequisite check render, and no template or context can make one message cost
 * without bound: what users rely on when authors write templates and callers send context.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { failure } from "../support/outcomes.js";
import { ADMIN, person, resetKit, type seededKit } from "./fixtures.js";

const tx = (text: string) => ({
  type: "api-triggered" as const,
  category: "transactional" as const,
  name: "Receipt",
  actions: [
    { channel: "email" as const, channelConfigurationId: "tx", content: { subject: "Receipt", text } },
  ],
});

const transactionalKit = (options: Parameters<typeof seededKit>[0] = {}) => resetKit(options, [person(1)]);

async function refusal(kit: CampaignKit, id: string, text: string) {
  return failure(kit.campaigns.create({ actor: ADMIN, campaign: { ...tx(text), id } }));
}

describe("the template check", () => {
  it.each([
    '{{"nosuchhelper" profile.firstName}}',
    '{{lookup ("nosuch" 1) "a"}}',
    "{{1 profile.firstName}}",
    "{{true profile.firstName}}",
    '{{#"nosuch" profile}}x{{/"nosuch"}}',
    "{{null profile.firstName}}",
  ])("refuses helpers named by literals: %s", async (text) => {
    const { kit } = await transactionalKit();
    const error = await refusal(kit, "bad", text);
    expect(isCampaignKitError(error, "PREREQUISITES_UNMET"), String(error)).toBe(true);
    const problems = (error as { details: { problems: { code: string }[] } }).details.problems;
    expect(problems.map((p) => p.code)).toContain("TEMPLATE_INVALID");
  });

  it("lets through only templates that render: no 'Missing helper' at send time (property)", async () => {
    const { kit, email } = await transactionalKit();
    const heads = [
      "fallback",
      "eq",
      "json",
      "lookup",
      "formatDate",
      "nosuch",
      '"nosuch"',
      '"json"',
      "1",
      "true",
    ];
    const args = [
      "profile.firstName",
      "context.code",
      '"x"',
      "1",
      '("nosuch" 1)',
      "(eq 1 1)",
      "(json context)",
    ];
    const mustache = fc
      .tuple(fc.constantFrom(...heads), fc.array(fc.constantFrom(...args), { maxLength: 3 }))
      .map(([head, params]) => `{{${[head, ...params].join(" ")}}}`);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mustache, { minLength: 1, maxLength: 3 }), async (parts) => {
        const id = `t${round++}`;
        const text = `Code: ${parts.join(" ")}`;
        if ((await refusal(kit, id, text)) !== undefined) return;
        await kit.campaigns.activate({ actor: ADMIN, id });
        const before = email.sent.length;
        const { executionId } = await kit.executions.triggerUnitary({
          actor: ADMIN,
          request: {
            requestId: id,
            campaignId: id,
            recipients: [
              { type: "aep", namespace: "email", userId: "p1@example.com", context: { code: "C" } },
            ],
          },
        });
        await kit.idle();
        const report = await kit.reports.execution({ actor: ADMIN, id: executionId });
        expect(report.outcomes.failed, `${text}: ${JSON.stringify(report)}`).toBe(0);
        expect(email.sent.length + report.outcomes.excluded).toBe(before + 1);
      }),
      { numRuns: 60 },
    );
  });
});

describe("the render budget", () => {
  const items = Array.from({ length: 3000 }, (_, i) => ({ name: `item ${i}`, tags: ["a", "b"] }));

  it.each([
    [
      "nested loops over a large context",
      "{{#each context.items}}{{#each ../context.items}}{{name}}{{/each}}{{/each}}",
    ],
    [
      "sections over a large context",
      "{{#context.items}}{{#../context.items}}{{name}}{{/../context.items}}{{/context.items}}",
    ],
    ["a context copied many times", `{{#each context.items}}{{json ../context}}{{/each}}`],
  ])("excludes a message grown by %s as render-too-large, counted, and sends the rest", async (_, text) => {
    const { kit, email } = await transactionalKit();
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...tx(text), id: "big" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "big" });
    const started = performance.now();
    const { executionId } = await kit.executions.triggerUnitary({
      actor: ADMIN,
      request: {
        requestId: "r",
        campaignId: "big",
        recipients: [{ type: "aep", namespace: "email", userId: "p1@example.com", context: { items } }],
      },
    });
    await kit.idle();
    expect(performance.now() - started).toBeLessThan(5_000);
    const report = await kit.reports.execution({ actor: ADMIN, id: executionId });
    expect(report.outcomes).toEqual({ sent: 0, failed: 0, excluded: 1 });
    expect(report.excludedByReason["render-too-large"]).toBe(1);
    expect(email.sent).toHaveLength(0);
  });

  it("sends a large message within the limit and excludes one past a lower configured limit", async () => {
    const small = await transactionalKit({ dispatcher: { maxMessageChars: 10_000 } });
    const text = "{{#each context.items}}{{name}},{{/each}}";
    for (const { kit } of [small]) {
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...tx(text), id: "list" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "list" });
    }
    const trigger = (kit: CampaignKit, count: number, requestId: string) =>
      kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId,
          campaignId: "list",
          recipients: [
            {
              type: "aep",
              namespace: "email",
              userId: "p1@example.com",
              context: { items: items.slice(0, count) },
            },
          ],
        },
      });
    await trigger(small.kit, 100, "fits");
    await trigger(small.kit, 3000, "too-big");
    await small.kit.idle();
    expect(small.email.sent).toHaveLength(1);
    const report = await small.kit.reports.campaign({ actor: ADMIN, id: "list" });
    expect(report.excludedByReason["render-too-large"]).toBe(1);
  });
});
