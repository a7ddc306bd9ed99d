/**
 * Concurrent writers through the kit: two new versions of one live campaign, or two decisions on one approval
 * request, at the same moment. Storage's compare-and-set must leave exactly one winner, on memory and
 * PostgreSQL, round after round.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { isCampaignKitError } from "../../src/errors.js";
import { type CampaignKit, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, COMPLETE_AT_ONCE, emailConfiguration, kitClock, person, promotion } from "./fixtures.js";

const ROUNDS = 20;
const weekly = {
  timeZone: "Europe/Paris",
  recurrence: { frequency: "weekly", daysOfWeek: ["monday"], at: { hour: 9 } },
} as const;

async function kitOn(
  storage: Storage,
): Promise<{ kit: CampaignKit; email: ReturnType<typeof memoryChannel> }> {
  const email = memoryChannel({ channel: "email" });
  const kit = await createCampaignKit({
    storage,
    clock: kitClock(),
    channels: [email],
    audiences: memoryAudiences({ audiences: { vip: [person(1), person(2)] } }),
    administrators: [ADMIN],
    lifecycle: COMPLETE_AT_ONCE,
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  return { kit, email };
}

const settled = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe.each(storageTargets("the concurrency tests"))(
  "concurrent kit writers on $name storage",
  (target) => {
    it("make at most one open version of a live campaign, and only that one can go live", async () => {
      const { kit } = await kitOn(await target.create());
      for (let round = 0; round < ROUNDS; round++) {
        const id = `rec-${round}`;
        await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id, schedule: weekly } });
        await kit.campaigns.activate({ actor: ADMIN, id });
        const results = await Promise.all(
          ["a", "b"].map((suffix) =>
            settled(kit.campaigns.createVersion({ actor: ADMIN, id, newId: `${id}-v2${suffix}` })),
          ),
        );
        const won = results.filter((r) => r.ok);
        expect(won, `round ${round}`).toHaveLength(1);
        const lost = results.find((r) => !r.ok);
        expect(isCampaignKitError(lost?.error, "ALREADY_EXISTS"), String(lost?.error)).toBe(true);
        const versions = await kit.campaigns.list({ actor: ADMIN, filter: { replacesCampaignId: id } });
        expect(versions.items.map((c) => c.id)).toHaveLength(1);
      }
    });

    it("refuse to activate a version whose original another version already replaced", async () => {
      const storage = await target.create();
      const { kit } = await kitOn(storage);
      await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "rec", schedule: weekly } });
      await kit.campaigns.activate({ actor: ADMIN, id: "rec" });
      const v2 = await kit.campaigns.createVersion({ actor: ADMIN, id: "rec", newId: "rec-v2" });
      // A second version written before one-open-version was enforced (or by a host writing storage itself).
      await createRepositories(storage).campaigns.create({ ...v2, id: "rec-v2-stale" });
      await kit.campaigns.activate({ actor: ADMIN, id: "rec-v2" });
      const refused = await settled(kit.campaigns.activate({ actor: ADMIN, id: "rec-v2-stale" }));
      expect(refused.ok).toBe(false);
      expect(isCampaignKitError(!refused.ok && refused.error, "INVALID_TRANSITION")).toBe(true);
      expect((await kit.campaigns.get({ actor: ADMIN, id: "rec-v2-stale" })).status).toBe("draft");
      expect((await kit.campaigns.get({ actor: ADMIN, id: "rec-v2" })).status).toBe("live");
    });

    it("never complete an unsent campaign from a process whose clock is behind the one that activated it", async () => {
      const storage = await target.create();
      const { kit: ahead, email } = await kitOn(storage);
      await ahead.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "now" } });
      const behindClock = kitClock();
      const behind = await createCampaignKit({
        storage,
        lifecycle: COMPLETE_AT_ONCE,
        clock: behindClock,
        channels: [email],
        audiences: memoryAudiences({ audiences: { vip: [person(1), person(2)] } }),
      });
      behindClock.advance(-60_000);
      await ahead.campaigns.activate({ actor: ADMIN, id: "now" });
      expect((await behind.scheduler.tick()).completed).toEqual([]);
      expect((await ahead.campaigns.get({ actor: ADMIN, id: "now" })).status).toBe("live");
      await ahead.scheduler.tick();
      expect(email.sent).toHaveLength(2);
      await ahead.scheduler.tick();
      expect((await ahead.campaigns.get({ actor: ADMIN, id: "now" })).status).toBe("completed");
    });

    it.each([
      ["approve", "approve"],
      ["approve", "requestChanges"],
      ["approve", "cancelApproval"],
      ["requestChanges", "cancelApproval"],
    ] as const)("decide an approval request once when %s and %s race", async (first, second) => {
      const { kit } = await kitOn(await target.create());
      await kit.roles.assign({ actor: ADMIN, userId: "maya", roleId: "campaign-manager" });
      for (const approver of ["arno", "alex"]) {
        await kit.roles.assign({ actor: ADMIN, userId: approver, roleId: "campaign-approver" });
      }
      await kit.approvalPolicies.define({
        actor: ADMIN,
        policy: {
          id: "review",
          name: "Review",
          status: "active",
          approvers: { users: [], roles: ["campaign-approver"] },
        },
      });
      const decide = (
        decision: "approve" | "requestChanges" | "cancelApproval",
        actor: string,
        id: string,
      ) =>
        decision === "approve"
          ? kit.campaigns.approve({ actor, id })
          : decision === "requestChanges"
            ? kit.campaigns.requestChanges({ actor, id, comment: "Change it" })
            : kit.campaigns.cancelApproval({ actor: "maya", id });
      for (let round = 0; round < ROUNDS; round++) {
        const id = `sale-${round}`;
        await kit.campaigns.create({ actor: "maya", campaign: { ...promotion, id } });
        await kit.campaigns.requestApproval({ actor: "maya", id });
        const results = await Promise.all([
          settled(decide(first, "arno", id)),
          settled(decide(second, "alex", id)),
        ]);
        expect(
          results.filter((r) => r.ok),
          `round ${round}`,
        ).toHaveLength(1);
        const campaign = await kit.campaigns.get({ actor: ADMIN, id });
        const requests = await kit.campaigns.listRequests({ actor: ADMIN, id });
        expect(requests).toHaveLength(1);
        const expected = { live: "approved", draft: ["changes-requested", "cancelled"] } as const;
        expect(campaign.status === "live" || campaign.status === "draft", campaign.status).toBe(true);
        expect(expected[campaign.status as "live" | "draft"]).toContain(requests[0]?.status);
      }
    });
  },
);
