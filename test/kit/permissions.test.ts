import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { BuiltInRoleId } from "../../src/model/roles.js";
import { failure } from "../support/outcomes.js";
import { ADMIN, auditLog, promotion, seededKit, snapshot } from "./fixtures.js";

const ROLES: BuiltInRoleId[] = [
  "campaign-administrator",
  "campaign-approver",
  "campaign-manager",
  "campaign-viewer",
];
const A = "campaign-administrator";
const P = "campaign-approver";
const M = "campaign-manager";
const V = "campaign-viewer";

interface Operation {
  /** The roles allowed to run it: written out, not derived from the role definitions. */
  allowed: BuiltInRoleId[];
  /** Puts the kit in the state the operation needs, as the administrator. */
  setup?: (kit: CampaignKit) => Promise<unknown>;
  run: (kit: CampaignKit, actor: string) => Promise<unknown>;
}

const draft = (kit: CampaignKit, id = "c1") =>
  kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id } });
const live = async (kit: CampaignKit) => {
  await draft(kit);
  await kit.campaigns.activate({ actor: ADMIN, id: "c1" });
};
const recurringLive = async (kit: CampaignKit) => {
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      ...promotion,
      id: "c1",
      schedule: {
        timeZone: "Europe/Paris",
        recurrence: { frequency: "daily", interval: 1, at: { hour: 9, minute: 0 } },
      },
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "c1" });
};
const inReview = async (kit: CampaignKit) => {
  await kit.approvalPolicies.define({
    actor: ADMIN,
    policy: {
      id: "all",
      name: "Everything",
      status: "active",
      approvers: { users: [], roles: [A, P] },
      blockSelfApproval: true,
    },
  });
  await draft(kit);
  await kit.roles.assign({ actor: ADMIN, userId: "requester", roleId: M });
  await kit.campaigns.requestApproval({ actor: "requester", id: "c1" });
};

