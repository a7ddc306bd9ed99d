/**
 * Every recipient ends counted: per action, sent + failed + excluded (+ interrupted) = recipients considered,
 * in the kit's reports, on memory and PostgreSQL, whatever mix of exclusions and failures a batch holds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { type MemoryChannelOptions, memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Profile } from "../../src/model/profile.js";
import type { Storage } from "../../src/ports/storage.js";
import { storageTargets } from "../support/storages.js";
import {
  ADMIN,
  emailConfiguration,
  kitClock,
  people,
  person,
  promotion,
  smsConfiguration,
} from "./fixtures.js";

async function kitWith(storage: Storage, profiles: Profile[], failFor?: MemoryChannelOptions["failFor"]) {
  const email = memoryChannel({ channel: "email", ...(failFor ? { failFor } : {}) });
  const sms = memoryChannel({ channel: "sms" });
  const kit = await createCampaignKit({
    storage,
    clock: kitClock(),
    channels: [email, sms],
    audiences: memoryAudiences({ audiences: { vip: profiles } }),
    administrators: [ADMIN],
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  await kit.configurations.register({ actor: ADMIN, configuration: smsConfiguration });
  return { kit, email, sms };
}

describe.each(storageTargets("the counting tests"))(
  "reports count every recipient on $name storage",
  (target) => {
    it.each([
      { withoutConsent: 100, sent: 150 },
      { withoutConsent: 150, sent: 100 },
      { withoutConsent: 250, sent: 0 },
    ])(
      "counts $withoutConsent exclusions of 250 when whole batches are excluded",
      async ({ withoutConsent, sent }) => {
        const profiles = Array.from({ length: 250 }, (_, i) =>
          person(i, i < withoutConsent ? { consent: {} } : {}),
        );
        const { kit, email } = await kitWith(await target.create(), profiles);
        await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "promo" } });
        await kit.campaigns.activate({ actor: ADMIN, id: "promo" });
        await kit.scheduler.tick();
        const report = await kit.reports.campaign({ actor: ADMIN, id: "promo" });
        expect(email.sent).toHaveLength(sent);
        expect(report.outcomes).toEqual({ sent, failed: 0, excluded: withoutConsent });
        expect(report.excludedByReason["no-consent"]).toBe(withoutConsent);
        expect(report.targeted).toBe(250);
      },
    );

    it("counts every recipient excluded for a missing context variable", async () => {
      const profiles = people(250);
      const { kit, email } = await kitWith(await target.create(), profiles);
      await kit.campaigns.create({
        actor: ADMIN,
        campaign: {
          ...promotion,
          id: "ctx",
          type: "api-triggered",
          actions: [
            {
              channel: "email",
              channelConfigurationId: "email-marketing",
              content: { subject: "Offer", text: "Your code: {{context.code}}" },
            },
          ],
        },
      });
      await kit.campaigns.activate({ actor: ADMIN, id: "ctx" });
      const { executionId } = await kit.executions.triggerAudience({
        actor: ADMIN,
        request: { campaignId: "ctx", requestId: "r1" },
      });
      await kit.idle();
      const report = await kit.reports.execution({ actor: ADMIN, id: executionId });
      expect(email.sent).toHaveLength(0);
      expect(report.outcomes).toEqual({ sent: 0, failed: 0, excluded: 250 });
      expect(report.excludedByReason["missing-variable"]).toBe(250);
    });
  },
);

describe("per action, sent + failed + excluded = recipients considered (property)", () => {
  const recipientArb = fc.record({
    consentEmail: fc.boolean(),
    consentSms: fc.boolean(),
    phone: fc.boolean(),
    suppressed: fc.boolean(),
    named: fc.boolean(),
    fault: fc.constantFrom(undefined, "permanent" as const, "retryable" as const),
  });

  it("holds for any mix of exclusions and failures across batches", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recipientArb, { minLength: 1, maxLength: 260 }), async (recipients) => {
        const profiles = recipients.map((r, i) =>
          person(i, {
            consent: { email: r.consentEmail, sms: r.consentSms },
            addresses: r.phone ? { sms: `+3361234${String(i).padStart(4, "0")}` } : {},
            suppressedChannels: r.suppressed ? ["email"] : [],
            attributes: r.named ? { firstName: `N${i}` } : {},
          }),
        );
        const faults = new Map(profiles.map((p, i) => [p.id, recipients[i]?.fault]));
        const { kit } = await kitWith(memoryStorage(), profiles, (message) =>
          faults.get(message.recipientId),
        );
        await kit.campaigns.create({
          actor: ADMIN,
          campaign: {
            ...promotion,
            id: "mix",
            actions: [
              {
                channel: "email",
                channelConfigurationId: "email-marketing",
                content: { subject: "Hi {{profile.firstName}}", text: "Sale" },
              },
              { channel: "sms", channelConfigurationId: "sms-marketing", content: { body: "Sale" } },
            ],
          },
        });
        await kit.campaigns.activate({ actor: ADMIN, id: "mix" });
        await kit.scheduler.tick();
        const report = await kit.reports.campaign({ actor: ADMIN, id: "mix" });
        for (const channel of ["email", "sms"] as const) {
          const counts = report.byChannel[channel] ?? { sent: 0, failed: 0, excluded: 0 };
          expect(counts.sent + counts.failed + counts.excluded, channel).toBe(profiles.length);
        }
        expect(report.targeted).toBe(profiles.length);
      }),
      { numRuns: 40 },
    );
  });
});
