/**
 * A content experiment's assignment survives a process stopping mid-send, on memory and PostgreSQL: the
 * process that takes the execution over sends the rest, each recipient exactly once, with the treatment the
 * hash gives, as the first process did.
 */
import { describe, expect, it } from "vitest";
import { assignTreatment } from "../../../src/dispatch/experiment.js";
import { memoryAudiences } from "../../../src/drivers/memory/audiences.js";
import { createCampaignKit } from "../../../src/kit/create-campaign-kit.js";
import { storageTargets } from "../../support/storages.js";
import { ADMIN, activeCampaign, gatedChannel, kitClock, people, promotion, seededKit } from "../fixtures.js";

const treatments = [
  { id: "a", percentage: 40, content: { subject: "A", text: "Offer A" } },
  { id: "b", percentage: 40, content: { subject: "B", text: "Offer B" } },
];
const split = { id: "resumable", treatments, holdoutPercentage: 20 };

describe.each(storageTargets("the experiment resume tests"))(
  "an experiment resumed on $name storage",
  (target) => {
    it("assigns every recipient the same treatment before and after a process stops mid-send", async () => {
      const profiles = people(400);
      const audiences = memoryAudiences({ audiences: { vip: profiles } });
      const clock = kitClock();
      const gate = gatedChannel(120);
      const storage = await target.create();
      const first = await seededKit({ storage, clock, channels: [gate.adapter], audiences, claimMs: 1000 });
      await activeCampaign(first, {
        ...promotion,
        id: "exp",
        actions: [
          {
            channel: "email",
            channelConfigurationId: "email-marketing",
            experiment: { id: "resumable", metric: "opened", treatments, holdoutPercentage: 20 },
          },
        ],
      });
      await first.scheduler.tick({ wait: false });
      await gate.held;
      await first.close();
      const before = new Map(gate.sent.map((m) => [m.recipientId, m.treatmentId]));
      expect(before.size).toBe(120);

      gate.open();
      const second = await createCampaignKit({ storage, clock, channels: [gate.adapter], audiences });
      await clock.advance(2000);
      await second.scheduler.tick();

      const sent = new Map<string, string | undefined>();
      for (const message of gate.sent) {
        expect(sent.has(message.recipientId), message.recipientId).toBe(false);
        sent.set(message.recipientId, message.treatmentId);
      }
      for (const [recipientId, treatment] of before) expect(sent.get(recipientId)).toBe(treatment);
      const expected = new Map(profiles.map((p) => [p.id, assignTreatment(split, p.id)]));
      const heldOut = [...expected.values()].filter((t) => t === "holdout").length;
      expect(sent.size).toBe(400 - heldOut);
      for (const [recipientId, treatment] of sent) expect(treatment).toBe(expected.get(recipientId));

      const report = await second.reports.experiment({ actor: ADMIN, id: "exp" });
      expect(report.treatments.map((t) => t.exposed)).toEqual(
        ["a", "b"].map((id) => [...expected.values()].filter((t) => t === id).length),
      );
      expect(report.holdout?.recipients).toBe(heldOut);
      await second.close();
    });
  },
);
