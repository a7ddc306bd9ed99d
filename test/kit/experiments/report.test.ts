/**
 * Content experiments through the kit, on memory and PostgreSQL: campaigns made and edited with them (and
 * refused with a clear message when the split is wrong), sent by the scheduler, and reported per treatment
 * with conversions from feedback, the holdout and a winner only when it is significant.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../../src/drivers/memory/channel.js";
import { isCampaignKitError } from "../../../src/errors.js";
import { createCampaignKit } from "../../../src/kit/create-campaign-kit.js";
import type { CampaignDraftInput } from "../../../src/model/campaign.js";
import type { OutboundMessage } from "../../../src/ports/channel.js";
import type { Storage } from "../../../src/ports/storage.js";
import { storageTargets } from "../../support/storages.js";
import { ADMIN, emailConfiguration, kitClock, people, promotion } from "../fixtures.js";
import { recordFeedback, recordHoldoutConversion } from "./feedback.js";

const experimentPromotion = (experiment: object = {}): CampaignDraftInput => ({
  ...promotion,
  actions: [
    {
      channel: "email",
      channelConfigurationId: "email-marketing",
      experiment: {
        metric: "clicked",
        holdoutPercentage: 10,
        treatments: [
          {
            id: "control",
            name: "Plain",
            percentage: 45,
            content: { subject: "Winter sale", text: "Sale on." },
          },
          {
            id: "urgent",
            name: "Urgent",
            percentage: 45,
            content: { subject: "Last days, {{profile.firstName}}!", text: "Hurry." },
          },
        ],
        ...experiment,
      },
    },
  ],
});

/** Sent messages by treatment (Node 20 has no `Map.groupBy`). */
function byTreatmentOf(messages: readonly OutboundMessage[]): Map<string | undefined, OutboundMessage[]> {
  const groups = new Map<string | undefined, OutboundMessage[]>();
  for (const message of messages)
    groups.set(message.treatmentId, [...(groups.get(message.treatmentId) ?? []), message]);
  return groups;
}

