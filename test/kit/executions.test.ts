import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { toProblemDocument } from "../../src/http/problems.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { CampaignDraftInput } from "../../src/model/campaign.js";
import { rejection } from "../support/outcomes.js";
import { ADMIN, kitClock, people, person, promotion, seededKit } from "./fixtures.js";

const resetEmail: CampaignDraftInput = {
  type: "api-triggered",
  category: "transactional",
  name: "Password reset",
  identityNamespace: "email",
  actions: [
    {
      channel: "email",
      channelConfigurationId: "email-transactional",
      content: {
        subject: "Reset your password, {{profile.person.name.firstName}}",
        text: "Follow {{context.resetLink}} within the hour.",
      },
    },
  ],
};

const otpSms: CampaignDraftInput = {
  type: "api-triggered",
  category: "transactional",
  name: "One-time code",
  identityNamespace: "phone",
  apiTrigger: { createNewProfile: true },
  actions: [
    {
      channel: "sms",
      channelConfigurationId: "sms-transactional",
      content: {
        body: "Your {{fallback context.product.name 'Acme'}} code is {{fallback context.offerCode 'none'}}",
      },
    },
  ],
};

const known = {
  ...person(1),
  identities: { email: "ana@example.com", phone: "1234567890" },
  addresses: { sms: "+33600000001" },
  attributes: { person: { name: { firstName: "Ana" } } },
};

async function setup() {
  const clock = kitClock();
  const email = memoryChannel({ channel: "email" });
  const sms = memoryChannel({ channel: "sms" });
  const members = people(12, 10);
  const audiences = memoryAudiences({ audiences: { vip: members }, profiles: [known, ...members] });
  const kit = await seededKit({ clock, channels: [email, sms], audiences });
  for (const [id, channel, settings] of [
    [
      "email-transactional",
      "email",
      { fromName: "Acme", fromAddress: "no-reply@mail.acme.example", subdomain: "mail.acme.example" },
    ],
    ["sms-transactional", "sms", { provider: "memory", senderNumber: "+33612345670" }],
  ] as const) {
    await kit.configurations.register({
      actor: ADMIN,
      configuration: { id, name: id, channel, purpose: "transactional", status: "active", settings } as never,
    });
  }
  await kit.campaigns.create({ actor: ADMIN, campaign: { ...resetEmail, id: "reset" } });
  await kit.campaigns.activate({ actor: ADMIN, id: "reset" });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: { ...otpSms, id: "10e2583b-4d1d-4b57-bd6e-fdc79405d67d" },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "10e2583b-4d1d-4b57-bd6e-fdc79405d67d" });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      ...promotion,
      type: "api-triggered",
      id: "flash",
      actions: [
        {
          channel: "email",
          channelConfigurationId: "email-marketing",
          content: {
            subject: "{{context.product}} for {{profile.firstName}}",
            text: "Code {{context.code}}",
          },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "flash" });
  return { kit, clock, email, sms, audiences };
}

async function problem(kit: CampaignKit, promise: Promise<unknown>) {
  void kit;
  return toProblemDocument(await rejection(promise));
}

