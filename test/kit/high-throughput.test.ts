/**
 * High-throughput unitary campaigns (`apiTrigger.highThroughput`): each call sends from its payload alone,
 * with no profile look-up and no profile created; templates can't read `{{profile.*}}`.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import type { CampaignKitOptions } from "../../src/kit/create-campaign-kit.js";
import { checkPrerequisites } from "../../src/kit/prerequisites/check.js";
import { type CampaignDraftInput, campaignDraftSchema } from "../../src/model/campaign.js";
import type { AudienceSource } from "../../src/ports/audience-source.js";
import type { Storage } from "../../src/ports/storage.js";
import { transactionalConfiguration } from "../support/fixtures.js";
import { refusal } from "../support/outcomes.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, ana, seededKit } from "./fixtures.js";

const receipt = (highThroughput: boolean): CampaignDraftInput => ({
  type: "api-triggered",
  category: "transactional",
  name: "Receipt",
  identityNamespace: "email",
  apiTrigger: { highThroughput, createNewProfile: !highThroughput },
  actions: [
    {
      channel: "email",
      channelConfigurationId: "tx",
      content: { subject: "Receipt {{context.order}}", text: "Paid {{fallback context.amount '?'}}." },
    },
  ],
});

/** An audience source that counts the calls made to it. */
function countingAudiences(source: AudienceSource) {
  const calls = { findProfiles: 0, saveProfile: 0, members: 0 };
  const counted: AudienceSource = {
    members: (params) => {
      calls.members++;
      return source.members(params);
    },
    findProfiles: (params) => {
      calls.findProfiles++;
      return source.findProfiles(params);
    },
    saveProfile: (params) => {
      calls.saveProfile++;
      return source.saveProfile(params);
    },
  };
  return { counted, calls };
}

