import { describe, expect, it } from "vitest";
import { memoryLedger } from "../../../src/drivers/memory/ledger.js";
import type { DeliveryRecord } from "../../../src/model/execution.js";
import { T0 } from "../../support/fixtures.js";

const rec = (messageId: string, input: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  messageId,
  campaignId: "c",
  executionId: "e",
  recipientId: "r",
  channel: "email",
  outcome: "sent",
  attempts: 1,
  at: new Date(T0),
  ...input,
});

describe("memory ledger", () => {
  it("lets the first sent record win and replaces other outcomes", async () => {
    const ledger = memoryLedger();
    expect(
      (await ledger.record({ records: [rec("a", { outcome: "failed", reason: "x" }), rec("b")] })).written,
    ).toBe(2);
    expect(
      (await ledger.record({ records: [rec("a", { attempts: 2 }), rec("b", { outcome: "failed" })] }))
        .written,
    ).toBe(1);
    expect(ledger.get("a")).toMatchObject({ outcome: "sent", attempts: 2 });
    expect(ledger.get("b")).toMatchObject({ outcome: "sent", attempts: 1 });
    expect(await ledger.findSent({ messageIds: ["a", "b", "c"] })).toEqual(new Set(["a", "b"]));
  });

  it("counts sent messages per recipient and channel since an instant, across campaigns", async () => {
    const ledger = memoryLedger();
    await ledger.record({
      records: [
        rec("1", { recipientId: "x", at: new Date(T0 - 10) }),
        rec("2", { recipientId: "x", campaignId: "d", at: new Date(T0) }),
        rec("3", { recipientId: "x", channel: "sms" }),
        rec("4", { recipientId: "y", outcome: "excluded" }),
      ],
    });
    expect(
      await ledger.countSentSince({ recipientIds: ["x", "y"], channel: "email", since: new Date(T0 - 10) }),
    ).toEqual(new Map([["x", 2]]));
    await ledger.record({ records: [rec("5", { recipientId: "y" })] });
    expect(
      await ledger.countSentSince({ recipientIds: ["x", "y"], channel: "email", since: new Date(T0) }),
    ).toEqual(
      new Map([
        ["x", 1],
        ["y", 1],
      ]),
    );
  });

  it("summarises a campaign or one execution", async () => {
    const ledger = memoryLedger();
    await ledger.record({
      records: [
        rec("1", { attempts: 3, at: new Date(T0 + 5) }),
        rec("2", { outcome: "excluded", reason: "no-consent", attempts: 0 }),
        rec("3", { outcome: "failed", attempts: 2 }),
        rec("4", { executionId: "f" }),
        rec("5", { campaignId: "other" }),
      ],
    });
    expect(await ledger.summarize({ campaignId: "c", executionId: "e" })).toEqual({
      outcomes: { sent: 1, failed: 1, excluded: 1 },
      byChannel: { email: { sent: 1, failed: 1, excluded: 1 } },
      excludedByReason: { "no-consent": 1 },
      byTreatment: {},
      retries: 3,
      firstSentAt: new Date(T0 + 5),
      lastSentAt: new Date(T0 + 5),
      sentByHour: { [new Date(T0 - (T0 % 3_600_000)).toISOString()]: 1 },
    });
    expect((await ledger.summarize({ campaignId: "c" })).outcomes.sent).toBe(2);
  });
});

describe("memory ledger, compact storage", () => {
  it("copies records in and reads them back whole, whether or not the id ends with the recipient id", async () => {
    const ledger = memoryLedger();
    const prefixed = rec("m:1:c:1:e:email:r", { providerMessageId: "prov-1" });
    const odd = rec("free-form", { recipientId: "zoe", outcome: "failed", reason: "bounced", attempts: 2 });
    await ledger.record({ records: [prefixed, odd] });
    prefixed.attempts = 9; // the ledger holds a copy
    expect(ledger.get(prefixed.messageId)).toStrictEqual({ ...prefixed, attempts: 1 });
    expect(ledger.get("free-form")).toStrictEqual(odd);
    expect(ledger.get("free-form")).not.toBe(ledger.get("free-form"));
    await ledger.record({ records: [rec("free-form", { recipientId: "zoe" })] });
    expect(ledger.get("free-form")).toStrictEqual(rec("free-form", { recipientId: "zoe" }));
    expect(ledger.size).toBe(2);
  });

  it("keeps many records findable, and counts them per recipient after the fact", async () => {
    const ledger = memoryLedger();
    const records = Array.from({ length: 5000 }, (_, i) =>
      rec(`m:1:c:1:e:email:r${i}`, { recipientId: `r${i}`, outcome: i % 2 ? "sent" : "excluded" }),
    );
    await ledger.record({ records });
    expect(ledger.size).toBe(5000);
    const sent = await ledger.findSent({ messageIds: records.map((r) => r.messageId) });
    expect(sent.size).toBe(2500);
    expect(sent.has("m:1:c:1:e:email:r1")).toBe(true);
    const counts = await ledger.countSentSince({
      recipientIds: ["r1", "r2"],
      channel: "email",
      since: new Date(0),
    });
    expect(counts).toEqual(new Map([["r1", 1]]));
  });
});
