import type { DeliveryRecord } from "../model/execution.js";
import type { DeliveryLedger } from "../ports/ledger.js";
import { at, delivery } from "./storage-fixtures.js";
import { vitest } from "./vitest.js";

/** The delivery ledger: first `sent` wins, findSent, find, frequency-cap counts and summaries. */
export function ledgerTests(storage: () => DeliveryLedger): void {
  const { describe, expect, it } = vitest();
  // The summary without its optional `sentByHour`, which a test of its own checks.
  const summaryOf = async (params: { campaignId: string; executionId?: string }) => {
    const { sentByHour: _hours, ...summary } = await storage().summarize(params);
    return summary;
  };
  describe("delivery ledger", () => {
    it("records a batch and finds the sent messages only", async () => {
      const { written } = await storage().record({
        records: [
          delivery("m1"),
          delivery("m2", { outcome: "failed", reason: "mailbox full", attempts: 3 }),
          delivery("m3", { outcome: "excluded", reason: "no-consent", attempts: 0 }),
          delivery("m4", { providerMessageId: "prov-4" }),
        ],
      });
      expect(written).toBe(4);
      const sent = await storage().findSent({ messageIds: ["m1", "m2", "m3", "m4", "unknown"] });
      expect(sent).toEqual(new Set(["m1", "m4"]));
      expect(await storage().findSent({ messageIds: [] })).toEqual(new Set());
      expect(await storage().record({ records: [] })).toEqual({ written: 0 });
    });

    it("keeps the first sent: a later record of a sent message is ignored", async () => {
      expect(await storage().record({ records: [delivery("m1", { at: at(1) })] })).toEqual({ written: 1 });
      const again = await storage().record({
        records: [
          delivery("m1", { at: at(9), outcome: "failed", reason: "x" }),
          delivery("m1", { at: at(8) }),
        ],
      });
      expect(again).toEqual({ written: 0 });
      const summary = await storage().summarize({ campaignId: "c1" });
      expect(summary.outcomes).toEqual({ sent: 1, failed: 0, excluded: 0 });
      expect(summary.firstSentAt).toEqual(at(1));
      expect(summary.lastSentAt).toEqual(at(1));
    });

    it("replaces a failed or excluded outcome, by a later one and then by sent", async () => {
      await storage().record({
        records: [delivery("m1", { outcome: "excluded", reason: "quiet-hours", attempts: 0 })],
      });
      expect(
        await storage().record({
          records: [delivery("m1", { outcome: "failed", reason: "timeout", attempts: 2 })],
        }),
      ).toEqual({
        written: 1,
      });
      expect(await storage().findSent({ messageIds: ["m1"] })).toEqual(new Set());
      expect(await storage().record({ records: [delivery("m1", { attempts: 3, at: at(4) })] })).toEqual({
        written: 1,
      });
      expect(await storage().findSent({ messageIds: ["m1"] })).toEqual(new Set(["m1"]));
      // `sentByHour` is optional: checked on its own below.
      const { sentByHour: _hours, ...summary } = await storage().summarize({ campaignId: "c1" });
      expect(summary).toStrictEqual({
        outcomes: { sent: 1, failed: 0, excluded: 0 },
        byChannel: { email: { sent: 1, failed: 0, excluded: 0 } },
        excludedByReason: {},
        byTreatment: {},
        retries: 2,
        firstSentAt: at(4),
        lastSentAt: at(4),
      });
    });

    it("counts sent messages by hour, when it offers sentByHour", async () => {
      const hour = (h: number, minutes = 0) => new Date(Date.UTC(2026, 11, 1, h, minutes));
      await storage().record({
        records: [
          delivery("m1", { at: hour(8, 5) }),
          delivery("m2", { at: hour(8, 59) }),
          delivery("m3", { at: hour(10, 0) }),
          delivery("m4", { at: hour(9), outcome: "failed", reason: "x" }),
          delivery("m5", { at: hour(9), executionId: "e2" }),
        ],
      });
      const { sentByHour } = await storage().summarize({ campaignId: "c1", executionId: "e1" });
      if (sentByHour === undefined) return;
      expect(sentByHour).toEqual({ [hour(8).toISOString()]: 2, [hour(10).toISOString()]: 1 });
    });

    it("applies a batch in order when it names one message several times", async () => {
      const { written } = await storage().record({
        records: [
          delivery("m1", { outcome: "failed", reason: "a" }),
          delivery("m1", { at: at(2) }),
          delivery("m1", { at: at(3) }),
          delivery("m2", { outcome: "failed", reason: "a" }),
          delivery("m2", { outcome: "excluded", reason: "suppressed", attempts: 0 }),
        ],
      });
      expect(written).toBe(4);
      const summary = await storage().summarize({ campaignId: "c1" });
      expect(summary.outcomes).toEqual({ sent: 1, failed: 0, excluded: 1 });
      expect(summary.firstSentAt).toEqual(at(2));
      expect(summary.excludedByReason).toEqual({ suppressed: 1 });
    });

    it("finds records by message id and by the provider's id, each once", async () => {
      const failed = delivery("m2", { outcome: "failed", reason: "mailbox full", attempts: 3 });
      const withProvider = delivery("m3", { providerMessageId: "prov-3", executionId: "e2" });
      await storage().record({ records: [delivery("m1"), failed, withProvider] });
      const byId = (records: readonly DeliveryRecord[]) =>
        [...records].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
      expect(byId(await storage().find({ messageIds: ["m2", "m1", "unknown"] }))).toEqual([
        delivery("m1"),
        failed,
      ]);
      expect(await storage().find({ providerMessageIds: ["prov-3", "nope"] })).toEqual([withProvider]);
      expect(await storage().find({ messageIds: ["m3"], providerMessageIds: ["prov-3", "m1"] })).toEqual([
        withProvider,
      ]);
      expect(await storage().find({})).toEqual([]);
      expect(await storage().find({ messageIds: [], providerMessageIds: [] })).toEqual([]);
      // A record written again with another provider id is found by the new id only.
      await storage().record({ records: [delivery("m2", { providerMessageId: "prov-2b" })] });
      expect((await storage().find({ providerMessageIds: ["prov-2b"] })).map((r) => r.messageId)).toEqual([
        "m2",
      ]);
    });

    it("counts sent messages per recipient and channel since an instant, across campaigns", async () => {
      await storage().record({
        records: [
          delivery("m1", { recipientId: "ana", at: at(0) }),
          delivery("m2", { recipientId: "ana", at: at(10), campaignId: "c2" }),
          delivery("m3", { recipientId: "ana", at: at(20), executionId: "e2" }),
          delivery("m4", { recipientId: "ana", at: at(30), channel: "sms" }),
          delivery("m5", { recipientId: "ana", at: at(40), outcome: "failed", reason: "x" }),
          delivery("m6", {
            recipientId: "ana",
            at: at(40),
            outcome: "excluded",
            reason: "frequency-capped",
            attempts: 0,
          }),
          delivery("m7", { recipientId: "ben", at: at(15) }),
        ],
      });
      const counts = await storage().countSentSince({
        recipientIds: ["ana", "ben", "zoe"],
        channel: "email",
        since: at(10),
      });
      expect(counts.get("ana")).toBe(2);
      expect(counts.get("ben")).toBe(1);
      expect(counts.get("zoe") ?? 0).toBe(0);
      const sms = await storage().countSentSince({ recipientIds: ["ana"], channel: "sms", since: at(0) });
      expect(sms.get("ana")).toBe(1);
      expect(
        (await storage().countSentSince({ recipientIds: [], channel: "email", since: at(0) })).size,
      ).toBe(0);
    });

    it("summarizes a campaign or one execution: outcomes, by channel, exclusions by reason, retries, first and last sent", async () => {
      await storage().record({
        records: [
          delivery("m1", { at: at(5), attempts: 2 }),
          delivery("m2", { at: at(1), channel: "sms" }),
          delivery("m3", { at: at(9), executionId: "e2", attempts: 4 }),
          delivery("m4", { outcome: "failed", reason: "bounced", attempts: 3 }),
          delivery("m5", { outcome: "excluded", reason: "no-consent", attempts: 0 }),
          delivery("m6", { outcome: "excluded", reason: "no-consent", attempts: 0, executionId: "e2" }),
          delivery("m7", { outcome: "excluded", reason: "quiet-hours", attempts: 0 }),
          delivery("m8", { campaignId: "other", at: at(0) }),
        ],
      });
      expect(await summaryOf({ campaignId: "c1" })).toStrictEqual({
        outcomes: { sent: 3, failed: 1, excluded: 3 },
        byChannel: { email: { sent: 2, failed: 1, excluded: 3 }, sms: { sent: 1, failed: 0, excluded: 0 } },
        excludedByReason: { "no-consent": 2, "quiet-hours": 1 },
        byTreatment: {},
        retries: 1 + 3 + 2,
        firstSentAt: at(1),
        lastSentAt: at(9),
      });
      expect(await summaryOf({ campaignId: "c1", executionId: "e1" })).toStrictEqual({
        outcomes: { sent: 2, failed: 1, excluded: 2 },
        byChannel: { email: { sent: 1, failed: 1, excluded: 2 }, sms: { sent: 1, failed: 0, excluded: 0 } },
        excludedByReason: { "no-consent": 1, "quiet-hours": 1 },
        byTreatment: {},
        retries: 1 + 2,
        firstSentAt: at(1),
        lastSentAt: at(5),
      });
      expect(await summaryOf({ campaignId: "none" })).toStrictEqual({
        outcomes: { sent: 0, failed: 0, excluded: 0 },
        byChannel: {},
        excludedByReason: {},
        byTreatment: {},
        retries: 0,
      });
    });
  });

  describe("delivery ledger of content experiments", () => {
    it("keeps each message's treatment and counts outcomes by treatment, the holdout included", async () => {
      await storage().record({
        records: [
          delivery("m1", { treatmentId: "a" }),
          delivery("m2", { treatmentId: "a", outcome: "failed", reason: "bounced" }),
          delivery("m3", { treatmentId: "b" }),
          delivery("m4", { treatmentId: "b", outcome: "excluded", reason: "no-consent", attempts: 0 }),
          delivery("m5", { treatmentId: "holdout", outcome: "excluded", reason: "holdout", attempts: 0 }),
          delivery("m6", { treatmentId: "holdout", outcome: "excluded", reason: "holdout", attempts: 0 }),
          delivery("m7"),
          delivery("m8", { treatmentId: "a", campaignId: "other" }),
          // A later run replaces the failure; the treatment is the same, as assignment is deterministic.
          delivery("m2", { treatmentId: "a", at: at(3) }),
        ],
      });
      const summary = await storage().summarize({ campaignId: "c1" });
      expect(summary.byTreatment).toStrictEqual({
        a: { sent: 2, failed: 0, excluded: 0 },
        b: { sent: 1, failed: 0, excluded: 1 },
        holdout: { sent: 0, failed: 0, excluded: 2 },
      });
      expect(summary.outcomes).toEqual({ sent: 4, failed: 0, excluded: 3 });
      expect(summary.excludedByReason).toEqual({ "no-consent": 1, holdout: 2 });
      expect((await storage().summarize({ campaignId: "c1", executionId: "e2" })).byTreatment).toEqual({});
      // Feedback finds a message's treatment through `find`, so reports can group engagement by it.
      const found = await storage().find({ messageIds: ["m3", "m7"] });
      expect(Object.fromEntries(found.map((r) => [r.messageId, r.treatmentId]))).toEqual({
        m3: "b",
        m7: undefined,
      });
    });
  });

  describe("delivery ledger under concurrent writers", () => {
    const WRITERS = 20;
    const each = <T>(fn: (i: number) => Promise<T>) =>
      Promise.all(Array.from({ length: WRITERS }, (_, i) => fn(i)));

    it(`${WRITERS} records of one sent message: the written counts sum to 1`, async () => {
      const results = await each((i) =>
        storage().record({ records: [delivery("m1", { providerMessageId: `p${i}` })] }),
      );
      expect(results.reduce((sum, { written }) => sum + written, 0)).toBe(1);
      expect((await storage().summarize({ campaignId: "c1" })).outcomes.sent).toBe(1);
    });

    it(`${WRITERS} overlapping batches: every message is written sent exactly once`, async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
      const results = await each((i) =>
        storage().record({ records: (i % 2 ? [...ids].reverse() : ids).map((id) => delivery(id)) }),
      );
      expect(results.reduce((sum, { written }) => sum + written, 0)).toBe(ids.length);
      expect((await storage().findSent({ messageIds: ids })).size).toBe(ids.length);
    });
  });

  describe("delivery ledger claims (workers)", () => {
    const claimOf = (id: string) => ({
      messageId: id,
      campaignId: "c1",
      executionId: "e1",
      recipientId: `r-${id}`,
      channel: "email" as const,
    });
    const claim = (owner: string, ...ids: string[]) =>
      storage().claim!({ claims: ids.map(claimOf), owner, at: at(1) });
    const skip = () => storage().claim === undefined;

    it("claims free messages, reports sent ones and another owner's pending ones as in doubt", async (t) => {
      if (skip()) return t.skip();
      await storage().record({
        records: [delivery("sent"), delivery("failed", { outcome: "failed", reason: "x" })],
      });
      expect(await claim("w1", "sent", "failed", "new")).toEqual({
        sent: new Set(["sent"]),
        inDoubt: new Set(),
      });
      // Claiming again is harmless for the same owner; another owner finds them in doubt.
      expect(await claim("w1", "failed", "new")).toEqual({ sent: new Set(), inDoubt: new Set() });
      expect(await claim("w2", "sent", "failed", "new", "free")).toEqual({
        sent: new Set(["sent"]),
        inDoubt: new Set(["failed", "new"]),
      });
      // Pending messages are counted nowhere and are not sent.
      expect(await storage().findSent({ messageIds: ["failed", "new", "free"] })).toEqual(new Set());
      expect((await storage().summarize({ campaignId: "c1" })).outcomes).toEqual({
        sent: 1,
        failed: 0,
        excluded: 0,
      });
    });

    it("record replaces a claim; release frees only the owner's unrecorded claims", async (t) => {
      if (skip()) return t.skip();
      await claim("w1", "a", "b", "c");
      await storage().record({
        records: [delivery("a"), delivery("b", { outcome: "excluded", reason: "no-consent", attempts: 0 })],
      });
      await storage().release!({ messageIds: ["a", "b", "c"], owner: "w2" });
      expect((await claim("w3", "c")).inDoubt).toEqual(new Set(["c"]));
      await storage().release!({ messageIds: ["a", "b", "c"], owner: "w1" });
      expect(await claim("w3", "a", "b", "c")).toEqual({ sent: new Set(["a"]), inDoubt: new Set() });
      expect((await storage().summarize({ campaignId: "c1" })).outcomes).toEqual({
        sent: 1,
        failed: 0,
        excluded: 0,
      });
      await storage().release!({ messageIds: [], owner: "w3" });
      expect(await claim("w3")).toEqual({ sent: new Set(), inDoubt: new Set() });
    });

    it("of 10 concurrent claimers of overlapping batches, each message is held by exactly one", async (t) => {
      if (skip()) return t.skip();
      const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, w) => claim(`w${w}`, ...(w % 2 ? [...ids].reverse() : ids))),
      );
      for (const id of ids) {
        const holders = results.filter((r) => !r.inDoubt.has(id) && !r.sent.has(id)).length;
        expect(holders).toBe(1);
      }
    });
  });
}
