import { describe, expect, it } from "vitest";
import type { Storage } from "../ports/storage.js";
import {
  at,
  audience,
  configuration,
  policy,
  approvalRequest as request,
  role,
  sortById,
} from "./storage-fixtures.js";

/** Audiences, channel configurations, roles and approvals: keyed puts and reads. */
export function objectTests(storage: () => Storage): void {
  describe("audiences", () => {
    it("round-trips, replaces and reads undefined for an unknown id", async () => {
      await storage().putAudience({ audience: audience("a1") });
      await storage().putAudience({ audience: audience("a2", true) });
      expect(await storage().getAudience({ id: "a1" })).toStrictEqual(audience("a1"));
      expect(await storage().getAudience({ id: "a2" })).toStrictEqual(audience("a2", true));
      await storage().putAudience({ audience: audience("a1", true) });
      expect(await storage().getAudience({ id: "a1" })).toStrictEqual(audience("a1", true));
      expect(await storage().getAudience({ id: "nope" })).toBeUndefined();
    });

    it("lists by id in pages", async () => {
      for (const id of ["a3", "a1", "a2"]) await storage().putAudience({ audience: audience(id) });
      const first = await storage().listAudiences({ limit: 2 });
      expect(first.items).toStrictEqual([audience("a1"), audience("a2")]);
      const second = await storage().listAudiences({ limit: 2, cursor: first.nextCursor as string });
      expect(second).toStrictEqual({ items: [audience("a3")] });
    });
  });

  describe("channel configurations", () => {
    it("round-trips every channel's settings and replaces", async () => {
      const all = [
        configuration("email-1", "email"),
        configuration("sms-1", "sms"),
        configuration("push-1", "push"),
        configuration("hook-1", "webhook"),
      ];
      for (const c of all) await storage().putChannelConfiguration({ configuration: c });
      for (const c of all) expect(await storage().getChannelConfiguration({ id: c.id })).toStrictEqual(c);
      for (const c of all) {
        const minimal = configuration(`${c.id}-min`, c.channel, true);
        await storage().putChannelConfiguration({ configuration: minimal });
        expect(await storage().getChannelConfiguration({ id: minimal.id })).toStrictEqual(minimal);
      }
      const deactivated = { ...configuration("sms-1", "sms"), status: "deactivated" as const };
      await storage().putChannelConfiguration({ configuration: deactivated });
      expect(await storage().getChannelConfiguration({ id: "sms-1" })).toStrictEqual(deactivated);
      expect(await storage().getChannelConfiguration({ id: "nope" })).toBeUndefined();
    });

    it("lists by id in pages, optionally of one channel", async () => {
      for (const id of ["e3", "e1", "e2"])
        await storage().putChannelConfiguration({ configuration: configuration(id, "email") });
      await storage().putChannelConfiguration({ configuration: configuration("e15", "sms") });
      const first = await storage().listChannelConfigurations({ channel: "email", limit: 2 });
      expect(first.items.map((c) => c.id)).toEqual(["e1", "e2"]);
      const second = await storage().listChannelConfigurations({
        channel: "email",
        limit: 2,
        cursor: first.nextCursor as string,
      });
      expect(second.items.map((c) => c.id)).toEqual(["e3"]);
      expect(second.nextCursor).toBeUndefined();
      const all = await storage().listChannelConfigurations({});
      expect(all.items.map((c) => c.id)).toEqual(["e1", "e15", "e2", "e3"]);
    });
  });

  describe("roles", () => {
    it("stores custom roles, replacing by id", async () => {
      expect(await storage().listRoles()).toEqual([]);
      await storage().putRole({ role: role("r2") });
      await storage().putRole({ role: role("r1", true) });
      expect(sortById(await storage().listRoles())).toStrictEqual([role("r1", true), role("r2")]);
      await storage().putRole({ role: role("r2", true) });
      expect(sortById(await storage().listRoles())).toStrictEqual([role("r1", true), role("r2", true)]);
    });

    it("assigns (twice is a no-op), lists and revokes a user's roles", async () => {
      await storage().assignRole({ assignment: { userId: "ana", roleId: "campaign-manager" } });
      await storage().assignRole({ assignment: { userId: "ana", roleId: "custom" } });
      await storage().assignRole({ assignment: { userId: "ana", roleId: "campaign-manager" } });
      await storage().assignRole({ assignment: { userId: "ben", roleId: "campaign-viewer" } });
      expect((await storage().listUserRoles({ userId: "ana" })).sort()).toEqual([
        "campaign-manager",
        "custom",
      ]);
      expect(await storage().revokeRole({ assignment: { userId: "ana", roleId: "custom" } })).toBe(true);
      expect(await storage().revokeRole({ assignment: { userId: "ana", roleId: "custom" } })).toBe(false);
      expect(await storage().revokeRole({ assignment: { userId: "zoe", roleId: "custom" } })).toBe(false);
      expect(await storage().listUserRoles({ userId: "ana" })).toEqual(["campaign-manager"]);
      expect(await storage().listUserRoles({ userId: "ben" })).toEqual(["campaign-viewer"]);
      expect(await storage().listUserRoles({ userId: "zoe" })).toEqual([]);
    });
  });

  describe("approvals", () => {
    it("stores policies, replacing by id", async () => {
      expect(await storage().listApprovalPolicies()).toEqual([]);
      await storage().putApprovalPolicy({ policy: policy("p2") });
      await storage().putApprovalPolicy({ policy: policy("p1", true) });
      expect(sortById(await storage().listApprovalPolicies())).toStrictEqual([
        policy("p1", true),
        policy("p2"),
      ]);
      await storage().putApprovalPolicy({ policy: policy("p2", true) });
      expect(sortById(await storage().listApprovalPolicies())).toStrictEqual([
        policy("p1", true),
        policy("p2", true),
      ]);
    });

    it("round-trips requests and replaces them", async () => {
      await storage().putApprovalRequest({ request: request("q1", "c1", at(1)) });
      await storage().putApprovalRequest({ request: request("q2", "c1", at(2), true) });
      expect(await storage().getApprovalRequest({ id: "q1" })).toStrictEqual(request("q1", "c1", at(1)));
      expect(await storage().getApprovalRequest({ id: "q2" })).toStrictEqual(
        request("q2", "c1", at(2), true),
      );
      const decided = {
        ...request("q2", "c1", at(2), true),
        status: "approved" as const,
        decidedBy: "ben",
        decidedAt: at(3),
      };
      await storage().putApprovalRequest({ request: decided });
      expect(await storage().getApprovalRequest({ id: "q2" })).toStrictEqual(decided);
      expect(await storage().getApprovalRequest({ id: "nope" })).toBeUndefined();
    });

    it("decides a request by compare-and-set on its status", async () => {
      const pending = request("q1", "c1", at(1), true);
      expect(await storage().putApprovalRequest({ request: pending, ifStatus: "pending" })).toBe(false);
      expect(await storage().getApprovalRequest({ id: "q1" })).toBeUndefined();
      expect(await storage().putApprovalRequest({ request: pending })).toBe(true);
      const approved = { ...pending, status: "approved" as const, decidedBy: "ben", decidedAt: at(2) };
      expect(await storage().putApprovalRequest({ request: approved, ifStatus: "pending" })).toBe(true);
      const cancelled = { ...pending, status: "cancelled" as const, decidedBy: "ana", decidedAt: at(3) };
      expect(await storage().putApprovalRequest({ request: cancelled, ifStatus: "pending" })).toBe(false);
      expect(await storage().getApprovalRequest({ id: "q1" })).toStrictEqual(approved);
    });

    it("lists a campaign's requests oldest first", async () => {
      await storage().putApprovalRequest({ request: request("qa", "c1", at(30)) });
      await storage().putApprovalRequest({ request: request("qb", "c1", at(10)) });
      await storage().putApprovalRequest({ request: request("qc", "c2", at(5)) });
      await storage().putApprovalRequest({ request: request("qd", "c1", at(20), true) });
      const listed = await storage().listApprovalRequests({ campaignId: "c1" });
      expect(listed.map((r) => r.id)).toEqual(["qb", "qd", "qa"]);
      expect(listed[1]).toStrictEqual(request("qd", "c1", at(20), true));
      expect(await storage().listApprovalRequests({ campaignId: "c3" })).toEqual([]);
    });
  });
}
