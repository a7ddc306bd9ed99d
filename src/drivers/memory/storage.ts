import { memoryRateBudget } from "../../ports/rate-budget.js";
import {
  type Collection,
  compareIds,
  type DocumentChange,
  keysMatch,
  pageLimit,
  type Storage,
  type StoredDocument,
} from "../../ports/storage.js";
import { memoryLedger } from "./ledger.js";

// Documents are copied in and out, so changing an object after storing it, or one read back, never changes
// what is stored: as with a database.
const copy = structuredClone;

/**
 * The embedded {@link Storage}: documents in `Map`s and a {@link memoryLedger}, gone when the process exits.
 * The default of `createCampaignKit`, and the reference the conformance suite is written against; use it for
 * tests, demos and single-process hosts that keep nothing, and `postgresStorage` from `campaign-kit/postgres`
 * otherwise. Every method checks and writes with no `await` in between, so each runs whole before another
 * starts: that is what makes compare-and-set atomic in one process.
 *
 * @example
 * ```ts
 * import { createCampaignKit, memoryStorage } from "campaign-kit";
 *
 * const kit = await createCampaignKit({ storage: memoryStorage() });
 * ```
 */
export function memoryStorage(): Storage {
  const ledger = memoryLedger();
  const collections = new Map<Collection, Map<string, StoredDocument>>();
  // Watchers hear of a change as soon as it is made: in one process there is nothing to deliver late.
  const watchers = new Set<{
    collections: ReadonlySet<Collection>;
    onChange: (change: DocumentChange) => void;
  }>();
  const changed = (collection: Collection, id: string) => {
    for (const watcher of watchers)
      if (watcher.collections.has(collection)) watcher.onChange({ collection, id });
  };
  const documents = (collection: Collection) => {
    let map = collections.get(collection);
    if (!map) {
      map = new Map();
      collections.set(collection, map);
    }
    return map;
  };

  return {
    findSent: (params) => ledger.findSent(params),
    record: (params) => ledger.record(params),
    countSentSince: (params) => ledger.countSentSince(params),
    summarize: (params) => ledger.summarize(params),
    find: (params) => ledger.find(params),
    claim: (params) => ledger.claim(params),
    rateBudget: memoryRateBudget(),
    release: (params) => ledger.release(params),

    async insert({ collection, document }) {
      const map = documents(collection);
      if (map.has(document.id)) return "exists";
      map.set(document.id, copy(document));
      changed(collection, document.id);
      return "ok";
    },
    get: async ({ collection, id }) => {
      const document = documents(collection).get(id);
      return document && copy(document);
    },
    async replace({ collection, document, ifVersion }) {
      const map = documents(collection);
      const stored = map.get(document.id);
      if (stored === undefined) return "missing";
      if (stored.version !== ifVersion) return "conflict";
      map.set(document.id, copy(document));
      changed(collection, document.id);
      return "ok";
    },
    async delete({ collection, id, ifVersion }) {
      const map = documents(collection);
      const stored = map.get(id);
      if (stored === undefined) return "missing";
      if (ifVersion !== undefined && stored.version !== ifVersion) return "conflict";
      map.delete(id);
      changed(collection, id);
      return "ok";
    },
    async list({ collection, where, cursor, ...paging }) {
      const limit = pageLimit(paging);
      const matching: StoredDocument[] = [];
      for (const document of documents(collection).values()) {
        if (
          (cursor === undefined || compareIds(document.id, cursor) > 0) &&
          keysMatch(document.keys, where)
        ) {
          matching.push(document);
        }
      }
      matching.sort((a, b) => compareIds(a.id, b.id));
      const items = matching.slice(0, limit).map((document) => copy(document));
      const last = items[items.length - 1];
      return matching.length > limit && last !== undefined ? { items, nextCursor: last.id } : { items };
    },
    async watch({ collections, onChange }) {
      const watcher = { collections: new Set(collections), onChange };
      watchers.add(watcher);
      return {
        get live() {
          return watchers.has(watcher);
        },
        close: async () => {
          watchers.delete(watcher);
        },
      };
    },
  };
}
