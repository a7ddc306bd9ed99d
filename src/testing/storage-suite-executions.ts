import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../model/audit.js";
import type { Storage } from "../ports/storage.js";
import { at, auditEntry, execution, expectCode } from "./storage-fixtures.js";

/** Executions (idempotent by request id), scheduler leases and the audit log. */
export function executionTests(storage: () => Storage): void {
  describe("executions", () => {
    it("creates and round-trips executions with and without optional fields", async () => {
      const full = execution("x1", "c1", "req-1");
      const minimal = execution("x2", "c1", "req-2", true);
      expect(await storage().createExecution({ execution: full })).toStrictEqual({
        execution: full,
        created: true,
      });
      expect(await storage().createExecution({ execution: minimal })).toStrictEqual({
        execution: minimal,
        created: true,
      });
      expect(await storage().getExecution({ id: "x1" })).toStrictEqual(full);
      expect(await storage().getExecution({ id: "x2" })).toStrictEqual(minimal);
      expect(await storage().getExecution({ id: "nope" })).toBeUndefined();
      expect((await storage().listExecutions({ filter: { campaignId: "c1" } })).items).toStrictEqual([
        full,
        minimal,
      ]);
    });

    it("updates every field, setting and then removing the optional ones", async () => {
      const minimal = execution("x1", "c1", "req-1", true);
      const full = { ...execution("x1", "c1", "req-1"), status: "in-progress" as const };
      await storage().createExecution({ execution: minimal });
      await storage().updateExecution({ execution: full });
      expect(await storage().getExecution({ id: "x1" })).toStrictEqual(full);
      // The last wave pass clears resumeAt.
      const { resumeAt: _resumeAt, ...rest } = full;
      const next = { ...rest, status: "succeeded" as const };
      await storage().updateExecution({ execution: next });
      expect(await storage().getExecution({ id: "x1" })).toStrictEqual(next);
      await storage().updateExecution({ execution: minimal });
      expect(await storage().getExecution({ id: "x1" })).toStrictEqual(minimal);
    });

    it("returns the existing execution for a repeated (campaign, request id), without creating one", async () => {
      const first = execution("x1", "c1", "req-1");
      await storage().createExecution({ execution: first });
      const again = await storage().createExecution({ execution: execution("x9", "c1", "req-1", true) });
      expect(again).toStrictEqual({ execution: first, created: false });
      expect(await storage().getExecution({ id: "x9" })).toBeUndefined();
      const otherCampaign = await storage().createExecution({ execution: execution("x2", "c2", "req-1") });
      expect(otherCampaign.created).toBe(true);
    });

    it("refuses an execution id taken by another request (ALREADY_EXISTS)", async () => {
      await storage().createExecution({ execution: execution("x1", "c1", "req-1") });
      await expectCode(
        storage().createExecution({ execution: execution("x1", "c1", "req-2") }),
        "ALREADY_EXISTS",
      );
    });

    it("updates an execution, and refuses to update an absent one (NOT_FOUND)", async () => {
      await storage().createExecution({ execution: execution("x1", "c1", "req-1", true) });
      const done = {
        ...execution("x1", "c1", "req-1", true),
        status: "succeeded" as const,
        targetedProfileCount: 1234,
        startedAt: at(1),
        finishedAt: at(2),
      };
      await storage().updateExecution({ execution: done });
      expect(await storage().getExecution({ id: "x1" })).toStrictEqual(done);
      await expectCode(storage().updateExecution({ execution: execution("ghost", "c1", "r") }), "NOT_FOUND");
      expect(await storage().getExecution({ id: "ghost" })).toBeUndefined();
    });

    it("lists by id in pages, filtered by campaign, status and kind", async () => {
      const make = (
        id: string,
        campaignId: string,
        status: "scheduled" | "succeeded",
        kind: "unitary" | "audience",
      ) => ({
        ...execution(id, campaignId, `req-${id}`, true),
        status,
        kind,
      });
      for (const e of [
        make("x4", "c1", "scheduled", "unitary"),
        make("x1", "c1", "succeeded", "audience"),
        make("x3", "c2", "succeeded", "unitary"),
        make("x2", "c1", "succeeded", "unitary"),
      ]) {
        await storage().createExecution({ execution: e });
      }
      const ids = async (params: Parameters<Storage["listExecutions"]>[0]) =>
        (await storage().listExecutions(params)).items.map((e) => e.id);
      expect(await ids({})).toEqual(["x1", "x2", "x3", "x4"]);
      expect(await ids({ filter: { campaignId: "c1" } })).toEqual(["x1", "x2", "x4"]);
      expect(await ids({ filter: { status: ["succeeded"] } })).toEqual(["x1", "x2", "x3"]);
      expect(await ids({ filter: { status: ["scheduled", "failed"] } })).toEqual(["x4"]);
      expect(await ids({ filter: { kind: "unitary", campaignId: "c1" } })).toEqual(["x2", "x4"]);
      const first = await storage().listExecutions({ filter: { kind: "unitary" }, limit: 2 });
      expect(first.items.map((e) => e.id)).toEqual(["x2", "x3"]);
      const second = await storage().listExecutions({
        filter: { kind: "unitary" },
        limit: 2,
        cursor: first.nextCursor as string,
      });
      expect(second.items.map((e) => e.id)).toEqual(["x4"]);
      expect(second.nextCursor).toBeUndefined();
    });

    it("filters by request id, alone and with the campaign", async () => {
      await storage().createExecution({ execution: execution("x1", "c1", "req-a") });
      await storage().createExecution({ execution: execution("x2", "c2", "req-a", true) });
      await storage().createExecution({ execution: execution("x3", "c1", "req-b", true) });
      await storage().createExecution({ execution: execution("x4", "c1", "req-a-longer", true) });
      const ids = async (filter: Parameters<Storage["listExecutions"]>[0]["filter"]) =>
        (await storage().listExecutions(filter === undefined ? {} : { filter })).items.map((e) => e.id);
      expect(await ids({ requestId: "req-a" })).toEqual(["x1", "x2"]);
      expect(await ids({ requestId: "req-a", campaignId: "c2" })).toEqual(["x2"]);
      expect(await ids({ requestId: "req-b", campaignId: "c2" })).toEqual([]);
      expect(await ids({ requestId: "REQ-A" })).toEqual([]);
      expect(
        await ids({ requestId: "req-a", campaignId: "c1", status: ["scheduled"], kind: "audience" }),
      ).toEqual(["x1"]);
      expect(
        (await storage().listExecutions({ filter: { requestId: "req-a", campaignId: "c1" } })).items,
      ).toStrictEqual([execution("x1", "c1", "req-a")]);
    });
  });

  describe("leases", () => {
    const ttlMs = 60_000;

    it("is taken when free and refused to another owner while held", async () => {
      expect(await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: at(0) })).toBe(true);
      expect(await storage().acquireLease({ key: "k", owner: "b", ttlMs, now: at(0.5) })).toBe(false);
      expect(await storage().acquireLease({ key: "other", owner: "b", ttlMs, now: at(0.5) })).toBe(true);
    });

    it("is renewed by its owner, which extends it", async () => {
      await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: at(0) });
      expect(await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: at(0.9) })).toBe(true);
      // Past the first expiry, but within the renewed one.
      expect(await storage().acquireLease({ key: "k", owner: "b", ttlMs, now: at(1.5) })).toBe(false);
    });

    it("is taken by another owner once expired, and then refused to the former owner", async () => {
      await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: at(0) });
      const justAfter = new Date(at(1).getTime() + 1);
      expect(await storage().acquireLease({ key: "k", owner: "b", ttlMs, now: justAfter })).toBe(true);
      expect(await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: justAfter })).toBe(false);
    });

    it("is freed by its owner's release only", async () => {
      await storage().acquireLease({ key: "k", owner: "a", ttlMs, now: at(0) });
      await storage().releaseLease({ key: "k", owner: "b" });
      expect(await storage().acquireLease({ key: "k", owner: "b", ttlMs, now: at(0.1) })).toBe(false);
      await storage().releaseLease({ key: "k", owner: "a" });
      expect(await storage().acquireLease({ key: "k", owner: "b", ttlMs, now: at(0.2) })).toBe(true);
      await storage().releaseLease({ key: "never-held", owner: "a" });
    });
  });

  describe("audit", () => {
    const entries: AuditEntry[] = [
      auditEntry("z1", { objectId: "c1", actorId: "ana", at: at(5) }),
      auditEntry("a2", { objectId: "c2", actorId: "ben", at: at(1) }, true),
      auditEntry("m3", { objectId: "c1", actorId: "ben", objectType: "campaign", outcome: "denied" }),
      auditEntry("b4", { objectId: "aud-1", actorId: "ana", objectType: "audience", action: "audience.put" }),
      auditEntry("k5", { objectId: "c1", actorId: "ana", outcome: "failed" }, true),
    ];

    it("lists entries in insertion order (not by id or time), round-tripped", async () => {
      for (const entry of entries) await storage().appendAudit({ entry });
      expect((await storage().listAudit({})).items).toStrictEqual(entries);
    });

    it("filters by object, object type and actor", async () => {
      for (const entry of entries) await storage().appendAudit({ entry });
      const ids = async (filter: Parameters<Storage["listAudit"]>[0]["filter"]) =>
        (await storage().listAudit(filter === undefined ? {} : { filter })).items.map((e) => e.id);
      expect(await ids({ objectId: "c1" })).toEqual(["z1", "m3", "k5"]);
      expect(await ids({ objectType: "audience" })).toEqual(["b4"]);
      expect(await ids({ actorId: "ben" })).toEqual(["a2", "m3"]);
      expect(await ids({ objectId: "c1", actorId: "ana" })).toEqual(["z1", "k5"]);
      expect(await ids({ objectId: "nothing" })).toEqual([]);
    });

    it("pages through filtered entries with no duplicate or missing one", async () => {
      for (const entry of entries) await storage().appendAudit({ entry });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await storage().listAudit({
          filter: { objectId: "c1" },
          limit: 1,
          ...(cursor === undefined ? {} : { cursor }),
        });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined && pages < 10);
      expect(seen).toEqual(["z1", "m3", "k5"]);
      expect(pages).toBe(3);
      // Entries appended after a page was read appear on the next page.
      const first = await storage().listAudit({ limit: 5 });
      expect(first.nextCursor).toBeUndefined();
      const partial = await storage().listAudit({ limit: 4 });
      await storage().appendAudit({ entry: auditEntry("late") });
      const rest = await storage().listAudit({ limit: 4, cursor: partial.nextCursor as string });
      expect(rest.items.map((e) => e.id)).toEqual(["k5", "late"]);
    });

    it("refuses an entry id appended twice (ALREADY_EXISTS)", async () => {
      await storage().appendAudit({ entry: auditEntry("e1") });
      await expectCode(storage().appendAudit({ entry: auditEntry("e1") }), "ALREADY_EXISTS");
      expect((await storage().listAudit({})).items).toHaveLength(1);
    });
  });
}
