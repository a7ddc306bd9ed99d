import { describe, expect, it } from "vitest";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import type { Collection, DocumentChange, Storage, StoreWatch } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { CACHE_MAX_AGE_MS, ReadCache } from "../../src/repositories/read-cache.js";
import { virtualClock } from "../../src/testing/virtual-clock.js";
import { emailConfiguration } from "../support/fixtures.js";

/**
 * A memory storage whose `get`s are counted and whose reports are in the test's hands, as another process's
 * changes are: `report` delivers one, `gap` loses the connection, `resume` listens again.
 */
function observedStorage() {
  const inner = memoryStorage();
  let reads = 0;
  let live = true;
  let listener: { onChange: (change: DocumentChange) => void; onGap: () => void } | undefined;
  let heldRead: Promise<void> | undefined;
  const storage: Storage = {
    ...inner,
    get: async (params) => {
      reads++;
      const document = await inner.get(params);
      await heldRead;
      return document;
    },
    watch: async ({ onChange, onGap }) => {
      listener = { onChange, onGap };
      return {
        get live() {
          return live;
        },
        close: async () => {
          live = false;
        },
      } satisfies StoreWatch;
    },
  };
  return {
    storage,
    inner,
    reads: () => reads,
    report: (collection: Collection, id: string) => listener?.onChange({ collection, id }),
    gap: () => {
      live = false;
      listener?.onGap();
    },
    resume: () => {
      live = true;
    },
    /** Holds every `get` after its read until `release` is called. */
    hold: () => {
      let release = () => {};
      heldRead = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        heldRead = undefined;
        release();
      };
    },
  };
}

async function setUp() {
  const observed = observedStorage();
  const clock = virtualClock({ start: "2026-12-01T08:00:00Z" });
  const cache = new ReadCache(clock);
  await cache.start(observed.storage);
  const repos = createRepositories(observed.storage, cache);
  const news = emailConfiguration;
  await repos.configurations.insert(news);
  return { ...observed, clock, cache, repos, news };
}

describe("the read cache", () => {
  it("serves a document read again from memory, frozen", async () => {
    const { repos, reads, news } = await setUp();
    const first = await repos.configurations.getCached(news.id);
    const second = await repos.configurations.getCached(news.id);
    expect(second?.value).toEqual(news);
    expect(reads()).toBe(1);
    expect(Object.isFrozen(second?.value)).toBe(true);
    expect(second).toBe(first);
  });

  it("reads again after this process writes, and after another process's change is reported", async () => {
    const { repos, reads, report, inner, news } = await setUp();
    await repos.configurations.getCached(news.id);
    await repos.configurations.update(news.id, (c) => ({ ...c, name: "Renamed here" }));
    expect((await repos.configurations.getCached(news.id))?.value.name).toBe("Renamed here");
    const before = reads();
    // Another process writes: the store changes, and this process hears of it only through the report.
    const stored = await inner.get({ collection: "channel-configurations", id: news.id });
    await inner.replace({
      collection: "channel-configurations",
      document: {
        ...stored!,
        version: stored!.version + 1,
        value: { ...stored!.value, name: "Renamed elsewhere" },
      },
      ifVersion: stored!.version,
    });
    expect((await repos.configurations.getCached(news.id))?.value.name).toBe("Renamed here");
    report("channel-configurations", news.id);
    expect((await repos.configurations.getCached(news.id))?.value.name).toBe("Renamed elsewhere");
    expect(reads()).toBe(before + 1);
  });

  it("never keeps a read that was under way when a change was reported", async () => {
    const { repos, reads, report, hold, news } = await setUp();
    const release = hold();
    const underWay = repos.configurations.getCached(news.id);
    report("channel-configurations", news.id);
    release();
    await underWay;
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(2);
  });

  it("reads through while the store can't vouch for its reports, and caches again once it can", async () => {
    const { repos, reads, gap, resume, news } = await setUp();
    await repos.configurations.getCached(news.id);
    gap();
    await repos.configurations.getCached(news.id);
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(3);
    resume();
    await repos.configurations.getCached(news.id);
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(4);
  });

  it(`serves an entry ${CACHE_MAX_AGE_MS / 1000} s at most, even if no report ever comes`, async () => {
    const { repos, reads, clock, news } = await setUp();
    await repos.configurations.getCached(news.id);
    await clock.advance(CACHE_MAX_AGE_MS - 1);
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(1);
    await clock.advance(1);
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(2);
  });

  it("keeps nothing for a store that can't report changes, or once closed", async () => {
    const { storage, reads, cache, news } = await setUp();
    const { watch: _, ...blind } = storage;
    const uncached = createRepositories(blind, new ReadCache(virtualClock()));
    await uncached.configurations.getCached(news.id);
    await uncached.configurations.getCached(news.id);
    expect(reads()).toBe(2);
    await cache.close();
    const repos = createRepositories(storage, cache);
    await repos.configurations.getCached(news.id);
    await repos.configurations.getCached(news.id);
    expect(reads()).toBe(4);
  });

  it("never caches what changes on every call", async () => {
    const { cache } = await setUp();
    expect(cache.serves("campaigns")).toBe(true);
    for (const collection of ["executions", "execution-slices", "audit"] as const) {
      expect(cache.serves(collection)).toBe(false);
    }
  });
});