/** A storage that counts the calls made to each of its methods. */
function countingStorage(storage: Storage) {
  const calls = new Map<string, number>();
  const counted = new Proxy(storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return { counted, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
}

describe("the prerequisites of a high-throughput campaign", () => {
  const input = (subject: string, html?: string) => ({
    actor: { id: "ana", roles: ["campaign-administrator"] },
    intent: "activate" as const,
    campaign: campaignDraftSchema.parse({
      ...receipt(true),
      actions: [
        {
          channel: "email",
          channelConfigurationId: "tx",
          content: { subject, ...(html ? { html } : { text: "x" }) },
        },
      ],
    }),
    audience: undefined,
    configurations: new Map([["tx", transactionalConfiguration]]),
    now: new Date("2026-12-01T08:00:00Z"),
  });

  it.each([
    ["{{profile.firstName}}", ["profile.firstName"]],
    ["{{fallback profile.person.name.firstName 'there'}}", ["profile.person.name.firstName"]],
    ["{{#with profile}}{{firstName}}{{/with}}", ["profile"]],
    ["{{#each context.items}}{{@root.profile.city}}{{/each}}", ["profile.city"]],
    ["{{#if context.vip}}{{../profile.tier}}{{/if}}", ["profile.tier"]],
    ["{{lookup profile 'firstName'}}", ["profile"]],
  ])("refuses %s, naming the variable and the fix", (subject, variables) => {
    const { problems } = checkPrerequisites(input(subject));
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem).toMatchObject({
      code: "PROFILE_VARIABLE_IN_HIGH_THROUGHPUT",
      subject: { kind: "action", path: "actions.0.content.subject" },
    });
    for (const variable of variables) expect(problem?.message).toContain(`{{${variable}}}`);
    expect(problem?.fix).toContain("context");
  });

  it("passes context-only templates, and lists every field that reads a profile", () => {
    expect(checkPrerequisites(input("Receipt {{context.order}}")).problems).toEqual([]);
    const both = checkPrerequisites(input("Hi {{profile.a}}", "<p>{{profile.b}} {{profile.c}}</p>")).problems;
    expect(both.map((p) => p.subject.path)).toEqual(["actions.0.content.subject", "actions.0.content.html"]);
    expect(both[1]?.fix).toContain("{{context.b}}, {{context.c}}");
    // Off, the same template is fine: the campaign looks profiles up.
    const off = input("Hi {{profile.a}}");
    off.campaign = campaignDraftSchema.parse({ ...off.campaign, apiTrigger: { highThroughput: false } });
    expect(checkPrerequisites(off).problems).toEqual([]);
  });

  it("looks into every treatment of a content experiment", () => {
    const experiment = input("unused");
    experiment.campaign = campaignDraftSchema.parse({
      ...experiment.campaign,
      actions: [
        {
          channel: "email",
          channelConfigurationId: "tx",
          experiment: {
            metric: "opened",
            treatments: [
              { id: "a", percentage: 50, content: { subject: "Receipt {{context.order}}", text: "x" } },
              { id: "b", percentage: 50, content: { subject: "Hi {{profile.firstName}}", text: "x" } },
            ],
          },
        },
      ],
    });
    const { problems } = checkPrerequisites(experiment);
    expect(problems.map((p) => [p.code, p.subject.path])).toEqual([
      ["PROFILE_VARIABLE_IN_HIGH_THROUGHPUT", "actions.0.experiment.treatments.1.content.subject"],
    ]);
  });

  it("refuses the flag on a marketing campaign and with createNewProfile", () => {
    const marketing = campaignDraftSchema.safeParse({ ...receipt(true), category: "marketing" });
    expect(marketing.error?.issues.map((i) => i.path.join("."))).toEqual(["apiTrigger.highThroughput"]);
    const creating = campaignDraftSchema.safeParse({
      ...receipt(true),
      apiTrigger: { highThroughput: true, createNewProfile: true },
    });
    expect(creating.error?.issues.map((i) => i.path.join("."))).toEqual(["apiTrigger.createNewProfile"]);
  });
});

describe.each(storageTargets("high-throughput campaigns"))(
  "high-throughput unitary sends on $name",
  (target) => {
    async function setup(options: CampaignKitOptions = {}) {
      const email = memoryChannel({ channel: "email" });
      const storage = countingStorage(await target.create());
      const audiences = countingAudiences(memoryAudiences({ profiles: [ana] }));
      const kit = await seededKit({
        storage: storage.counted,
        channels: [email],
        audiences: audiences.counted,
        ...options,
      });
      await kit.configurations.register({
        actor: ADMIN,
        configuration: { ...transactionalConfiguration, id: "tx" },
      });
      for (const highThroughput of [true, false]) {
        const id = highThroughput ? "fast" : "profiled";
        await kit.campaigns.create({ actor: ADMIN, campaign: { ...receipt(highThroughput), id } });
        await kit.campaigns.activate({ actor: ADMIN, id });
      }
      return { kit, email, storage, audiences };
    }

    it("sends from channelData and context alone: no look-up, no profile created, no audience source needed", async () => {
      const { kit, email, audiences } = await setup({ audiences: undefined as unknown as AudienceSource });
      const accepted = await kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId: "order-1",
          campaignId: "fast",
          recipients: [
            {
              type: "aep",
              userId: "ana@example.com",
              namespace: "email",
              context: { order: "A-1", amount: "€12" },
            },
            {
              type: "external",
              userId: "guest-7",
              namespace: "email",
              channelData: { emailAddress: "guest@example.net" },
              context: { order: "A-2" },
            },
          ],
        },
      });
      await kit.executions.wait({ id: accepted.executionId });
      expect(email.sent.map((m) => [m.to, m.content])).toEqual([
        ["ana@example.com", { channel: "email", subject: "Receipt A-1", text: "Paid €12." }],
        ["guest@example.net", { channel: "email", subject: "Receipt A-2", text: "Paid ?." }],
      ]);
      expect(audiences.calls).toEqual({ findProfiles: 0, saveProfile: 0, members: 0 });
      const execution = await kit.executions.get({ actor: ADMIN, id: accepted.executionId });
      expect(execution.recipients?.map((r) => r.profile)).toEqual([
        expect.objectContaining({ id: "email:ana@example.com", attributes: {} }),
        expect.objectContaining({ id: "email:guest-7", addresses: { email: "guest@example.net" } }),
      ]);
    });

    it("counts a recipient without an address as excluded, sends the others, and answers a repeat once", async () => {
      const { kit, email, audiences } = await setup();
      const request = {
        requestId: "order-2",
        campaignId: "fast",
        recipients: [
          { type: "external" as const, userId: "no-address", namespace: "ecid", context: { order: "B" } },
          { type: "aep" as const, userId: "bo@example.com", namespace: "email", context: { order: "C" } },
        ],
      };
      const first = await kit.executions.triggerUnitary({ actor: ADMIN, request });
      await kit.executions.wait({ id: first.executionId });
      const again = await kit.executions.triggerUnitary({ actor: ADMIN, request });
      expect(again).toMatchObject({ executionId: first.executionId, created: false });
      expect(email.sent.map((m) => m.to)).toEqual(["bo@example.com"]);
      const report = await kit.reports.execution({ actor: ADMIN, id: first.executionId });
      expect(report.outcomes).toEqual({ sent: 1, failed: 0, excluded: 1 });
      // An unknown `aep` recipient is neither refused nor created: its payload is all it takes.
      expect(audiences.calls.saveProfile).toBe(0);
      expect(
        await memoryAudiences({ profiles: [ana] }).findProfiles({
          namespace: "email",
          values: ["bo@example.com"],
        }),
      ).toEqual(new Map());
    });

    it("refuses profile attributes in the payload, saying to move them to context", async () => {
      const { kit, email } = await setup();
      const error = await refusal(
        kit.executions.triggerUnitary({
          actor: ADMIN,
          request: {
            requestId: "order-3",
            campaignId: "fast",
            recipients: [
              { type: "aep", userId: "ana@example.com", namespace: "email", context: { order: "D" } },
              { type: "aep", userId: "bo@example.com", namespace: "email", profile: { firstName: "Bo" } },
            ],
          },
        }),
      );
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.details).toMatchObject({ issues: [{ path: "recipients.1.profile" }] });
      expect(error.message).toContain("move these values to `context`");
      expect(email.sent).toEqual([]);
    });

    it("makes no audience call per trigger, where the profiled path makes one or two (measured)", async () => {
      const { kit, storage, audiences } = await setup();
      const figures: Record<string, { audience: number; storage: number }> = {};
      const calls = 20;
      for (const campaignId of ["profiled", "fast"]) {
        const before = {
          audience: audiences.calls.findProfiles + audiences.calls.saveProfile,
          storage: storage.total(),
        };
        for (let i = 0; i < calls; i++) {
          const accepted = await kit.executions.triggerUnitary({
            actor: ADMIN,
            request: {
              requestId: `${campaignId}-${i}`,
              campaignId,
              // Known, then a new profile each call: the profiled path looks both up and creates the second.
              recipients: [
                { type: "aep", userId: "ana@example.com", namespace: "email", context: { order: `${i}` } },
                {
                  type: "aep",
                  userId: `new-${i}@example.com`,
                  namespace: "email",
                  context: { order: `${i}` },
                },
              ],
            },
          });
          await kit.executions.wait({ id: accepted.executionId });
        }
        figures[campaignId] = {
          audience: (audiences.calls.findProfiles + audiences.calls.saveProfile - before.audience) / calls,
          storage: (storage.total() - before.storage) / calls,
        };
      }
      console.log(`${target.name}: calls per unitary trigger of 2 recipients`, JSON.stringify(figures));
      expect(figures.profiled?.audience).toBe(2); // one findProfiles, one saveProfile
      expect(figures.fast?.audience).toBe(0);
      expect(figures.fast?.storage).toBeLessThanOrEqual(figures.profiled?.storage as number);
    });
  },
);
