import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../src/domain/execution.js";
import { messageId, messageIdPrefix } from "../src/engine/message-id.js";
import type { LedgerScope } from "../src/storage/ledger.js";
import { memoryLedger, splitAt } from "../src/storage/memory-ledger.js";
import { T0 } from "./dispatcher/fixtures.js";

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
      retries: 3,
      firstSentAt: new Date(T0 + 5),
      lastSentAt: new Date(T0 + 5),
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

describe("memory ledger, fast paths by recipient", () => {
  const scope = { campaignId: "c", executionId: "e", channel: "email" as const };
  const idOf = (recipientId: string, s: LedgerScope = scope) => messageId({ ...s, recipientId });
  const scoped = (recipientId: string, input: Partial<DeliveryRecord> = {}, s: LedgerScope = scope) =>
    rec(idOf(recipientId, s), { ...s, recipientId, ...input });

  it("are not enumerable, so a spread wrapper falls back to the methods it overrides", () => {
    const ledger = memoryLedger();
    expect(typeof ledger.findSentByRecipient).toBe("function");
    expect(typeof ledger.recordByRecipient).toBe("function");
    expect(Object.keys(ledger)).not.toContain("findSentByRecipient");
    expect({ ...ledger }.recordByRecipient).toBeUndefined();
  });

  it("see what the reference methods wrote, and the reference methods see what they wrote", async () => {
    const ledger = memoryLedger();
    expect(await ledger.findSentByRecipient!({ ...scope, recipientIds: ["a"] })).toEqual(new Set());
    await ledger.record({ records: [scoped("a"), scoped("b", { outcome: "failed", reason: "x" })] });
    const written = await ledger.recordByRecipient!({
      ...scope,
      records: [scoped("a", { attempts: 5 }), scoped("b"), scoped("c", { providerMessageId: "p-c" })],
    });
    expect(written).toEqual({ written: 2 });
    expect(await ledger.findSentByRecipient!({ ...scope, recipientIds: ["a", "b", "c", "d"] })).toEqual(
      new Set(["a", "b", "c"]),
    );
    expect(await ledger.findSent({ messageIds: ["a", "b", "c", "d"].map((r) => idOf(r)) })).toEqual(
      new Set(["a", "b", "c"].map((r) => idOf(r))),
    );
    expect(ledger.get(idOf("a"))).toStrictEqual(scoped("a"));
    expect(ledger.get(idOf("c"))).toStrictEqual(scoped("c", { providerMessageId: "p-c" }));
    expect(ledger.size).toBe(3);
    // Another execution's ids share nothing with this one's.
    expect(
      await ledger.findSentByRecipient!({ ...scope, executionId: "e2", recipientIds: ["a", "b"] }),
    ).toEqual(new Set());
  });

  it("key ids that look like message ids by their whole text, however they are written", async () => {
    const ledger = memoryLedger();
    const odd = [
      "m:01:c:1:e:email:a", // a length with a leading zero: not the canonical prefix of ("c", "e", "email")
      "m:1:c:1:e:email:", // no recipient
      "m:1:c:1:e", // cut short
      "m:9:c:1:e:email:a", // a length past the end
      "m:1:c:1:e:email:a:b", // a recipient with a colon
    ];
    await ledger.record({ records: odd.map((id, i) => rec(id, { recipientId: `r${i}` })) });
    expect(await ledger.findSent({ messageIds: odd })).toEqual(new Set(odd));
    expect(await ledger.findSentByRecipient!({ ...scope, recipientIds: ["a", "", "a:b", "r0"] })).toEqual(
      new Set(["", "a:b"]),
    );
    for (const [i, id] of odd.entries()) expect(ledger.get(id)?.recipientId).toBe(`r${i}`);
    expect(ledger.get(idOf("a"))).toBeUndefined();
    expect(splitAt("m:1:c:1:e:email:a")).toBe("m:1:c:1:e:email:".length);
    expect(splitAt("m:9:c:1:e:email:a")).toBe(-1);
    expect(splitAt("free-form")).toBe(-1);
  });

  it("leave the ledger exactly as the reference methods would, whatever the writes", async () => {
    const scopes: LedgerScope[] = [scope, { ...scope, executionId: "f" }, { ...scope, channel: "sms" }];
    const write = fc.record({
      scope: fc.nat(scopes.length - 1),
      recipients: fc.array(fc.constantFrom("a", "b", "c", "d", "x:y", "", "é"), { maxLength: 6 }),
      outcome: fc.constantFrom("sent" as const, "failed" as const, "excluded" as const),
      attempts: fc.nat(3),
      at: fc.integer({ min: 0, max: 5 }),
      reason: fc.option(fc.constantFrom("no-consent", "bounced"), { nil: undefined }),
      provider: fc.option(fc.constantFrom("p1", "p2"), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 12 }), async (writes) => {
        const reference = memoryLedger();
        const fast = memoryLedger();
        for (const w of writes) {
          const s = scopes[w.scope]!;
          const records = w.recipients.map((recipientId) => {
            const input: Partial<DeliveryRecord> = {
              outcome: w.outcome,
              attempts: w.attempts,
              at: new Date(w.at),
            };
            if (w.reason !== undefined) input.reason = w.reason;
            if (w.provider !== undefined) input.providerMessageId = w.provider;
            return scoped(recipientId, input, s);
          });
          const recipientIds = w.recipients;
          expect(await fast.findSentByRecipient!({ ...s, recipientIds })).toEqual(
            new Set(
              [...(await reference.findSent({ messageIds: recipientIds.map((r) => idOf(r, s)) }))].map((id) =>
                id.slice(messageIdPrefix(s.campaignId, s.executionId, s.channel).length),
              ),
            ),
          );
          expect(await fast.recordByRecipient!({ ...s, records })).toEqual(
            await reference.record({ records }),
          );
        }
        expect(fast.size).toBe(reference.size);
        for (const s of scopes) {
          for (const r of ["a", "b", "c", "d", "x:y", "", "é"])
            expect(fast.get(idOf(r, s))).toEqual(reference.get(idOf(r, s)));
          expect(await fast.summarize(s)).toEqual(await reference.summarize(s));
        }
        for (const channel of ["email", "sms"] as const) {
          const query = { recipientIds: ["a", "b", "x:y", ""], channel, since: new Date(2) };
          expect(await fast.countSentSince(query)).toEqual(await reference.countSentSince(query));
        }
      }),
      { numRuns: 300 },
    );
  });
});
