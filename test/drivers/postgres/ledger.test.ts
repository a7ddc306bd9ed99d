import { afterAll, describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../../../src/model/execution.js";
import { databaseUrl } from "../../support/database.js";
import { postgresSchemas } from "../../support/postgres.js";

const url = databaseUrl("the PostgreSQL ledger's array encoding test");

(url === undefined ? describe.skip : describe)("postgresStorage's ledger writes (DATABASE_URL)", () => {
  const schemas = postgresSchemas(url!, "ck_ledger");
  afterAll(() => schemas.close());

  it("keeps any text as written: quotes, backslashes, commas, braces, 'NULL', emoji", async () => {
    const storage = await schemas.storage();
    const odd = ['a"b', "back\\slash", "com,ma", "{brace}", "NULL", "", "ü 🎉", '\\"', "tab\tnew\nline"];
    const at = new Date("2026-11-28T10:00:00.123Z");
    const records: DeliveryRecord[] = odd.map((text, i) => ({
      messageId: `m-${text}`,
      campaignId: `c-${text}`,
      executionId: "e",
      recipientId: `r-${text}`,
      channel: "email",
      outcome: i % 2 === 0 ? "sent" : "failed",
      reason: i % 2 === 0 ? undefined : `why ${text}`,
      attempts: i + 1,
      at: new Date(at.getTime() + i),
    }));
    expect(await storage.record({ records })).toEqual({ written: odd.length });
    const sent = await storage.findSent({ messageIds: records.map((r) => r.messageId) });
    expect([...sent].sort()).toEqual(
      records
        .filter((r) => r.outcome === "sent")
        .map((r) => r.messageId)
        .sort(),
    );
    for (const [i, text] of odd.entries()) {
      const summary = await storage.summarize({ campaignId: `c-${text}` });
      expect(summary.outcomes[i % 2 === 0 ? "sent" : "failed"]).toBe(1);
      if (i % 2 === 0) expect(summary.firstSentAt).toEqual(new Date(at.getTime() + i));
    }
    // Again, with the sent ones first-sent-wins: only the failed ones are written.
    expect(await storage.record({ records })).toEqual({ written: Math.floor(odd.length / 2) });
  });
});
