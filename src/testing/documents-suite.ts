import type { Channel } from "../model/common.js";
import type { Storage } from "../ports/storage.js";
import { createRepositories } from "../repositories/index.js";
import {
  approvalRequest,
  at,
  audience,
  auditEntry,
  configuration,
  execution,
  fullApiCampaign,
  fullCampaign,
  minimalCampaign,
  policy,
  role,
} from "./storage-fixtures.js";
import { vitest } from "./vitest.js";

const CHANNELS: readonly Channel[] = ["email", "sms", "push", "webhook"];

/**
 * What the kit writes, read back the same: every domain object, with every field set (and with none of the
 * optional ones), written through the kit's repositories and read back through them. This is where a store
 * that loses a nested field, a number above 2^31, a date, or an absent field's absence is caught.
 */
export function documentTests(storage: () => Storage): void {
  const { describe, expect, it } = vitest();

  describe("the kit's documents", () => {
    it("round-trip every field of every domain object, and the absence of optional ones", async () => {
      const repos = createRepositories(storage());
      const cases = [
        [repos.campaigns, [fullCampaign("c1"), fullApiCampaign("c2"), minimalCampaign("c3")]],
        [repos.audiences, [audience("a1"), audience("a2", true)]],
        [
          repos.configurations,
          CHANNELS.flatMap((channel) => [
            configuration(`${channel}-1`, channel),
            configuration(`${channel}-2`, channel, true),
          ]),
        ],
        [repos.roles, [role("r1"), role("r2", true)]],
        [repos.assignments, [{ userId: "ana", roleId: "campaign-manager" }]],
        [repos.policies, [policy("p1"), policy("p2", true)]],
        [repos.requests, [approvalRequest("q1", "c1", at(1)), approvalRequest("q2", "c1", at(2), true)]],
        [repos.executions, [execution("x1", "c1", "req-1"), execution("x2", "c1", "req-2", true)]],
        [
          repos.slices,
          [
            {
              id: "x1:2026-01-15T10:00:00.000Z:1",
              executionId: "x1",
              dueAt: at(60),
              namespace: "email",
              identities: ["a@x.io"],
            },
          ],
        ],
        [
          repos.audit,
          [auditEntry("2026-01-15T09:00:00.000Z-a"), auditEntry("2026-01-15T09:00:00.000Z-b", {}, true)],
        ],
      ] as const;
      for (const [repo, values] of cases) {
        for (const value of values) {
          // biome-ignore lint/suspicious/noExplicitAny: each row pairs a repository with its own type.
          const typed = repo as any;
          await typed.create(value);
          expect((await typed.find(typed.idOf(value))).value, typed.idOf(value)).toStrictEqual(value);
        }
      }
    });

    it("find what the kit filters on", async () => {
      const repos = createRepositories(storage());
      await repos.campaigns.create(fullCampaign("c1", { status: "live", tags: ["promo", "q1"] }));
      await repos.campaigns.create(fullCampaign("c2", { status: "draft", tags: ["promo"] }));
      const ids = async (where: Parameters<typeof repos.campaigns.list>[0]) =>
        (await repos.campaigns.list(where)).items.map((c) => c.id);
      expect(await ids({ status: { in: ["live", "scheduled"] } })).toStrictEqual(["c1"]);
      expect(await ids({ tags: { all: ["promo", "q1"] } })).toStrictEqual(["c1"]);
      expect(await ids({ channels: "email" })).toStrictEqual(["c1", "c2"]);
      await repos.executions.create(execution("x1", "c1", "r1"));
      await repos.executions.create({ ...execution("x2", "c2", "r2", true), status: "in-progress" });
      expect(
        (await repos.executions.list({ status: { in: ["scheduled", "in-progress"] } })).items,
      ).toHaveLength(2);
      expect((await repos.executions.list({ campaignId: "c2" })).items.map((e) => e.id)).toStrictEqual([
        "x2",
      ]);
    });
  });
}
