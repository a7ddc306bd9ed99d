import type { Clock } from "../ports/clock.js";
import type { Collection, Store, StoreWatch } from "../ports/storage.js";

/**
 * The collections every trigger and send reads and few operations write: campaigns, their configurations and
 * audiences, roles and their assignments, approval policies, suppressions. Executions, slices and the audit log change on
 * every call and are never cached.
 */
export const CACHED_COLLECTIONS = [
  "campaigns",
  "audiences",
  "channel-configurations",
  "roles",
  "role-assignments",
  "approval-policies",
  // Only whether a channel has any active entry: what spares a send with an empty list its lookup.
  "suppressions",
] as const satisfies readonly Collection[];

/** A collection {@link ReadCache} keeps. */
export type CachedCollection = (typeof CACHED_COLLECTIONS)[number];

/** Past this many entries in one collection, the cache starts that collection afresh: a bound, not an LRU. */
const MAX_ENTRIES = 10_000;

/**
 * How long an entry is served at most, in ms: reports of changes normally drop it long before, and this
 * bounds how stale a read can be even if a report never comes (a connection dead without an error).
 */
export const CACHE_MAX_AGE_MS = 10_000;

/**
 * Reads of {@link CACHED_COLLECTIONS}, kept until the store reports a change ({@link Store.watch}).
 *
 * Why it is correct across processes: an entry is dropped when its collection changes anywhere, and a read
 * that was under way when a change arrived is never kept (a change drops the collection's entries, those
 * still loading included, so later callers read again). So a process serves what another one changed for at
 * most the time the change takes to reach it (on PostgreSQL, a `NOTIFY` after the commit: milliseconds), the
 * same window a read racing that write always had. While the store can't vouch for its reports (no `watch`,
 * or a lost connection), every read goes to the store; and no entry is served longer than
 * {@link CACHE_MAX_AGE_MS}, whatever the reports say.
 *
 * Values are deeply frozen and shared by every caller: the kit only reads them.
 */
export class ReadCache {
  private readonly entries = new Map<Collection, Map<string, { value: Promise<unknown>; at: number }>>();
  private watch: StoreWatch | undefined;

  constructor(private readonly clock: Clock) {}

  /** Starts listening for changes; without a `watch` on the store, the cache stays off. */
  async start(store: Store): Promise<void> {
    if (store.watch === undefined || this.watch !== undefined) return;
    this.watch = await store.watch({
      collections: CACHED_COLLECTIONS,
      onChange: ({ collection }) => this.forget(collection),
      onGap: () => this.forgetAll(),
      sleep: (ms, signal) => this.clock.sleep(ms, signal),
    });
  }

  /** Stops listening; every read goes to the store from then on. */
  async close(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    this.forgetAll();
    await watch?.close();
  }

  /** Whether `collection` is cached now. */
  serves(collection: Collection): collection is CachedCollection {
    return this.watch?.live === true && (CACHED_COLLECTIONS as readonly Collection[]).includes(collection);
  }

  /**
   * The value cached under `key`, or what `load` reads (kept, frozen, unless `collection` changed meanwhile).
   * Concurrent reads of one key share one load.
   */
  read<T>(collection: Collection, key: string, load: () => Promise<T>): Promise<T> {
    if (!this.serves(collection)) return load();
    let entries = this.entries.get(collection);
    const now = this.clock.now();
    const cached = entries?.get(key);
    if (cached !== undefined && now - cached.at < CACHE_MAX_AGE_MS) return cached.value as Promise<T>;
    if (entries === undefined || entries.size >= MAX_ENTRIES) {
      entries = new Map();
      this.entries.set(collection, entries);
    }
    // A change that arrives while `load` reads drops the whole collection (see `forget`), this entry with it:
    // a read that may have missed the change is never served to a later caller.
    const entry = { value: Promise.resolve() as Promise<unknown>, at: now };
    const pending = load().then(deepFreeze, (error: unknown) => {
      if (this.entries.get(collection)?.get(key) === entry) this.entries.get(collection)?.delete(key);
      throw error;
    });
    entry.value = pending;
    entries.set(key, entry);
    return pending;
  }

  /** Drops what is cached of `collection`: it changed, here or elsewhere. */
  forget(collection: Collection): void {
    this.entries.delete(collection);
  }

  private forgetAll(): void {
    for (const collection of CACHED_COLLECTIONS) this.forget(collection);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
