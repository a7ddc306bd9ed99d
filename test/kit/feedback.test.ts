/**
 * Delivery feedback through the kit, on memory and PostgreSQL: events matched to messages by either id,
 * counted once however often a provider repeats them, out of order tolerated, and the suppression list they
 * feed honoured by later sends (counted `suppressed`), listed and lifted with permissions and an audit trail.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { isCampaignKitError } from "../../src/errors.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { messageId } from "../../src/model/message-id.js";
import type { Profile } from "../../src/model/profile.js";
import type { ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import { createRepositories } from "../../src/repositories/index.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, auditLog, emailConfiguration, kitClock, people, promotion } from "./fixtures.js";

/** An email adapter answering with a provider id of its own: `prov-<recipient>`. */
function providerChannel() {
  const sent: OutboundMessage[] = [];
  const adapter: ChannelAdapter = {
    name: "provider",
    channel: "email",
    capabilities: { batch: false, idempotencyKeys: false },
    async send(message) {
      sent.push(message);
      return { providerMessageId: `prov-${message.recipientId}` };
    },
  };
  return { adapter, sent };
}

// The kit's virtual clock starts at T0 and moves 1 ms a reading: events at T0 predate what the kit does after.
const T0 = "2026-12-01T08:00:00Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000);

describe.each(storageTargets("the feedback tests"))("delivery feedback on $name storage", (target) => {
  async function sentPromotion(profiles: Profile[] = people(5), id = "promo") {
    const storage = await target.create();
    const channel = providerChannel();
    const audiences = memoryAudiences({ audiences: { vip: profiles } });
    const kit = await createCampaignKit({
      storage,
      clock: kitClock(),
      channels: [channel.adapter],
      audiences,
      administrators: [ADMIN],
    });
    await kit.audiences.register({
      actor: ADMIN,
      audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
    });
    await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id } });
    await kit.campaigns.activate({ actor: ADMIN, id });
    await kit.scheduler.tick();
    await kit.idle();
    const executionId = channel.sent[0]?.executionId as string;
    const idOf = (recipientId: string) =>
      messageId({ campaignId: id, executionId, recipientId, channel: "email" });
    return { kit, storage, channel, executionId, idOf, audiences };
  }

  it("matches events by message id or provider id, counts each provider event once, reports the rest unmatched", async () => {
    const { kit, storage, idOf } = await sentPromotion();
    const result = await kit.feedback.record({
      events: [
        { type: "delivered", messageId: idOf("p0"), at: at(1), eventId: "e1" },
        { type: "delivered", providerMessageId: "prov-p1", at: at(1), eventId: "e2" },
        { type: "opened", providerMessageId: "prov-p1", at: at(5), eventId: "e3" },
        { type: "opened", providerMessageId: "prov-p1", at: at(7), eventId: "e4" },
        { type: "opened", providerMessageId: "prov-p1", at: at(7), eventId: "e4" },
        { type: "delivered", providerMessageId: "prov-unknown", at: at(1) },
      ],
    });
    expect(result).toEqual({
      recorded: 4,
      duplicates: 1,
      unmatched: [{ index: 5, providerMessageId: "prov-unknown" }],
      suppressed: 0,
    });
    // The same webhook again: nothing new.
    const again = await kit.feedback.record({
      events: [
        { type: "opened", providerMessageId: "prov-p1", at: at(7), eventId: "e4" },
        { type: "delivered", messageId: idOf("p0"), at: at(1), eventId: "e1" },
      ],
    });
    expect(again).toMatchObject({ recorded: 0, duplicates: 2 });
    // Without event ids, the same event (type, message, time) still counts once.
    await kit.feedback.record({
      events: [{ type: "clicked", messageId: idOf("p2"), at: at(3), url: "https://a.example/x" }],
    });
    const twice = await kit.feedback.record({
      events: [{ type: "clicked", messageId: idOf("p2"), at: at(3), url: "https://a.example/x" }],
    });
    expect(twice).toMatchObject({ recorded: 0, duplicates: 1 });

    const opened = await createRepositories(storage).feedback.every({ type: "opened" });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      messageId: idOf("p1"),
      campaignId: "promo",
      recipientId: "p1",
      channel: "email",
      count: 2,
      firstAt: at(5),
      lastAt: at(7),
    });
  });

  it("refuses malformed events with every path named, recording none of the batch", async () => {
    const { kit, idOf, storage } = await sentPromotion(people(1));
    const refusal = await kit.feedback
      .record({
        events: [
          { type: "delivered", messageId: idOf("p0"), at: at(1) },
          { type: "bouncy" as never, messageId: idOf("p0"), at: at(1) },
          { type: "opened", at: "yesterday" } as never,
        ],
      })
      .catch((error: unknown) => error);
    expect(isCampaignKitError(refusal, "VALIDATION_FAILED")).toBe(true);
    expect(await createRepositories(storage).feedback.every()).toEqual([]);
    await expect(kit.feedback.record({ events: "nope" as never })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });

  it("suppresses hard bounces, complaints and unsubscriptions, not soft bounces; later sends exclude them as suppressed", async () => {
    const profiles = people(5);
    const { kit, idOf } = await sentPromotion(profiles);
    const result = await kit.feedback.record({
      events: [
        { type: "bounced", bounce: "hard", messageId: idOf("p0"), at: at(1), address: "P0@Example.com" },
        { type: "bounced", bounce: "soft", messageId: idOf("p1"), at: at(1), address: "p1@example.com" },
        { type: "complained", messageId: idOf("p2"), at: at(2), address: "p2@example.com" },
        // No address: the profile is suppressed on the channel.
        { type: "unsubscribed", messageId: idOf("p3"), at: at(3) },
      ],
    });
    expect(result.suppressed).toBe(3);
    const list = await kit.suppressions.list({ actor: ADMIN });
    expect(list.items.map((s) => [s.channel, s.address ?? s.recipientId, s.reasons])).toEqual(
      expect.arrayContaining([
        ["email", "p0@example.com", ["bounced"]],
        ["email", "p2@example.com", ["complained"]],
        ["email", "p3", ["unsubscribed"]],
      ]),
    );
    expect(list.items).toHaveLength(3);

    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "second" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "second" });
    await kit.scheduler.tick();
    await kit.idle();
    const report = await kit.reports.campaign({ actor: ADMIN, id: "second" });
    expect(report.outcomes).toEqual({ sent: 2, failed: 0, excluded: 3 });
    expect(report.excludedByReason.suppressed).toBe(3);
  });

  it("lists, adds and lifts entries with audience.manage only, auditing each call; a late retry of an older event doesn't suppress again", async () => {
    const { kit, idOf } = await sentPromotion(people(2));
    await kit.roles.assign({ actor: ADMIN, userId: "viewer", roleId: "campaign-viewer" });
    await expect(kit.suppressions.list({ actor: "viewer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const bounce = {
      type: "bounced",
      bounce: "hard",
      messageId: idOf("p0"),
      at: at(0),
      address: "p0@example.com",
    } as const;
    await kit.feedback.record({ events: [bounce] });

    const lifted = await kit.suppressions.lift({
      actor: ADMIN,
      channel: "email",
      address: " P0@example.com",
    });
    expect(lifted).toMatchObject({ active: false, liftedBy: ADMIN, reasons: ["bounced"] });
    expect((await kit.suppressions.list({ actor: ADMIN })).items).toEqual([]);
    expect((await kit.suppressions.list({ actor: ADMIN, active: false })).items).toHaveLength(1);
    await expect(
      kit.suppressions.lift({ actor: ADMIN, channel: "email", address: "p0@example.com" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });

    // The provider retries the old webhook under another event id: still lifted.
    await kit.feedback.record({ events: [{ ...bounce, eventId: "retry" }] });
    expect(
      (await kit.suppressions.get({ actor: ADMIN, channel: "email", address: "p0@example.com" }))?.active,
    ).toBe(false);

    const added = await kit.suppressions.add({
      actor: ADMIN,
      channel: "sms",
      address: "+33612340001",
      detail: "asked by phone",
    });
    expect(added).toMatchObject({ active: true, reasons: ["manual"], detail: "asked by phone" });
    await expect(kit.suppressions.add({ actor: ADMIN, channel: "sms" } as never)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });

    const audited = (await auditLog(kit.storage)).filter((e) => e.objectType === "suppression");
    expect(audited.map((e) => [e.action, e.outcome, e.actorId])).toEqual([
      ["suppression.list", "denied", "viewer"],
      ["suppression.lift", "allowed", ADMIN],
      ["suppression.lift", "denied", ADMIN],
      ["suppression.add", "allowed", ADMIN],
      ["suppression.add", "denied", ADMIN],
    ]);
  });

  it("reports delivered, bounces, opens, clicks, unsubscribes and complaints with rates, by campaign, execution, action and hour", async () => {
    const { kit, idOf, executionId } = await sentPromotion();
    await kit.feedback.record({
      events: [
        { type: "delivered", messageId: idOf("p0"), at: at(1) },
        { type: "opened", messageId: idOf("p0"), at: at(70), eventId: "o1" },
        { type: "opened", messageId: idOf("p0"), at: at(71), eventId: "o2" },
        { type: "clicked", messageId: idOf("p0"), at: at(72), url: "https://a.example/1" },
        { type: "custom:purchase", messageId: idOf("p0"), at: at(80) },
        // A hard bounce wins over a delivered, whichever came first.
        { type: "delivered", messageId: idOf("p1"), at: at(2) },
        { type: "bounced", bounce: "hard", messageId: idOf("p1"), at: at(1) },
        { type: "bounced", bounce: "soft", messageId: idOf("p2"), at: at(1) },
        // A soft bounce later delivered is delivered.
        { type: "bounced", bounce: "soft", messageId: idOf("p3"), at: at(1) },
        { type: "delivered", messageId: idOf("p3"), at: at(30) },
        { type: "unsubscribed", messageId: idOf("p3"), at: at(31) },
        { type: "complained", messageId: idOf("p3"), at: at(32) },
      ],
    });
    const report = await kit.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes).toEqual({ sent: 5, failed: 0, excluded: 0 });
    expect(report.targeted).toBe(5);
    expect(report.engagement).toEqual({
      sent: 5,
      delivered: 2,
      bounces: { total: 2, hard: 1, soft: 1 },
      opens: { unique: 1, total: 2 },
      clicks: { unique: 1, total: 1 },
      unsubscribes: 1,
      complaints: 1,
      custom: { purchase: { unique: 1, total: 1 } },
      rates: {
        delivery: 2 / 5,
        bounce: 2 / 5,
        open: 1 / 2,
        click: 1 / 2,
        clickToOpen: 1,
        unsubscribe: 1 / 2,
        complaint: 1 / 2,
      },
    });
    expect(report.byAction.email).toEqual(report.engagement);
    expect(report.byExecution).toEqual({ [executionId]: report.engagement });
    expect(report.engagementByTreatment).toEqual({});
    // Hours count events as they came, each message's documents by when they first happened: no precedence.
    expect(report.hourly).toEqual([
      {
        hour: "2026-12-01T08:00:00.000Z",
        sent: 5,
        delivered: 3,
        bounces: 3,
        opens: 0,
        clicks: 0,
        unsubscribes: 1,
        complaints: 1,
      },
      {
        hour: "2026-12-01T09:00:00.000Z",
        sent: 0,
        delivered: 0,
        bounces: 0,
        opens: 1,
        clicks: 1,
        unsubscribes: 0,
        complaints: 0,
      },
    ]);
    const one = await kit.reports.execution({ actor: ADMIN, id: executionId });
    expect(one.engagement).toEqual(report.engagement);
    expect(one.executionId).toBe(executionId);
  });

  it("groups a report by treatment when feedback documents carry one", async () => {
    const { kit, storage, idOf, executionId } = await sentPromotion(people(4));
    // What feedback copies from ledger records that carry a treatment (the experiments write them).
    const feedback = createRepositories(storage).feedback;
    const doc = (recipientId: string, type: "opened" | "clicked", treatmentId: string) => ({
      messageId: idOf(recipientId),
      campaignId: "promo",
      executionId,
      channel: "email" as const,
      recipientId,
      treatmentId,
      type,
      firstAt: at(5),
      lastAt: at(5),
      count: 1,
      eventIds: ["e"],
    });
    await feedback.insert(doc("p0", "opened", "A"));
    await feedback.insert(doc("p0", "clicked", "A"));
    await feedback.insert(doc("p1", "opened", "A"));
    await feedback.insert(doc("p2", "opened", "B"));
    const report = await kit.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.engagementByTreatment.A).toMatchObject({
      delivered: 2,
      opens: { unique: 2, total: 2 },
      clicks: { unique: 1 },
    });
    expect(report.engagementByTreatment.B).toMatchObject({
      delivered: 1,
      opens: { unique: 1 },
      clicks: { unique: 0 },
    });
    expect(report.engagement.opens.unique).toBe(3);
    expect(await feedback.list({ campaignId: "promo", type: "opened", treatmentId: "A" })).toMatchObject({
      items: [{ recipientId: "p0" }, { recipientId: "p1" }],
    });
  });
});
