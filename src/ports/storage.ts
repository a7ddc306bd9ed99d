/**
 * Where campaign-kit keeps everything: a small document store ({@link Store}) and the delivery ledger
 * ({@link DeliveryLedger}), together a {@link Storage}.
 *
 * Why it looks like this: a host should be able to put campaign-kit on its own database in an afternoon. So
 * the store knows nothing of campaigns, roles or executions: it keeps JSON documents in a handful of named
 * collections, each with an id, a version for compare-and-set, and a few index `keys` the kit filters on.
 * Five operations, each returning what happened (`"ok"`, `"exists"`, `"conflict"`, `"missing"`) rather than
 * throwing the kit's errors; the kit's typed repositories turn those results into errors, and do everything
 * else (permissions, the status machine, claims on running executions, idempotency) on top of:
 * - `insert`, which never overwrites: what makes API triggers idempotent (an execution's id derives from its
 *   request id), occurrences claimed once and ids unique;
 * - `replace` and `delete` with `ifVersion`: compare-and-set, so of two writers of one version exactly one
 *   wins (campaign edits, approval decisions, claims, one open version per live campaign).
 * Nothing needs a transaction across documents, so any database (or a `Map`) can implement it: in SQL it is
 * one table with a primary key on (collection, id) and an index on `keys`; see `migrationSql` in
 * `campaign-kit/postgres` for one. The ledger is its own contract because it is the hot path: batched reads
 * and writes keyed by message id.
 *
 * The reference implementation is `memoryStorage()`; `postgresStorage({ pool })` is the durable one. Both pass
 * `runStorageSuite` from `campaign-kit/testing`: run it on yours.
 */
import type { DeliveryLedger } from "./ledger.js";
import type { RateBudget } from "./rate-budget.js";

/**
 * The collections campaign-kit keeps documents in. A store may hold them in one table or one each; ids are
 * unique within a collection.
 *
 * @example
 * ```ts
 * // One MongoDB collection per campaign-kit collection, each with its unique index on the id.
 * for (const name of COLLECTIONS) await db.collection(`ck_${name}`).createIndex({ id: 1 }, { unique: true });
 * ```
 */
export const COLLECTIONS = [
  "campaigns",
  "audiences",
  "channel-configurations",
  "roles",
  "role-assignments",
  "approval-policies",
  "approval-requests",
  "executions",
  "execution-slices",
  "audit",
  "feedback",
  "suppressions",
] as const;
/** A collection's name; see {@link COLLECTIONS}. */
export type Collection = (typeof COLLECTIONS)[number];

/** A value a document can be filtered on: one scalar, or a list of strings (tags, channels). */
export type KeyValue = string | number | boolean | readonly string[];

/**
 * A document's index keys: the few values {@link Store.list} filters on, named by the kit (`status`,
 * `campaignId`, `channels`...). A key that has no value is absent, never `null`.
 */
export type DocumentKeys = Readonly<Record<string, KeyValue>>;

/** One stored document. */
export interface StoredDocument {
  /** Unique within its collection: 1 to 200 characters, no control characters. */
  id: string;
  /** Starts at 1 on insert; each replace writes the version the caller gives (the kit gives the old + 1). */
  version: number;
  /** What {@link Store.list} filters on; stored beside `value`, not inside it. */
  keys: DocumentKeys;
  /**
   * The document itself: a JSON object. A store may hand back a `Date` inside it as its ISO string (JSON
   * has no dates); the kit parses what it reads back either way.
   */
  value: Readonly<Record<string, unknown>>;
}

/**
 * One condition on a key, in {@link Where}:
 * - a value: the key equals it, or, on a list key, the list contains it;
 * - `{ in: [...] }`: the key equals one of the values (scalar keys);
 * - `{ all: [...] }`: the list key contains every value;
 * - `{ gte, lte }`: the key lies in the range, both ends included (strings in code-point order, numbers by
 *   value); either end may be omitted. A bound holds only for a key of its own type (`{ gte: 3 }` never
 *   matches the string `"5"`), and a range matches string and number keys only (`{}`: any of them).
 * A document without the key never matches.
 */
