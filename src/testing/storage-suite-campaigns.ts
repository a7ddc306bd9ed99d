import { describe, expect, it } from "vitest";
import type { Campaign } from "../model/campaign.js";
import type { Storage } from "../ports/storage.js";
import { at, expectCode, fullApiCampaign, fullCampaign, minimalCampaign } from "./storage-fixtures.js";

/** Reads every page of campaigns matching `filter`, `limit` at a time. */
async function allPages(
  storage: Storage,
  params: Parameters<Storage["listCampaigns"]>[0],
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await storage.listCampaigns(cursor === undefined ? params : { ...params, cursor });
    ids.push(...page.items.map((campaign) => campaign.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 1000);
  return { ids, pages };
}

/** Campaign CRUD, optimistic versions, paging and filters. */
export function campaignTests(storage: () => Storage): void {
  describe("campaigns", () => {
    it("round-trips a campaign with every field, and one with none of the optional ones", async () => {
      const full = fullCampaign("c-full");
      const fullApi = fullApiCampaign("c-full-api");
      const minimal = minimalCampaign("c-min");
      await storage().createCampaign({ campaign: full });
      await storage().createCampaign({ campaign: fullApi });
      await storage().createCampaign({ campaign: minimal });
      expect(await storage().getCampaign({ id: "c-full" })).toStrictEqual(full);
      expect(await storage().getCampaign({ id: "c-full-api" })).toStrictEqual(fullApi);
      expect(await storage().getCampaign({ id: "c-min" })).toStrictEqual(minimal);
    });

    it("returns undefined for an unknown id", async () => {
      expect(await storage().getCampaign({ id: "nope" })).toBeUndefined();
    });

    it("refuses a second campaign with the same id (ALREADY_EXISTS)", async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      await expectCode(storage().createCampaign({ campaign: minimalCampaign("c1") }), "ALREADY_EXISTS");
      expect((await storage().getCampaign({ id: "c1" }))?.type).toBe("scheduled");
    });

    it("keeps stored values apart from the caller's objects", async () => {
      const campaign = fullCampaign("c1");
      await storage().createCampaign({ campaign });
      campaign.tags.push("mutated");
      campaign.schedule!.startAt!.setTime(0);
      const read = await storage().getCampaign({ id: "c1" });
      read?.tags.push("mutated-too");
      expect(await storage().getCampaign({ id: "c1" })).toStrictEqual(fullCampaign("c1"));
    });

    it("updates at the expected version and stores the new version", async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      const next = fullCampaign("c1", {
        version: 2,
        name: "Renamed",
        status: "live",
        tags: ["x"],
        updatedAt: at(9),
      });
      await storage().updateCampaign({ campaign: next, expectedVersion: 1 });
      expect(await storage().getCampaign({ id: "c1" })).toStrictEqual(next);
    });

    it("an update can remove optional fields", async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      const {
        description: _d,
        schedule: _s,
        activatedAt: _a,
        replacesCampaignId: _r,
        ...rest
      } = fullCampaign("c1");
      const next = { ...rest, version: 2 } as Campaign;
      await storage().updateCampaign({ campaign: next, expectedVersion: 1 });
      expect(await storage().getCampaign({ id: "c1" })).toStrictEqual(next);
    });

    it("refuses an update at a stale version (CONFLICT) and keeps the stored campaign", async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1") });
      await storage().updateCampaign({ campaign: fullCampaign("c1", { version: 2 }), expectedVersion: 1 });
      await expectCode(
        storage().updateCampaign({
          campaign: fullCampaign("c1", { version: 2, name: "Lost" }),
          expectedVersion: 1,
        }),
        "CONFLICT",
      );
      expect(await storage().getCampaign({ id: "c1" })).toStrictEqual(fullCampaign("c1", { version: 2 }));
    });

    it("refuses to update an absent campaign (NOT_FOUND)", async () => {
      await expectCode(
        storage().updateCampaign({ campaign: fullCampaign("ghost", { version: 2 }), expectedVersion: 1 }),
        "NOT_FOUND",
      );
      expect(await storage().getCampaign({ id: "ghost" })).toBeUndefined();
    });

    it("deletes at the expected version only", async () => {
      await storage().createCampaign({ campaign: fullCampaign("c1", { version: 3 }) });
      await expectCode(storage().deleteCampaign({ id: "c1", expectedVersion: 2 }), "CONFLICT");
      expect(await storage().getCampaign({ id: "c1" })).toBeDefined();
      await storage().deleteCampaign({ id: "c1", expectedVersion: 3 });
      expect(await storage().getCampaign({ id: "c1" })).toBeUndefined();
      await expectCode(storage().deleteCampaign({ id: "c1", expectedVersion: 3 }), "NOT_FOUND");
    });

    it("lists by id in pages, with no duplicate or missing campaign, and no cursor on the last page", async () => {
      const ids = ["c07", "c03", "c10", "c01", "c05", "c02", "c09", "c04", "c08", "c06", "C00", "c-"];
      for (const id of ids) await storage().createCampaign({ campaign: minimalCampaign(id) });
      const sorted = [...ids].sort();
      const { ids: listed, pages } = await allPages(storage(), { limit: 5 });
      expect(listed).toEqual(sorted);
      expect(pages).toBe(3);
      const exact = await storage().listCampaigns({ limit: 12 });
      expect(exact.items).toHaveLength(12);
      expect(exact.nextCursor).toBeUndefined();
      const first = await storage().listCampaigns({ limit: 5 });
      expect(first.items.map((c) => c.id)).toEqual(sorted.slice(0, 5));
      expect(first.nextCursor).toBeDefined();
    });

    it("returns 50 campaigns per page by default", async () => {
      await Promise.all(
        Array.from({ length: 55 }, (_, i) =>
          storage().createCampaign({ campaign: minimalCampaign(`c${String(i).padStart(2, "0")}`) }),
        ),
      );
      const first = await storage().listCampaigns({});
      expect(first.items).toHaveLength(50);
      const second = await storage().listCampaigns({ cursor: first.nextCursor as string });
      expect(second.items.map((c) => c.id)).toEqual(["c50", "c51", "c52", "c53", "c54"]);
      expect(second.nextCursor).toBeUndefined();
    });

    it("returns an empty page when nothing matches", async () => {
      expect(await storage().listCampaigns({})).toStrictEqual({ items: [] });
    });

    describe("filters", () => {
      const seed = async (s: Storage) => {
        const campaigns = [
          fullCampaign("a", { status: "draft", tags: ["spring", "sale"], name: "Spring SALE 100%" }),
          fullCampaign("b", { status: "live", tags: ["spring"], name: "Spring news" }),
          fullCampaign("c", { status: "stopped", tags: [], name: "Winter", category: "transactional" }),
          minimalCampaign("d", { status: "live", tags: ["sale"], name: "Reset_code" }),
          fullCampaign("e", { status: "draft", replacesCampaignId: "b", name: "Spring news v2" }),
          minimalCampaign("f", {
            status: "live",
            actions: [
              { channel: "webhook", channelConfigurationId: "hook", content: { payload: "{}" } },
              { channel: "email", channelConfigurationId: "tx", content: { subject: "s", text: "t" } },
            ],
          }),
        ];
        for (const campaign of campaigns) await s.createCampaign({ campaign });
      };
      const ids = async (filter: NonNullable<Parameters<Storage["listCampaigns"]>[0]["filter"]>) =>
        (await allPages(storage(), { filter, limit: 2 })).ids;

      it("by status (any of)", async () => {
        await seed(storage());
        expect(await ids({ status: ["live"] })).toEqual(["b", "d", "f"]);
        expect(await ids({ status: ["draft", "stopped"] })).toEqual(["a", "c", "e"]);
      });
      it("by type and category", async () => {
        await seed(storage());
        expect(await ids({ type: "api-triggered" })).toEqual(["d", "f"]);
        expect(await ids({ category: "transactional" })).toEqual(["c", "d", "f"]);
        expect(await ids({ type: "scheduled", category: "transactional" })).toEqual(["c"]);
      });
      it("by channel (an action on it)", async () => {
        await seed(storage());
        expect(await ids({ channel: "email" })).toEqual(["a", "b", "c", "e", "f"]);
        expect(await ids({ channel: "webhook" })).toEqual(["f"]);
        expect(await ids({ channel: "push" })).toEqual(["d"]);
      });
      it("by tags (all of them)", async () => {
        await seed(storage());
        expect(await ids({ tags: ["spring"] })).toEqual(["a", "b", "e"]);
        expect(await ids({ tags: ["spring", "sale"] })).toEqual(["a", "e"]);
        expect(await ids({ tags: ["sale", "none"] })).toEqual([]);
      });
      it("by text (case-insensitive substring of the name, no wildcards)", async () => {
        await seed(storage());
        expect(await ids({ text: "spring" })).toEqual(["a", "b", "e"]);
        expect(await ids({ text: "SALE 1" })).toEqual(["a"]);
        expect(await ids({ text: "%" })).toEqual(["a"]);
        expect(await ids({ text: "_" })).toEqual(["d"]);
      });
      it("by the campaign a new version replaces", async () => {
        await seed(storage());
        expect(await ids({ replacesCampaignId: "b" })).toEqual(["e"]);
      });
      it("every given filter at once", async () => {
        await seed(storage());
        expect(
          await ids({ status: ["draft", "live"], tags: ["spring"], channel: "sms", text: "news" }),
        ).toEqual(["b", "e"]);
      });
    });
  });
}
