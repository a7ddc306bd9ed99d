import type { Collection, Store, StoredDocument } from "../ports/storage.js";
import { vitest } from "./vitest.js";

const doc = (id: string, keys: StoredDocument["keys"] = {}, value: StoredDocument["value"] = { id }) => ({
  id,
  version: 1,
  keys,
  value,
});

/** Inserts `documents` into `collection`, expecting each to be new. */
async function seed(store: Store, collection: Collection, documents: StoredDocument[]): Promise<void> {
  for (const document of documents) {
    if ((await store.insert({ collection, document })) !== "ok")
      throw new Error(`seed: ${document.id} exists`);
  }
}

/** The ids `list` returns for `where`, reading every page of `limit`. */
async function listIds(
  store: Store,
  collection: Collection,
  where: Parameters<Store["list"]>[0]["where"],
  limit = 500,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      collection,
      ...(where ? { where } : {}),
      limit,
      ...(cursor ? { cursor } : {}),
    });
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

/** The document contract: results, compare-and-set, paging and every condition, and concurrent writers. */
export function storeTests(store: () => Store): void {
  const { describe, expect, it } = vitest();
  const c: Collection = "campaigns";

  describe("documents", () => {
    it("round-trips a document exactly, and keeps collections apart", async () => {
      const value = {
        id: "a",
        text: 'é 日本 🎉 "quoted" \\ back',
        nested: { list: [1, "two", null, true, { deep: [[]] }], empty: {} },
        big: 3_000_000_000,
        fraction: 0.125,
      };
      const document = {
        id: "a",
        version: 1,
        keys: { status: "live", tags: ["x", "y"], n: 3, on: true },
        value,
      };
      expect(await store().insert({ collection: c, document })).toBe("ok");
      expect(await store().get({ collection: c, id: "a" })).toStrictEqual(document);
      expect(await store().get({ collection: "audiences", id: "a" })).toBeUndefined();
      expect(await store().insert({ collection: "audiences", document: doc("a") })).toBe("ok");
      expect(await store().get({ collection: c, id: "missing" })).toBeUndefined();
    });

    it("never overwrites on insert: a taken id is `exists` and the stored document stays", async () => {
      await seed(store(), c, [doc("a", { status: "draft" })]);
      expect(
        await store().insert({ collection: c, document: doc("a", { status: "live" }, { other: 1 }) }),
      ).toBe("exists");
      expect((await store().get({ collection: c, id: "a" }))?.keys).toStrictEqual({ status: "draft" });
    });

    it("replaces by compare-and-set on the version", async () => {
      await seed(store(), c, [doc("a", { status: "draft" })]);
      const next = { id: "a", version: 2, keys: { status: "live" }, value: { id: "a", v: 2 } };
      expect(await store().replace({ collection: c, document: next, ifVersion: 2 })).toBe("conflict");
      expect(await store().replace({ collection: c, document: next, ifVersion: 1 })).toBe("ok");
      expect(await store().get({ collection: c, id: "a" })).toStrictEqual(next);
      expect(await store().replace({ collection: c, document: { ...next, version: 3 }, ifVersion: 1 })).toBe(
        "conflict",
      );
      expect(await store().replace({ collection: c, document: doc("zz"), ifVersion: 1 })).toBe("missing");
      expect(await store().get({ collection: c, id: "zz" })).toBeUndefined();
    });

    it("deletes, with or without a version to match", async () => {
      await seed(store(), c, [doc("a"), doc("b")]);
      expect(await store().delete({ collection: c, id: "a", ifVersion: 2 })).toBe("conflict");
      expect(await store().delete({ collection: c, id: "a", ifVersion: 1 })).toBe("ok");
      expect(await store().delete({ collection: c, id: "a" })).toBe("missing");
      expect(await store().delete({ collection: c, id: "b" })).toBe("ok");
      expect(await store().get({ collection: c, id: "b" })).toBeUndefined();
    });

    it("lists by id in code-point order, paged by cursor, with the limit clamped to 1..500", async () => {
      // U+FFFD sorts before U+1F389 by code point, after it by UTF-16 code unit.
      const ids = ["b", "a", "B", "a-1", "\uFFFD", "🎉", "ä", "a_2", "10", "9"];
      await seed(
        store(),
        c,
        ids.map((id) => doc(id)),
      );
      const ordered = [...ids].sort((x, y) => {
        const a = [...x].map((ch) => ch.codePointAt(0) as number);
        const b = [...y].map((ch) => ch.codePointAt(0) as number);
        for (let i = 0; i < Math.min(a.length, b.length); i++)
          if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
        return a.length - b.length;
      });
      expect(await listIds(store(), c, undefined, 3)).toStrictEqual(ordered);
      const first = await store().list({ collection: c, limit: 4 });
      expect(first.items.map((d) => d.id)).toStrictEqual(ordered.slice(0, 4));
      expect(first.nextCursor).toBe(ordered[3]);
      const rest = await store().list({ collection: c, cursor: first.nextCursor as string, limit: 100 });
      expect(rest.items.map((d) => d.id)).toStrictEqual(ordered.slice(4));
      expect(rest.nextCursor).toBeUndefined();
      expect((await store().list({ collection: c, limit: 0 })).items).toHaveLength(1);
      expect((await store().list({ collection: c })).items).toHaveLength(ids.length);
      expect((await store().list({ collection: "roles" })).items).toStrictEqual([]);
    });

    it("fills pages of 50 by default and 500 at most", async () => {
      await seed(
        store(),
        c,
        Array.from({ length: 520 }, (_, i) => doc(`d${String(i).padStart(4, "0")}`)),
      );
      expect((await store().list({ collection: c })).items).toHaveLength(50);
      const big = await store().list({ collection: c, limit: 10_000 });
      expect(big.items).toHaveLength(500);
      expect(big.nextCursor).toBe("d0499");
    });

    it("filters on every kind of condition", async () => {
      await seed(store(), c, [
        doc("a", {
          status: "live",
          type: "scheduled",
          tags: ["x", "y"],
          n: 1,
          due: "2026-01-01T00:00:00.000Z",
        }),
        doc("b", { status: "draft", type: "scheduled", tags: ["y"], n: 5, due: "2026-01-02T00:00:00.000Z" }),
        doc("c", { status: "live", type: "api-triggered", tags: [], n: 10 }),
        doc("d", { status: "stopped", on: true }),
      ]);
      const ids = (where: Parameters<Store["list"]>[0]["where"]) => listIds(store(), c, where);
      expect(await ids({ status: "live" })).toStrictEqual(["a", "c"]);
      expect(await ids({ status: "live", type: "scheduled" })).toStrictEqual(["a"]);
      expect(await ids({ tags: "y" })).toStrictEqual(["a", "b"]);
      expect(await ids({ status: { in: ["draft", "stopped"] } })).toStrictEqual(["b", "d"]);
      expect(await ids({ status: { in: [] } })).toStrictEqual([]);
      expect(await ids({ tags: { all: ["x", "y"] } })).toStrictEqual(["a"]);
      expect(await ids({ tags: { all: [] } })).toStrictEqual(["a", "b", "c"]);
      expect(await ids({ n: { gte: 5 } })).toStrictEqual(["b", "c"]);
      expect(await ids({ n: { gte: 2, lte: 9 } })).toStrictEqual(["b"]);
      expect(await ids({ due: { lte: "2026-01-01T12:00:00.000Z" } })).toStrictEqual(["a"]);
      expect(await ids({ due: { gte: "2026-01-01T00:00:00.000Z" } })).toStrictEqual(["a", "b"]);
      expect(await ids({ on: true })).toStrictEqual(["d"]);
      expect(await ids({ n: 5 })).toStrictEqual(["b"]);
      expect(await ids({ missing: "x" })).toStrictEqual([]);
      expect(await ids({ status: "live", tags: "x", n: { lte: 1 } })).toStrictEqual(["a"]);
    });

    it("compares a range only with keys of its bound's type, strings in code-point order", async () => {
      await seed(store(), c, [
        doc("n", { k: 5 }),
        doc("s", { k: "5" }),
        doc("ten", { k: "10" }),
        doc("lo", { k: "\uFFFD" }),
        doc("hi", { k: "🎉" }),
        doc("b", { k: true }),
        doc("l", { k: ["5"] }),
      ]);
      const ids = (where: Parameters<Store["list"]>[0]["where"]) => listIds(store(), c, where);
      expect(await ids({ k: { gte: 3 } })).toStrictEqual(["n"]);
      expect(await ids({ k: { gte: "" } })).toStrictEqual(["hi", "lo", "s", "ten"]);
      // By UTF-16 code unit, "🎉" would sort before U+FFFD.
      expect(await ids({ k: { gte: "\uFFFD" } })).toStrictEqual(["hi", "lo"]);
      expect(await ids({ k: { lte: "\uFFFD" } })).toStrictEqual(["lo", "s", "ten"]);
      expect(await ids({ k: {} })).toStrictEqual(["hi", "lo", "n", "s", "ten"]);
      expect(await ids({ k: { gte: 1, lte: "z" } })).toStrictEqual([]);
    });
  });

  describe("documents under concurrent writers", () => {
    const WRITERS = 20;
    const each = <T>(fn: (i: number) => Promise<T>) =>
      Promise.all(Array.from({ length: WRITERS }, (_, i) => fn(i)));

    it(`${WRITERS} inserts of one id: exactly one is ok`, async () => {
      const results = await each((i) => store().insert({ collection: c, document: doc("a", {}, { by: i }) }));
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
      const winner = results.indexOf("ok");
      expect((await store().get({ collection: c, id: "a" }))?.value).toStrictEqual({ by: winner });
    });

    it(`${WRITERS} replaces of one version: exactly one is ok, the others conflict`, async () => {
      await seed(store(), c, [doc("a")]);
      const results = await each((i) =>
        store().replace({
          collection: c,
          document: { ...doc("a", {}, { by: i }), version: 2 },
          ifVersion: 1,
        }),
      );
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
      expect(results.filter((r) => r === "conflict")).toHaveLength(WRITERS - 1);
      expect((await store().get({ collection: c, id: "a" }))?.value).toStrictEqual({
        by: results.indexOf("ok"),
      });
    });

    it(`${WRITERS} read-replace-retry loops: every change lands once, versions in sequence`, async () => {
      await seed(store(), c, [doc("a", {}, { names: [] })]);
      await each(async (i) => {
        for (;;) {
          const current = (await store().get({ collection: c, id: "a" })) as StoredDocument;
          const names = [...(current.value.names as string[]), `w${i}`];
          const next = { ...current, version: current.version + 1, value: { names } };
          if ((await store().replace({ collection: c, document: next, ifVersion: current.version })) === "ok")
            return;
        }
      });
      const final = (await store().get({ collection: c, id: "a" })) as StoredDocument;
      expect(final.version).toBe(WRITERS + 1);
      expect([...(final.value.names as string[])].sort()).toStrictEqual(
        Array.from({ length: WRITERS }, (_, i) => `w${i}`).sort(),
      );
    });

    it(`${WRITERS} deletes of one version: exactly one is ok`, async () => {
      await seed(store(), c, [doc("a")]);
      const results = await each(() => store().delete({ collection: c, id: "a", ifVersion: 1 }));
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
    });
  });
}