export type Condition =
  | string
  | number
  | boolean
  | { readonly in: readonly (string | number | boolean)[] }
  | { readonly all: readonly string[] }
  | { readonly gte?: string | number; readonly lte?: string | number };

/** Conditions on keys, all of which must hold. */
export type Where = Readonly<Record<string, Condition>>;

/** A page of a list: at most `limit` items ordered by id, and the cursor of the next page when there is one. */
export interface Page<T> {
  /** This page's items, in the list's order; empty when nothing (more) matches. */
  items: T[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Paging parameters: `limit` defaults to 50 (at most 500); `cursor` comes from the previous {@link Page}. */
export interface PageParams {
  /** The most items to return: a whole number, default 50, clamped to 1..500. */
  limit?: number;
  /** The previous page's `nextCursor`, to continue after it; absent for the first page. */
  cursor?: string;
}

/** Keeps campaign-kit's documents. Implement it (with {@link DeliveryLedger}) to use your own database. */
export interface Store {
  /**
   * Stores a new document. Atomic: of concurrent inserts of one id, exactly one gets `"ok"`.
   *
   * @returns `"ok"`, or `"exists"` when the id is taken (the stored document is left as it was).
   */
  insert(params: { collection: Collection; document: StoredDocument }): Promise<"ok" | "exists">;
  /** The document, or `undefined`. */
  get(params: { collection: Collection; id: string }): Promise<StoredDocument | undefined>;
  /**
   * Writes `document` over the stored one with its id, if that one's version is `ifVersion`. Atomic
   * compare-and-set: of two writers of one version exactly one gets `"ok"`.
   *
   * @returns `"ok"`; `"conflict"` when the stored version differs; `"missing"` when there is none.
   */
  replace(params: {
    collection: Collection;
    document: StoredDocument;
    ifVersion: number;
  }): Promise<"ok" | "conflict" | "missing">;
  /**
   * Removes a document; with `ifVersion`, only if that is its version (compare-and-set, as {@link replace}).
   *
   * @returns `"ok"`, `"conflict"` or `"missing"`.
   */
  delete(params: {
    collection: Collection;
    id: string;
    ifVersion?: number;
  }): Promise<"ok" | "conflict" | "missing">;
  /**
   * The documents matching `where`, ordered by id in code-point order (as PostgreSQL's `COLLATE "C"`),
   * after `cursor` (the last id of the previous page), at most `limit` (default 50, clamped to 1..500).
   */
  list(params: { collection: Collection; where?: Where } & PageParams): Promise<Page<StoredDocument>>;
  /**
   * Optional: reports changes to the documents of `collections`, made by this process or any other sharing
   * the storage. The kit caches the documents it reads on every call (campaigns, channel configurations,
   * roles...) only when its store offers this, and drops what it cached as each change arrives; a store
   * without it is read every time. Resolves once it is listening.
   *
   * `onChange` must be called after the write is durable and visible to reads (a PostgreSQL `NOTIFY` is
   * delivered after the commit). `onGap` is called when changes may have been missed (the connection that
   * listens was lost): the kit then forgets everything and reads through until {@link StoreWatch.live} is
   * `true` again. Wait between attempts to listen again with `sleep` (the kit's clock: on a test's virtual
   * clock, attempts follow virtual time); it rejects when the watch is closed.
   */
  watch?(params: {
    collections: readonly Collection[];
    onChange: (change: DocumentChange) => void;
    onGap: () => void;
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  }): Promise<StoreWatch>;
}

/** A change {@link Store.watch} reports: the document was inserted, replaced or deleted. */
export interface DocumentChange {
  /** The document's collection. */
  collection: Collection;
  /** The document's id. */
  id: string;
}

/** A running {@link Store.watch}. */
export interface StoreWatch {
  /** Whether changes are being reported now: `false` after a gap, until listening again. */
  readonly live: boolean;
  /** Stops listening. */
  close(): Promise<void>;
}

/** Everything campaign-kit keeps: the documents and the delivery ledger. */
export interface Storage extends Store, DeliveryLedger {
  /**
   * Optional: rate budgets shared by every process using this storage, so a campaign's `rateLimit` holds
   * across all its workers (`runWorker`). Without it each worker keeps its own bucket.
   */
  rateBudget?: RateBudget;
}

/**
 * The page size `params` asks for: 50 by default, truncated and clamped to 1..500. For implementations.
 *
 * @example
 * ```ts
 * pageLimit({}); // 50
 * pageLimit({ limit: 0 }); // 1
 * pageLimit({ limit: 10_000 }); // 500
 * ```
 */
export function pageLimit(params: PageParams): number {
  const limit = params.limit;
  return Math.min(
    Math.max(Math.trunc(typeof limit === "number" && Number.isFinite(limit) ? limit : 50), 1),
    500,
  );
}

/**
 * Whether `value` lies on the `sign` side of `bound` (1: at or above, -1: at or below). A bound holds only for
 * a key of its own type: JavaScript's `>=` would compare `5 >= "3"` as numbers and strings by UTF-16 code unit.
 */
const within = (value: KeyValue, bound: string | number | undefined, sign: 1 | -1): boolean => {
  if (bound === undefined) return true;
  if (typeof value === "string" && typeof bound === "string") return sign * compareIds(value, bound) >= 0;
  return typeof value === "number" && typeof bound === "number" && sign * (value - bound) >= 0;
};

const inRange = (value: KeyValue, range: { gte?: string | number; lte?: string | number }): boolean =>
  (typeof value === "string" || typeof value === "number") &&
  within(value, range.gte, 1) &&
  within(value, range.lte, -1);

/**
 * Whether a document's `keys` satisfy `where`, as {@link Condition} defines it. For stores that filter in
 * memory; a database store translates the same rules into its query language.
 *
 * @example
 * ```ts
 * keysMatch({ status: "live", tags: ["promo"] }, { status: { in: ["live"] }, tags: "promo" }); // true
 * keysMatch({ n: 5 }, { n: { gte: "3" } }); // false: a string bound never matches a number
 * ```
 */
export function keysMatch(keys: DocumentKeys, where: Where | undefined): boolean {
  if (where === undefined) return true;
  for (const [name, condition] of Object.entries(where)) {
    if (!Object.hasOwn(keys, name)) return false;
    const value = keys[name] as KeyValue;
    if (typeof condition !== "object") {
      if (Array.isArray(value) ? !value.includes(condition as string) : value !== condition) return false;
    } else if ("in" in condition) {
      if (Array.isArray(value) || !condition.in.includes(value as string | number | boolean)) return false;
    } else if ("all" in condition) {
      if (!Array.isArray(value) || !condition.all.every((item) => value.includes(item))) return false;
    } else if (!inRange(value, condition)) return false;
  }
  return true;
}

/** A UTF-16 code unit moved so that comparing units orders strings by code point (surrogates last). */
const fixup = (unit: number): number =>
  unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;

/**
 * Compares two ids in code-point order, the order {@link Store.list} pages in (PostgreSQL's `COLLATE "C"` on
 * UTF-8). JavaScript's `<` compares UTF-16 code units instead, which disagrees for characters above U+FFFF.
 * For stores that sort in memory.
 *
 * @example
 * ```ts
 * ["🎉", "\uFFFD", "a"].sort(compareIds); // ["a", "\uFFFD", "🎉"]; .sort() alone puts "🎉" second
 * ```
 */
export function compareIds(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/** Every method of {@link Storage}, for a run-time check that an object implements it. */
export const STORAGE_METHODS = [
  "insert",
  "get",
  "replace",
  "delete",
  "list",
  "findSent",
  "record",
  "countSentSince",
  "find",
  "summarize",
] as const satisfies readonly (keyof Storage)[];
