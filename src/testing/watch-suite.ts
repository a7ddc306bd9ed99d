import { systemClock } from "../ports/clock.js";
import type { DocumentChange, Storage, Store } from "../ports/storage.js";
import { vitest } from "./vitest.js";

/** How long a report may take to arrive in these tests: a notification, not a poll. */
const REPORT_WITHIN_MS = 5_000;

/** Resolves with the first change `matches` accepts among those `changes` collects, or fails after a while. */
async function reported(
  changes: DocumentChange[],
  matches: (change: DocumentChange) => boolean,
): Promise<DocumentChange> {
  const deadline = Date.now() + REPORT_WITHIN_MS;
  for (;;) {
    const found = changes.find(matches);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `No matching change reported within ${REPORT_WITHIN_MS} ms; got ${JSON.stringify(changes)}`,
      );
    }
    await systemClock.sleep(5);
  }
}

const campaign = (id: string, version = 1) => ({ id, version, keys: {}, value: { id, version } });

/**
 * The optional `Store.watch`: what the kit's read cache relies on. Skipped, with a note, for a store
 * without it. `peer` makes another storage over the same data, as another process sees it.
 */
export function watchTests(storage: () => Storage, peer?: () => Promise<Store> | Store): void {
  const { describe, expect, it } = vitest();
  describe("watch (optional: the kit caches reads only with it)", () => {
    it("reports inserts, replaces and deletes of watched collections made through the store", async (test) => {
      const store = storage();
      if (store.watch === undefined) return test.skip("this store has no `watch`");
      const changes: DocumentChange[] = [];
      const watch = await store.watch({
        collections: ["campaigns", "roles"],
        onChange: (change) => changes.push(change),
        onGap: () => {},
        sleep: (ms, signal) => systemClock.sleep(ms, signal),
      });
      try {
        expect(watch.live).toBe(true);
        await store.insert({ collection: "campaigns", document: campaign("c1") });
        await reported(changes, (c) => c.collection === "campaigns" && c.id === "c1");
        changes.length = 0;
        await store.replace({ collection: "campaigns", document: campaign("c1", 2), ifVersion: 1 });
        await reported(changes, (c) => c.id === "c1");
        changes.length = 0;
        await store.delete({ collection: "campaigns", id: "c1" });
        await reported(changes, (c) => c.id === "c1");
        changes.length = 0;
        // Not watched: never reported, even once a later watched change shows reports are flowing.
        await store.insert({ collection: "audit", document: campaign("a1") });
        await store.insert({ collection: "roles", document: campaign("r1") });
        await reported(changes, (c) => c.collection === "roles" && c.id === "r1");
        expect(changes.filter((c) => c.collection === "audit")).toEqual([]);
      } finally {
        await watch.close();
      }
      expect(watch.live).toBe(false);
    });

    it("reports a change made by another process over the same data", async (test) => {
      const store = storage();
      if (store.watch === undefined) return test.skip("this store has no `watch`");
      if (peer === undefined) return test.skip("no `peer`: the store is not shared between processes");
      const other = await peer();
      const changes: DocumentChange[] = [];
      const watch = await store.watch({
        collections: ["channel-configurations"],
        onChange: (change) => changes.push(change),
        onGap: () => {},
        sleep: (ms, signal) => systemClock.sleep(ms, signal),
      });
      try {
        await other.insert({ collection: "channel-configurations", document: campaign("from-elsewhere") });
        await reported(changes, (c) => c.id === "from-elsewhere");
      } finally {
        await watch.close();
      }
    });

    it("stops reporting once closed", async (test) => {
      const store = storage();
      if (store.watch === undefined) return test.skip("this store has no `watch`");
      const changes: DocumentChange[] = [];
      const watch = await store.watch({
        collections: ["campaigns"],
        onChange: (change) => changes.push(change),
        onGap: () => {},
        sleep: (ms, signal) => systemClock.sleep(ms, signal),
      });
      await watch.close();
      await store.insert({ collection: "campaigns", document: campaign("after-close") });
      await systemClock.sleep(100);
      expect(changes).toEqual([]);
    });
  });
}
