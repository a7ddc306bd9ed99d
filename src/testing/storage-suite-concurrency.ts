import { describe, expect, it } from "vitest";
import type { Storage } from "../ports/storage.js";
import {
  approvalRequest,
  at,
  delivery,
  execution,
  fullCampaign,
  hasCode,
  settle,
} from "./storage-fixtures.js";

const WRITERS = 20;
const each = <T>(fn: (index: number) => Promise<T>) =>
  Array.from({ length: WRITERS }, (_, index) => fn(index));

/** The atomic operations under concurrent callers: exactly one winner each time. */
export function concurrencyTests(storage: () => Storage): void {
  describe("concurrent writers", () => {
    it(`${WRITERS} updates of one version: exactly one wins, the others get CONFLICT`, async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      const { values, errors } = await settle(
        each((i) =>
          storage()
            .updateCampaign({
              campaign: fullCampaign("c1", { version: 2, name: `writer ${i}` }),
              expectedVersion: 1,
            })
            .then(() => i),
        ),
      );
      expect(values).toHaveLength(1);
      expect(errors.every((error) => hasCode(error, "CONFLICT"))).toBe(true);
      const stored = await storage().getCampaign({ id: "c1" });
      expect(stored?.version).toBe(2);
      expect(stored?.name).toBe(`writer ${values[0]}`);
    });

    it(`${WRITERS} deletes of one version: exactly one wins`, async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      const { values, errors } = await settle(
        each(() => storage().deleteCampaign({ id: "c1", expectedVersion: 1 })),
      );
      expect(values).toHaveLength(1);
      expect(errors.every((error) => hasCode(error, "NOT_FOUND") || hasCode(error, "CONFLICT"))).toBe(true);
    });

    it(`${WRITERS} records of one sent message: the written counts sum to 1`, async () => {
      const results = await Promise.all(
        each((i) => storage().record({ records: [delivery("m1", { providerMessageId: `p${i}` })] })),
      );
      expect(results.reduce((sum, { written }) => sum + written, 0)).toBe(1);
      expect((await storage().summarize({ campaignId: "c1" })).outcomes.sent).toBe(1);
    });

    it(`${WRITERS} overlapping batches: every message is written sent exactly once`, async () => {
      const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
      const results = await Promise.all(
        each((i) =>
          storage().record({ records: (i % 2 ? [...ids].reverse() : ids).map((id) => delivery(id)) }),
        ),
      );
      expect(results.reduce((sum, { written }) => sum + written, 0)).toBe(ids.length);
      expect((await storage().findSent({ messageIds: ids })).size).toBe(ids.length);
    });

    it(`${WRITERS} createExecution with one request id: one created, all return its id`, async () => {
      const results = await Promise.all(
        each((i) => storage().createExecution({ execution: execution(`x${i}`, "c1", "req-1") })),
      );
      expect(results.filter((result) => result.created)).toHaveLength(1);
      const ids = new Set(results.map((result) => result.execution.id));
      expect(ids.size).toBe(1);
      expect((await storage().listExecutions({})).items).toHaveLength(1);
    });

    it(`${WRITERS} decisions on one pending request: exactly one is written`, async () => {
      const pending = approvalRequest("q1", "c1", at(1), true);
      await storage().putApprovalRequest({ request: pending });
      const results = await Promise.all(
        each((i) =>
          storage().putApprovalRequest({
            request: { ...pending, status: i % 2 ? "approved" : "cancelled", decidedBy: `u${i}` },
            ifStatus: "pending",
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await storage().getApprovalRequest({ id: "q1" }))?.decidedBy).toBe(`u${winner}`);
    });

    it(`${WRITERS} owners acquire one lease: exactly one gets it`, async () => {
      const results = await Promise.all(
        each((i) =>
          storage().acquireLease({ key: "occurrence-1", owner: `owner-${i}`, ttlMs: 60_000, now: at() }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it(`${WRITERS} owners take one expired lease: exactly one gets it`, async () => {
      await storage().acquireLease({ key: "k", owner: "crashed", ttlMs: 1_000, now: at(0) });
      const results = await Promise.all(
        each((i) => storage().acquireLease({ key: "k", owner: `owner-${i}`, ttlMs: 60_000, now: at(1) })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
