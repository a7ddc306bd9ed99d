import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CampaignKitError, isCampaignKitError } from "../../../src/errors.js";
import {
  assertPrerequisites,
  checkPrerequisites,
  INTENT_PERMISSIONS,
} from "../../../src/kit/prerequisites/check.js";
import {
  PREREQUISITE_CODES,
  PREREQUISITE_INTENTS,
  type PrerequisiteCode,
} from "../../../src/kit/prerequisites/problems.js";
import { campaignSchema } from "../../../src/model/campaign.js";
import { parseWith } from "../../../src/model/parse.js";
import {
  audience,
  base,
  deepFreeze,
  draft,
  EARLIER,
  ISOLATED,
  LATER,
  NOW,
  transactionalApi,
  withConfig,
  withEmail,
} from "./fixtures.js";

describe("checkPrerequisites", () => {
  it("passes a valid activation, of a draft and of a stored campaign", () => {
    expect(checkPrerequisites(base())).toEqual({ ok: true, problems: [] });
    const stored = parseWith(
      campaignSchema,
      { ...draft({}), id: "c1", createdAt: NOW, updatedAt: NOW, createdBy: "ana", updatedBy: "ana" },
      "campaign",
    );
    expect(checkPrerequisites(base({ campaign: stored }))).toEqual({ ok: true, problems: [] });
    expect(
      checkPrerequisites(base({ intent: "trigger", campaign: transactionalApi, audience: undefined })),
    ).toEqual({ ok: true, problems: [] });
  });

  it.each(Object.entries(ISOLATED))("produces %s alone", (code, input) => {
    const result = checkPrerequisites(input);
    expect(result.problems.map((p) => p.code)).toEqual([code]);
    expect(result.ok).toBe(false);
    const [problem] = result.problems;
    expect(problem?.message).toMatch(/^[A-Z'].*\S[.]?/);
    expect(problem?.fix).toMatch(/^[A-Z].*\.$/);
  });

  it("describes each problem exactly", () => {
    const first = (code: PrerequisiteCode) => checkPrerequisites(ISOLATED[code]).problems[0];
    expect(first("MISSING_PERMISSION")).toEqual({
      code: "MISSING_PERMISSION",
      message: "'ana' lacks campaign.publish, needed to activate a campaign.",
      fix: "Assign the role 'campaign-approver' (the least powerful built-in role granting campaign.publish) to 'ana', or request approval instead.",
      subject: { kind: "actor", id: "ana" },
    });
    expect(first("AUDIENCE_NOT_AVAILABLE")).toEqual({
      code: "AUDIENCE_NOT_AVAILABLE",
      message: "Audience 'VIP customers' (vip) is still processing.",
      fix: "Wait until it is realized, then try again.",
      subject: { kind: "audience", id: "vip", path: "audienceId" },
    });
    expect(first("CONFIGURATION_NOT_FOUND")?.subject).toEqual({
      kind: "channel-configuration",
      id: "news",
      path: "actions.0.channelConfigurationId",
    });
    expect(first("CONFIGURATION_PURPOSE_MISMATCH")?.message).toBe(
      "Channel configuration 'News' (news) is for transactional messages, but Campaign 'Spring sale' is marketing.",
    );
    expect(first("CONTENT_MISSING")?.subject).toEqual({ kind: "action", path: "actions.0.content.subject" });
    expect(first("TEMPLATE_INVALID")).toEqual({
      code: "TEMPLATE_INVALID",
      message:
        "The email HTML body of the email action is not valid Handlebars: Parse error on line 1: Expecting 'ID', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', got 'INVALID'",
      fix: "Fix the template syntax at actions.0.content.html: close every {{ with }} and every {{#block}} with {{/block}}.",
      subject: { kind: "action", path: "actions.0.content.html" },
    });
    expect(first("SCHEDULE_IN_PAST")).toEqual({
      code: "SCHEDULE_IN_PAST",
      message:
        "The schedule starts at 2026-02-28T09:00:00.000Z, which has passed (it is now 2026-03-01T12:00:00.000Z).",
      fix: "Move `startAt` to a future time, or remove it to start on activation.",
      subject: { kind: "schedule", path: "schedule.startAt" },
    });
  });

  it("names the least powerful built-in role granting each intent's permission", () => {
    const expected = {
      create: "campaign-manager",
      update: "campaign-manager",
      "request-approval": "campaign-manager",
      activate: "campaign-approver",
      approve: "campaign-approver",
      trigger: "campaign-approver",
    };
    for (const intent of PREREQUISITE_INTENTS) {
      const [problem] = checkPrerequisites(
        base({ intent, actor: { id: "vic", roles: ["campaign-viewer"] } }),
      ).problems;
      expect(problem?.code).toBe("MISSING_PERMISSION");
      expect(problem?.message).toContain(INTENT_PERMISSIONS[intent]);
      expect(problem?.fix).toContain(`Assign the role '${expected[intent]}'`);
      expect(problem?.fix).not.toContain("request approval instead");
    }
  });

  it("accepts permissions from custom roles, and refuses unknown roles", () => {
    const publisher = { id: "publisher", name: "Publisher", permissions: ["campaign.publish" as const] };
    expect(
      checkPrerequisites(base({ actor: { id: "p", roles: ["publisher"] }, customRoles: [publisher] })).ok,
    ).toBe(true);
    expect(
      checkPrerequisites(base({ actor: { id: "p", roles: ["publisher"] } })).problems.map((p) => p.code),
    ).toEqual(["MISSING_PERMISSION"]);
  });

  it("reports audience, namespace, configuration, content and schedule problems together", () => {
    const result = checkPrerequisites(
      base({
        actor: { id: "vic", roles: ["campaign-viewer"] },
        intent: "approve",
        campaign: withEmail(
          { subject: "{{#if vip}}Hi", html: " " },
          draft({ identityNamespace: "ecid", schedule: { startAt: EARLIER, endAt: NOW } }),
        ),
        audience: { ...audience, status: "failed" },
        ...withConfig({ status: "processing" }),
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.code, p.subject.path ?? p.subject.id])).toEqual([
      ["MISSING_PERMISSION", "vic"],
      ["AUDIENCE_NOT_AVAILABLE", "audienceId"],
      ["AUDIENCE_NAMESPACE_MISMATCH", "identityNamespace"],
      ["CONFIGURATION_NOT_ACTIVE", "actions.0.channelConfigurationId"],
      ["CONTENT_MISSING", "actions.0.content"],
      ["TEMPLATE_INVALID", "actions.0.content.subject"],
      ["SCHEDULE_IN_PAST", "schedule.startAt"],
      ["SCHEDULE_ENDED", "schedule.endAt"],
    ]);
  });

  it("passes once every problem is fixed", () => {
    const broken = base({
      campaign: withEmail({ subject: "Hi {{name", html: "ok" }, draft({ audienceId: "gone" })),
      audience: undefined,
    });
    expect(checkPrerequisites(broken).problems.map((p) => p.code)).toEqual([
      "AUDIENCE_NOT_FOUND",
      "TEMPLATE_INVALID",
    ]);
    const fixed = { ...broken, campaign: withEmail({ subject: "Hi {{name}}", html: "ok" }), audience };
    expect(checkPrerequisites(fixed)).toEqual({ ok: true, problems: [] });
  });

  it("leaves dates out of create and update, but not the audience's availability (DOMAIN.md)", () => {
    const notReady = {
      audience: { ...audience, status: "processing" as const },
      campaign: draft({ schedule: { startAt: EARLIER, endAt: NOW } }),
    };
    for (const intent of ["create", "update"] as const) {
      expect(checkPrerequisites(base({ intent, ...notReady })).problems.map((p) => p.code)).toEqual([
        "AUDIENCE_NOT_AVAILABLE",
      ]);
      expect(checkPrerequisites(base({ intent, campaign: notReady.campaign })).ok).toBe(true);
      expect(checkPrerequisites(base({ intent, campaign: draft({ audienceId: undefined }) })).ok).toBe(true);
      expect(checkPrerequisites(base({ intent, audience: undefined })).problems.map((p) => p.code)).toEqual([
        "AUDIENCE_NOT_FOUND",
      ]);
    }
    expect(
      checkPrerequisites(base({ intent: "request-approval", ...notReady })).problems.map((p) => p.code),
    ).toEqual(["AUDIENCE_NOT_AVAILABLE", "SCHEDULE_IN_PAST", "SCHEDULE_ENDED"]);
  });

  it("judges an API-triggered campaign's window on trigger: a past start is fine, a future one is not", () => {
    const windowed = (schedule: object) =>
      base({ intent: "trigger", campaign: { ...transactionalApi, schedule: draft({ schedule }).schedule } });
    expect(checkPrerequisites(windowed({ startAt: EARLIER, endAt: LATER })).ok).toBe(true);
    expect(checkPrerequisites(windowed({ startAt: LATER })).problems.map((p) => p.code)).toEqual([
      "SCHEDULE_NOT_STARTED",
    ]);
    expect(checkPrerequisites(windowed({ endAt: EARLIER })).problems.map((p) => p.code)).toEqual([
      "SCHEDULE_ENDED",
    ]);
  });

  it("treats an audience handed in under another id as not found", () => {
    const problems = checkPrerequisites(base({ audience: { ...audience, id: "other" } })).problems;
    expect(problems.map((p) => p.code)).toEqual(["AUDIENCE_NOT_FOUND"]);
  });

  it("is pure: the same input gives the same output, and inputs are left untouched", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(ISOLATED)),
        fc.constantFrom(...PREREQUISITE_INTENTS),
        fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }),
        (input, intent, shift) => {
          const frozen = deepFreeze({ ...input, intent, now: new Date(NOW.getTime() + shift) });
          const snapshot = structuredClone(frozen);
          const first = checkPrerequisites(frozen);
          expect(checkPrerequisites(frozen)).toEqual(first);
          expect(frozen).toEqual(snapshot);
          expect(first.ok).toBe(first.problems.length === 0);
          for (const p of first.problems) expect(Object.keys(PREREQUISITE_CODES)).toContain(p.code);
        },
      ),
    );
  });
});

describe("assertPrerequisites", () => {
  it("returns quietly when every prerequisite is met", () => {
    expect(assertPrerequisites(base())).toBeUndefined();
  });

  it("throws PREREQUISITES_UNMET listing every problem", () => {
    const input = base({ actor: { id: "ana", roles: ["campaign-manager"] }, audience: undefined });
    let error: unknown;
    try {
      assertPrerequisites(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CampaignKitError);
    expect(isCampaignKitError(error, "PREREQUISITES_UNMET")).toBe(true);
    const { problems } = checkPrerequisites(input);
    expect((error as CampaignKitError).details).toEqual({ problems });
    expect((error as CampaignKitError).message).toBe(
      "Campaign 'Spring sale' can't be activated: 2 prerequisites are unmet:\n" +
        "  - MISSING_PERMISSION: 'ana' lacks campaign.publish, needed to activate a campaign. Fix: Assign the role 'campaign-approver' (the least powerful built-in role granting campaign.publish) to 'ana', or request approval instead.\n" +
        "  - AUDIENCE_NOT_FOUND: Audience 'vip' does not exist. Fix: Create the audience, or set `audienceId` to an existing one.",
    );
  });
});