const OPERATIONS: Record<string, Operation> = {
  "roles.assign": { allowed: [A], run: (k, a) => k.roles.assign({ actor: a, userId: "x", roleId: V }) },
  "roles.revoke": {
    allowed: [A],
    setup: (k) => k.roles.assign({ actor: ADMIN, userId: "x", roleId: V }),
    run: (k, a) => k.roles.revoke({ actor: a, userId: "x", roleId: V }),
  },
  "roles.define": {
    allowed: [A],
    run: (k, a) =>
      k.roles.define({ actor: a, role: { id: "auditor", name: "Auditor", permissions: ["campaign.read"] } }),
  },
  "roles.get (another user)": { allowed: [A], run: (k, a) => k.roles.get({ actor: a, userId: ADMIN }) },
  "audiences.register": {
    allowed: [A],
    run: (k, a) =>
      k.audiences.register({ actor: a, audience: { id: "new", name: "New", identityNamespace: "email" } }),
  },
  "audiences.update": {
    allowed: [A],
    run: (k, a) => k.audiences.update({ actor: a, id: "vip", changes: { estimatedSize: 10 } }),
  },
  "audiences.get": { allowed: [A, P, M, V], run: (k, a) => k.audiences.get({ actor: a, id: "vip" }) },
  "audiences.list": { allowed: [A, P, M, V], run: (k, a) => k.audiences.list({ actor: a }) },
  "configurations.register": {
    allowed: [A],
    run: (k, a) =>
      k.configurations.register({
        actor: a,
        configuration: {
          id: "hook",
          name: "Hook",
          channel: "webhook",
          purpose: "transactional",
          settings: { url: "https://hooks.example.com/x" },
        },
      }),
  },
  "configurations.update": {
    allowed: [A],
    run: (k, a) =>
      k.configurations.update({
        actor: a,
        id: "sms-marketing",
        changes: { settings: { provider: "other", senderNumber: "+33612345679" } },
      }),
  },
  "configurations.activate": {
    allowed: [A],
    run: (k, a) => k.configurations.activate({ actor: a, id: "sms-marketing" }),
  },
  "configurations.deactivate": {
    allowed: [A],
    run: (k, a) => k.configurations.deactivate({ actor: a, id: "sms-marketing" }),
  },
  "configurations.get": {
    allowed: [A, P, M, V],
    run: (k, a) => k.configurations.get({ actor: a, id: "email-marketing" }),
  },
  "configurations.list": { allowed: [A, P, M, V], run: (k, a) => k.configurations.list({ actor: a }) },
  "campaigns.create": {
    allowed: [A, P, M],
    run: (k, a) => k.campaigns.create({ actor: a, campaign: { ...promotion, id: "c2" } }),
  },
  "campaigns.get": {
    allowed: [A, P, M, V],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.get({ actor: a, id: "c1" }),
  },
  "campaigns.list": { allowed: [A, P, M, V], run: (k, a) => k.campaigns.list({ actor: a }) },
  "campaigns.check": {
    allowed: [A, P, M, V],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.check({ actor: a, id: "c1", intent: "activate" }),
  },
  "campaigns.update": {
    allowed: [A, P, M],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.update({ actor: a, id: "c1", changes: { name: "Renamed" } }),
  },
  "campaigns.duplicate": {
    allowed: [A, P, M],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.duplicate({ actor: a, id: "c1", newId: "copy" }),
  },
  // Archiving a live campaign stops it: it takes campaign.publish as well as campaign.write.
  "campaigns.archive": {
    allowed: [A, P],
    setup: live,
    run: (k, a) => k.campaigns.archive({ actor: a, id: "c1" }),
  },
  "campaigns.archive (stopped)": {
    allowed: [A, P, M],
    setup: async (k) => {
      await live(k);
      await k.campaigns.stop({ actor: ADMIN, id: "c1" });
    },
    run: (k, a) => k.campaigns.archive({ actor: a, id: "c1" }),
  },
  "campaigns.editTags": {
    allowed: [A, P, M],
    setup: live,
    run: (k, a) => k.campaigns.editTags({ actor: a, id: "c1", add: ["q4"] }),
  },
  "campaigns.occurrences": {
    allowed: [A, P, M, V],
    setup: live,
    run: (k, a) =>
      k.campaigns.occurrences({
        actor: a,
        id: "c1",
        from: "2026-12-01T00:00:00Z",
        to: "2026-12-31T00:00:00Z",
      }),
  },
  "campaigns.delete": {
    allowed: [A, P, M],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.delete({ actor: a, id: "c1" }),
  },
  "campaigns.activate": {
    allowed: [A, P],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.activate({ actor: a, id: "c1" }),
  },
  "campaigns.stop": { allowed: [A, P], setup: live, run: (k, a) => k.campaigns.stop({ actor: a, id: "c1" }) },
  "campaigns.requestApproval": {
    allowed: [A, P, M],
    setup: (k) => draft(k).then(() => {}),
    run: (k, a) => k.campaigns.requestApproval({ actor: a, id: "c1" }),
  },
  "campaigns.approve": {
    allowed: [A, P],
    setup: inReview,
    run: (k, a) => k.campaigns.approve({ actor: a, id: "c1" }),
  },
  "campaigns.requestChanges": {
    allowed: [A, P],
    setup: inReview,
    run: (k, a) => k.campaigns.requestChanges({ actor: a, id: "c1", comment: "Shorter subject" }),
  },
  "campaigns.cancelApproval": {
    allowed: [A, P, M],
    setup: inReview,
    run: (k, a) => k.campaigns.cancelApproval({ actor: a, id: "c1" }),
  },
  "campaigns.listRequests": {
    allowed: [A, P, M, V],
    setup: inReview,
    run: (k, a) => k.campaigns.listRequests({ actor: a, id: "c1" }),
  },
  "campaigns.createVersion": {
    allowed: [A, P, M],
    setup: recurringLive,
    run: (k, a) => k.campaigns.createVersion({ actor: a, id: "c1", newId: "c1-v2" }),
  },
  "approvalPolicies.define": {
    allowed: [A],
    run: (k, a) =>
      k.approvalPolicies.define({
        actor: a,
        policy: { id: "p", name: "P", approvers: { users: [ADMIN], roles: [] } },
      }),
  },
  "approvalPolicies.list": { allowed: [A, P, M, V], run: (k, a) => k.approvalPolicies.list({ actor: a }) },
  audit: { allowed: [A, P, M, V], run: (k, a) => k.audit({ actor: a }) },
};

describe("every built-in role x kit operation", () => {
  for (const [name, operation] of Object.entries(OPERATIONS)) {
    for (const role of ROLES) {
      const allowed = operation.allowed.includes(role);
      it(`${name} by ${role}: ${allowed ? "allowed" : "FORBIDDEN"}`, async () => {
        const kit = await seededKit();
        await operation.setup?.(kit);
        const user = `user-${role}`;
        await kit.roles.assign({ actor: ADMIN, userId: user, roleId: role });
        const users = [ADMIN, user, "x", "requester"];
        const before = await snapshot(kit.storage, users);
        const auditBefore = await auditLog(kit.storage);

        if (allowed) {
          await expect(operation.run(kit, user)).resolves.not.toThrow();
          return;
        }
        const error = await failure(operation.run(kit, user));
        expect(isCampaignKitError(error, "FORBIDDEN"), `expected FORBIDDEN, got ${String(error)}`).toBe(true);
        expect(await snapshot(kit.storage, users)).toEqual(before);
        const added = (await auditLog(kit.storage)).slice(auditBefore.length);
        expect(added).toHaveLength(1);
        expect(added[0]).toMatchObject({ actorId: user, outcome: "denied", errorCode: "FORBIDDEN" });
      });
    }
  }
});