async function kitOn(storage: Storage, size: number) {
  const email = memoryChannel({ channel: "email" });
  const kit = await createCampaignKit({
    storage,
    clock: kitClock(),
    channels: [email],
    audiences: memoryAudiences({ audiences: { vip: people(size) } }),
    administrators: [ADMIN],
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  return { kit, email };
}

describe.each(storageTargets("the experiment report tests"))(
  "content experiments on $name storage",
  (target) => {
    it("refuses a wrong split with the path and the fix, and accepts a corrected one through update", async () => {
      const { kit } = await kitOn(await target.create(), 10);
      const error = await kit.campaigns
        .create({
          actor: ADMIN,
          campaign: { ...experimentPromotion({ holdoutPercentage: 20 }), id: "x" },
        })
        .catch((e: unknown) => e);
      expect(isCampaignKitError(error, "VALIDATION_FAILED")).toBe(true);
      if (!isCampaignKitError(error, "VALIDATION_FAILED")) return;
      expect(error.details.issues).toEqual([
        {
          path: "actions.0.experiment.treatments",
          message:
            "The treatments' percentages (45 + 45) and the holdout (20) sum to 110, not 100; adjust them",
        },
      ]);
      const single = await kit.campaigns
        .create({
          actor: ADMIN,
          campaign: {
            ...experimentPromotion({
              holdoutPercentage: 0,
              treatments: [{ id: "only", percentage: 100, content: { subject: "S", text: "T" } }],
            }),
            id: "x",
          },
        })
        .catch((e: unknown) => e);
      expect((single as Error).message).toContain("An experiment compares 2 to 5 treatments; this one has 1");

      const created = await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "x" } });
      expect(created.actions[0]?.experiment).toBeUndefined();
      const badTemplate = await kit.campaigns
        .update({
          actor: ADMIN,
          id: "x",
          changes: {
            actions: experimentPromotion({
              treatments: [
                { id: "a", percentage: 45, content: { subject: "S", text: "T" } },
                { id: "b", percentage: 45, content: { subject: "S", text: "{{#if profile.vip}}VIP" } },
              ],
            }).actions,
          },
        })
        .catch((e: unknown) => e);
      expect(isCampaignKitError(badTemplate, "PREREQUISITES_UNMET")).toBe(true);
      if (!isCampaignKitError(badTemplate, "PREREQUISITES_UNMET")) return;
      expect(badTemplate.details.problems).toMatchObject([
        {
          code: "TEMPLATE_INVALID",
          subject: { kind: "action", path: "actions.0.experiment.treatments.1.content.text" },
        },
      ]);
      expect(badTemplate.details.problems[0]?.message).toContain("of treatment 'b' of the email action");

      const updated = await kit.campaigns.update({
        actor: ADMIN,
        id: "x",
        changes: { actions: experimentPromotion().actions },
      });
      expect(updated.actions[0]?.content).toBeUndefined();
      expect(updated.actions[0]?.experiment?.treatments.map((t) => t.id)).toEqual(["control", "urgent"]);
      expect((await kit.campaigns.get({ actor: ADMIN, id: "x" })).actions).toEqual(updated.actions);
    });

    it("reports exposures, conversions, the holdout and a significant winner", async () => {
      const storage = await target.create();
      const { kit, email } = await kitOn(storage, 3000);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...experimentPromotion(), id: "exp" } });
      await kit.campaigns.activate({ actor: ADMIN, id: "exp" });
      await kit.scheduler.tick();

      const byTreatment = byTreatmentOf(email.sent);
      const control = byTreatment.get("control") ?? [];
      const urgent = byTreatment.get("urgent") ?? [];
      expect(control.length + urgent.length).toBe(email.sent.length);
      // Simulated feedback: 8 % of the control clicks, 16 % of the urgent treatment; 300 open.
      await recordFeedback(
        kit,
        control.filter((_, i) => i % 25 < 2),
        "clicked",
      );
      await recordFeedback(
        kit,
        urgent.filter((_, i) => i % 25 < 4),
        "clicked",
      );
      await recordFeedback(kit, email.sent.slice(0, 300), "opened");

      const delivery = await kit.reports.campaign({ actor: ADMIN, id: "exp" });
      const heldOut = delivery.excludedByReason.holdout;
      expect(heldOut).toBe(3000 - email.sent.length);
      expect(heldOut / 3000).toBeGreaterThan(0.08);
      expect(heldOut / 3000).toBeLessThan(0.12);
      expect(delivery.byTreatment).toEqual({
        control: { sent: control.length, failed: 0, excluded: 0 },
        urgent: { sent: urgent.length, failed: 0, excluded: 0 },
        holdout: { sent: 0, failed: 0, excluded: heldOut },
      });

      const report = await kit.reports.experiment({ actor: ADMIN, id: "exp" });
      const controlClicks = control.filter((_, i) => i % 25 < 2).length;
      const urgentClicks = urgent.filter((_, i) => i % 25 < 4).length;
      expect(report).toMatchObject({
        campaignId: "exp",
        channel: "email",
        experimentId: "exp:email",
        metric: "clicked",
        confidence: 0.95,
        holdout: { percentage: 10, recipients: heldOut, conversions: 0, rate: 0 },
        winner: "urgent",
      });
      expect(report.treatments).toEqual([
        {
          id: "control",
          name: "Plain",
          control: true,
          percentage: 45,
          exposed: control.length,
          failed: 0,
          excluded: 0,
          conversions: controlClicks,
          rate: controlClicks / control.length,
        },
        {
          id: "urgent",
          name: "Urgent",
          control: false,
          percentage: 45,
          exposed: urgent.length,
          failed: 0,
          excluded: 0,
          conversions: urgentClicks,
          rate: urgentClicks / urgent.length,
          probabilityToBeatControl: expect.any(Number),
        },
      ]);
      expect(report.treatments[1]?.probabilityToBeatControl).toBeGreaterThan(0.999);

      // Opens are another metric: they don't count as clicks. A stricter threshold still holds.
      const strict = await kit.reports.experiment({ actor: ADMIN, id: "exp", confidence: 0.99 });
      expect(strict.confidence).toBe(0.99);
      expect(strict.winner).toBe("urgent");
    });

    it("names no winner while the difference is not significant, and counts the holdout's custom conversions", async () => {
      const storage = await target.create();
      const { kit, email } = await kitOn(storage, 400);
      await kit.campaigns.create({
        actor: ADMIN,
        campaign: { ...experimentPromotion({ metric: "custom:purchase" }), id: "small" },
      });
      await kit.campaigns.activate({ actor: ADMIN, id: "small" });
      await kit.scheduler.tick();
      const byTreatment = byTreatmentOf(email.sent);
      await recordFeedback(kit, (byTreatment.get("control") ?? []).slice(0, 10), "custom:purchase");
      await recordFeedback(kit, (byTreatment.get("urgent") ?? []).slice(0, 13), "custom:purchase");
      // A purchase by a held-out recipient, recorded against their holdout record's message id.
      await recordHoldoutConversion(storage, {
        campaignId: "small",
        recipientId: "someone",
        type: "custom:purchase",
      });

      const report = await kit.reports.experiment({ actor: ADMIN, id: "small" });
      expect(report.metric).toBe("custom:purchase");
      expect(report.treatments.map((t) => t.conversions)).toEqual([10, 13]);
      expect(report.treatments[1]?.probabilityToBeatControl).toBeGreaterThan(0.5);
      expect(report.treatments[1]?.probabilityToBeatControl).toBeLessThan(0.95);
      expect(report.winner).toBeUndefined();
      expect(report.holdout?.conversions).toBe(1);
    });

    it("refuses a report of a campaign without an experiment, a bad confidence, and a reader without the permission", async () => {
      const { kit } = await kitOn(await target.create(), 5);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "plain" } });
      const none = await kit.reports.experiment({ actor: ADMIN, id: "plain" }).catch((e: unknown) => e);
      expect(isCampaignKitError(none, "NOT_FOUND")).toBe(true);
      expect((none as Error).message).toContain("runs no content experiment");
      const missing = await kit.reports.experiment({ actor: ADMIN, id: "nope" }).catch((e: unknown) => e);
      expect(isCampaignKitError(missing, "NOT_FOUND")).toBe(true);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...experimentPromotion(), id: "exp" } });
      const bad = await kit.reports
        .experiment({ actor: ADMIN, id: "exp", confidence: 1 })
        .catch((e: unknown) => e);
      expect(isCampaignKitError(bad, "VALIDATION_FAILED")).toBe(true);
      const forbidden = await kit.reports
        .experiment({ actor: "stranger", id: "exp" })
        .catch((e: unknown) => e);
      expect(isCampaignKitError(forbidden, "FORBIDDEN")).toBe(true);
      await kit.roles.assign({ actor: ADMIN, userId: "vera", roleId: "campaign-viewer" });
      const empty = await kit.reports.experiment({ actor: "vera", id: "exp" });
      expect(empty.treatments.map((t) => [t.exposed, t.conversions, t.rate])).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      expect(empty.treatments[1]?.probabilityToBeatControl).toBeCloseTo(0.5, 9);
      expect(empty.winner).toBeUndefined();
    });
  },
);