describe("API-triggered executions", () => {
  it("accepts the reference unitary SMS payloads verbatim, context personalizing each recipient", async () => {
    const { kit, sms, audiences } = await setup();
    const accepted = await kit.executions.triggerUnitary({
      actor: ADMIN,
      request: JSON.parse(`{
        "requestId": "3126743632163793",
        "campaignId": "10e2583b-4d1d-4b57-bd6e-fdc79405d67d",
        "recipients": [
          { "type": "aep", "namespace": "phone", "userId": "1234567890" },
          {
            "type": "aep", "namespace": "phone", "userId": "test@gmail.com",
            "channelData": { "mobilePhoneNumber": "0921234567" },
            "context": { "product": { "name": "Jackets", "category": "Clothes" }, "offerCode": "THANKSGIVING" }
          }
        ]
      }`),
    });
    expect(accepted).toMatchObject({ requestId: "3126743632163793", created: true });
    await kit.executions.wait({ id: accepted.executionId });
    expect(sms.sent.map((m) => [m.to, m.content])).toEqual([
      ["+33600000001", { channel: "sms", body: "Your Acme code is none" }],
      ["0921234567", { channel: "sms", body: "Your Jackets code is THANKSGIVING" }],
    ]);
    // createNewProfile: the unknown recipient became a profile.
    expect((await audiences.findProfiles({ namespace: "phone", values: ["test@gmail.com"] })).size).toBe(1);
    expect(await kit.executions.status({ actor: ADMIN, id: accepted.executionId })).toMatchObject({
      status: "Succeeded",
      targetedProfileCount: 2,
    });
  });

  it("accepts a unitary email with context and profile, and the same requestId sends nothing more", async () => {
    const { kit, email } = await setup();
    const request = {
      requestId: "reset-42",
      campaignId: "reset",
      recipients: [
        {
          type: "aep" as const,
          namespace: "email",
          userId: "ana@example.com",
          context: { resetLink: "https://acme.example/reset?t=abc" },
          profile: { person: { name: { firstName: "Anabel" } } },
        },
      ],
    };
    const first = await kit.executions.triggerUnitary({ actor: ADMIN, request });
    await kit.executions.wait({ id: first.executionId });
    expect(email.sent.map((m) => [m.to, m.content])).toEqual([
      [
        "ana@example.com",
        {
          channel: "email",
          subject: "Reset your password, Anabel",
          text: "Follow https://acme.example/reset?t=abc within the hour.",
        },
      ],
    ]);
    const again = await kit.executions.triggerUnitary({ actor: ADMIN, request });
    await kit.idle();
    expect(again).toEqual({ ...first, created: false });
    expect(email.sent).toHaveLength(1);
  });

  it("rejects an unknown recipient by name when the campaign creates no profiles", async () => {
    const { kit } = await setup();
    const doc = await problem(
      kit,
      kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId: "r",
          campaignId: "reset",
          recipients: [{ type: "aep", namespace: "email", userId: "ghost@example.com" }],
        },
      }),
    );
    expect(doc).toMatchObject({
      status: 422,
      report: { additionalContext: { code: "UNKNOWN_RECIPIENT", userIds: ["ghost@example.com"] } },
    });
  });

  it("accepts the reference audience payload with context, now or at executeAt, cancellable before it fires", async () => {
    const { kit, clock, email } = await setup();
    const now = await kit.executions.triggerAudience({
      actor: ADMIN,
      request: {
        campaignId: "flash",
        requestId: "flash-1",
        audience: { id: "vip" },
        context: { product: "Boots", code: "B10" },
      },
    });
    await kit.executions.wait({ id: now.executionId });
    expect(email.sent).toHaveLength(12);
    expect(email.sent[0]?.content).toEqual({
      channel: "email",
      subject: "Boots for Name10",
      text: "Code B10",
    });
    expect(await kit.executions.status({ actor: ADMIN, id: now.executionId })).toEqual({
      executionId: now.executionId,
      campaignId: "flash",
      audienceId: "vip",
      status: "Succeeded",
      targetedProfileCount: 12,
      createdAt: now.createdAt,
    });

    const later = await kit.executions.triggerAudience({
      actor: ADMIN,
      request: {
        campaignId: "flash",
        requestId: "flash-2",
        context: { product: "Hats", code: "H" },
        schedule: { executeAt: "2026-12-01T10:00:00Z" },
      },
    });
    const cancelled = await kit.executions.triggerAudience({
      actor: ADMIN,
      request: {
        campaignId: "flash",
        requestId: "flash-3",
        context: { product: "Socks", code: "S" },
        schedule: { executeAt: "2026-12-01T10:00:00Z" },
      },
    });
    expect((await kit.executions.status({ actor: ADMIN, id: later.executionId })).status).toBe("Scheduled");
    await kit.executions.cancel({ actor: ADMIN, id: cancelled.executionId });
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(12);
    await clock.set("2026-12-01T10:00:00Z");
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(24);
    expect(email.sent.at(-1)?.content).toMatchObject({ subject: expect.stringMatching(/^Hats for /) });
    expect((await kit.executions.status({ actor: ADMIN, id: cancelled.executionId })).status).toBe(
      "Cancelled",
    );
  });

  const recipient = { type: "aep", namespace: "email", userId: "ana@example.com" };
  const bad: [string, unknown, string, number][] = [
    ["no recipients", { requestId: "r", campaignId: "reset", recipients: [] }, "recipients", 400],
    [
      "21 recipients",
      {
        requestId: "r",
        campaignId: "reset",
        recipients: Array.from({ length: 21 }, (_, i) => ({ ...recipient, userId: `u${i}` })),
      },
      "recipients",
      400,
    ],
    [
      "duplicate user ids",
      { requestId: "r", campaignId: "reset", recipients: [recipient, recipient] },
      "recipients.1.userId",
      400,
    ],
    ["missing campaign id", { requestId: "r", recipients: [recipient] }, "campaignId", 400],
    [
      "201 KB of context",
      {
        requestId: "r",
        campaignId: "reset",
        recipients: [{ ...recipient, context: { blob: "x".repeat(201 * 1024) } }],
      },
      "recipients.0.context",
      400,
    ],
    [
      "context.system",
      { requestId: "r", campaignId: "reset", recipients: [{ ...recipient, context: { system: {} } }] },
      "recipients.0.context.system",
      400,
    ],
    ["a wrong type", { requestId: 42, campaignId: "reset", recipients: [recipient] }, "requestId", 400],
    [
      "an unknown recipient type",
      { requestId: "r", campaignId: "reset", recipients: [{ ...recipient, type: "crm" }] },
      "recipients.0.type",
      400,
    ],
  ];
  for (const [name, request, path, status] of bad) {
    it(`rejects ${name} with a problem document naming ${path}`, async () => {
      const { kit, email } = await setup();
      const doc = await problem(
        kit,
        kit.executions.triggerUnitary({ actor: ADMIN, request: request as never }),
      );
      expect(doc.status).toBe(status);
      expect(doc.report.additionalContext.code).toBe("VALIDATION_FAILED");
      const paths = (doc.report.additionalContext.issues as { path: string }[]).map((i) => i.path);
      expect(paths).toContain(path);
      expect(email.sent).toHaveLength(0);
    });
  }

  it("rejects calls on a missing, stopped or out-of-window campaign", async () => {
    const { kit, clock } = await setup();
    const call = (campaignId: string) =>
      problem(
        kit,
        kit.executions.triggerUnitary({
          actor: ADMIN,
          request: { requestId: "r", campaignId, recipients: [recipient as never] },
        }),
      );
    expect((await call("nope")).report.additionalContext.code).toBe("NOT_FOUND");
    await kit.campaigns.create({
      actor: ADMIN,
      campaign: { ...resetEmail, id: "windowed", schedule: { endAt: "2026-12-02T00:00:00Z" } },
    });
    await kit.campaigns.activate({ actor: ADMIN, id: "windowed" });
    await clock.set("2026-12-02T00:00:01Z");
    expect((await call("windowed")).report.additionalContext.code).toBe("OUTSIDE_WINDOW");
    await kit.campaigns.stop({ actor: ADMIN, id: "reset" });
    expect((await call("reset")).report.additionalContext.code).toBe("CAMPAIGN_NOT_LIVE");
    expect((await call("flash")).report.additionalContext.code).toBe("WRONG_CAMPAIGN_TYPE");
  });

  it("refuses a deferred executeAt outside the campaign's window", async () => {
    const { kit } = await setup();
    await kit.campaigns.create({
      actor: ADMIN,
      campaign: {
        ...promotion,
        type: "api-triggered",
        id: "short",
        schedule: { endAt: "2026-12-01T10:00:00Z" },
      },
    });
    await kit.campaigns.activate({ actor: ADMIN, id: "short" });
    const doc = await problem(
      kit,
      kit.executions.triggerAudience({
        actor: ADMIN,
        request: { campaignId: "short", requestId: "late", schedule: { executeAt: "2026-12-05T09:00:00Z" } },
      }),
    );
    expect(doc).toMatchObject({ status: 422, report: { additionalContext: { code: "OUTSIDE_WINDOW" } } });
  });

  it("answers a retried request id with its execution even after the campaign stopped", async () => {
    const { kit, email } = await setup();
    const request = {
      requestId: "retry-me",
      campaignId: "reset",
      recipients: [
        { type: "aep" as const, namespace: "email", userId: "ana@example.com", context: { resetLink: "x" } },
      ],
    };
    const first = await kit.executions.triggerUnitary({ actor: ADMIN, request });
    await kit.idle();
    await kit.campaigns.stop({ actor: ADMIN, id: "reset" });
    const retried = await kit.executions.triggerUnitary({ actor: ADMIN, request });
    expect(retried).toEqual({ ...first, created: false });
    expect(email.sent).toHaveLength(1);
  });
});
