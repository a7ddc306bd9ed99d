import type { ZodType } from "zod";
import { CampaignKitError } from "../errors.js";
import type {
  Collection,
  DocumentKeys,
  Page,
  PageParams,
  Store,
  StoredDocument,
  Where,
} from "../ports/storage.js";
import type { ReadCache } from "./read-cache.js";

/** A value read from storage with the version its next write must name. */
export interface Versioned<T> {
  /** The domain object. */
  value: T;
  /** The stored document's version: what a compare-and-set write names as `ifVersion`. */
  version: number;
}

/** How one collection maps its domain type to documents. */
export interface CollectionSpec<T> {
  /** The collection. */
  name: Collection;
  /** What it holds, in words, for error messages ("campaign", "approval request"). */
  what: string;
  /** Parses what the store hands back (a `Date` may come back as its ISO string). */
  schema: ZodType<T>;
  /** The document id of a value. */
  idOf: (value: T) => string;
  /** The index keys of a value: what {@link DocumentCollection.list} can filter on. */
  keysOf: (value: T) => DocumentKeys;
}

/** How many times {@link DocumentCollection.update} reads again after losing a compare-and-set. */
const UPDATE_ATTEMPTS = 10;

/**
 * A typed view of one collection of the {@link Store}: it encodes domain objects as documents, parses what it
 * reads back, and turns the store's results into the kit's errors (`NOT_FOUND`, `ALREADY_EXISTS`,
 * `CONFLICT`). A store that throws is a `STORAGE_FAILED`, with the store's error as `cause`.
 */
export class DocumentCollection<T> {
  constructor(
    private readonly store: Store,
    private readonly spec: CollectionSpec<T>,
    private readonly cache?: ReadCache,
  ) {}

  /** The document id `value` is stored under. */
  idOf(value: T): string {
    return this.spec.idOf(value);
  }

  /** The value with `id`, or `undefined`. */
  async get(id: string): Promise<Versioned<T> | undefined> {
    const document = await this.call("read", () => this.store.get({ collection: this.spec.name, id }));
    return document && this.decode(document);
  }

  /** The value with `id`; `NOT_FOUND` when there is none. */
  async find(id: string): Promise<Versioned<T>> {
    return this.found(id, await this.get(id));
  }

  /**
   * The value with `id` as {@link get} reads it, served from the kit's read cache when it keeps this
   * collection: frozen and shared, so only for reading. Writes read with {@link get}, for the version.
   */
  getCached(id: string): Promise<Versioned<T> | undefined> {
    return this.cache ? this.cache.read(this.spec.name, `get:${id}`, () => this.get(id)) : this.get(id);
  }

  /** {@link getCached}, `NOT_FOUND` when there is none. */
  async findCached(id: string): Promise<Versioned<T>> {
    return this.found(id, await this.getCached(id));
  }

  /** {@link every}, served from the kit's read cache when it keeps this collection (frozen, shared). */
  everyCached(where?: Where): Promise<T[]> {
    const key = `every:${JSON.stringify(where ?? {})}`;
    return this.cache ? this.cache.read(this.spec.name, key, () => this.every(where)) : this.every(where);
  }

  /**
   * Whether any value matches `where`, served from the kit's read cache when it keeps this collection: one
   * read of a single item, then none until the collection changes.
   */
  anyCached(where?: Where): Promise<boolean> {
    const key = `any:${JSON.stringify(where ?? {})}`;
    const load = async () => (await this.list(where, { limit: 1 })).items.length > 0;
    return this.cache ? this.cache.read(this.spec.name, key, load) : load();
  }

  /** Stores a new value at version 1; `false` when its id is taken (the stored one is left alone). */
  async insert(value: T): Promise<boolean> {
    const document = this.encode(value, 1);
    const result = await this.call("write", () =>
      this.store.insert({ collection: this.spec.name, document }),
    );
    return result === "ok";
  }

  /** Stores a new value at version 1; `ALREADY_EXISTS` when its id is taken. */
  async create(value: T): Promise<Versioned<T>> {
    if (!(await this.insert(value))) {
      const id = this.spec.idOf(value);
      throw new CampaignKitError(
        "ALREADY_EXISTS",
        `Can't create ${this.spec.what} '${id}': the id is taken; pick another id.`,
        { details: { id } },
      );
    }
    return { value, version: 1 };
  }

  /**
   * Writes `next` over `current` if no one wrote since `current` was read (compare-and-set); `CONFLICT` when
   * someone did, `NOT_FOUND` when it is gone.
   */
  async replace(current: Versioned<T>, next: T): Promise<Versioned<T>> {
    const version = current.version + 1;
    const document = this.encode(next, version);
    const result = await this.call("write", () =>
      this.store.replace({ collection: this.spec.name, document, ifVersion: current.version }),
    );
    if (result === "ok") return { value: next, version };
    const id = this.spec.idOf(next);
    if (result === "missing") {
      throw new CampaignKitError(
        "NOT_FOUND",
        `Can't update ${this.spec.what} '${id}': it no longer exists.`,
        {
          details: { id },
        },
      );
    }
    throw new CampaignKitError(
      "CONFLICT",
      `Can't update ${this.spec.what} '${id}': it changed since it was read (version ${current.version}). Read it again and retry.`,
      { details: { id, expectedVersion: current.version } },
    );
  }

  /**
   * Reads the value, applies `change` and writes the result by compare-and-set, reading again when another
   * writer got there first. `change` returns `undefined` to write nothing. `NOT_FOUND` when it is absent.
   */
  async update(id: string, change: (value: T) => T | undefined): Promise<Versioned<T>> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.find(id);
      const next = change(current.value);
      if (next === undefined) return current;
      try {
        return await this.replace(current, next);
      } catch (error) {
        if (!(error instanceof CampaignKitError && error.code === "CONFLICT") || attempt >= UPDATE_ATTEMPTS) {
          throw error;
        }
      }
    }
  }

  /** Stores `value` whether or not one with its id exists (insert, else replace by compare-and-set). */
  async put(value: T): Promise<Versioned<T>> {
    for (;;) {
      if (await this.insert(value)) return { value, version: 1 };
      try {
        return await this.update(this.spec.idOf(value), () => value);
      } catch (error) {
        // Removed between the insert and the update: insert again.
        if (!(error instanceof CampaignKitError && error.code === "NOT_FOUND")) throw error;
      }
    }
  }

  /** Removes the value, if it is still at `ifVersion` when given; whether it was there to remove. */
  async delete(id: string, ifVersion?: number): Promise<"ok" | "conflict" | "missing"> {
    return this.call("write", () =>
      this.store.delete({
        collection: this.spec.name,
        id,
        ...(ifVersion === undefined ? {} : { ifVersion }),
      }),
    );
  }

  /** One page of the values matching `where`, by id. */
  async list(where: Where | undefined, page: PageParams = {}): Promise<Page<T>> {
    const listed = await this.call("read", () =>
      this.store.list({ collection: this.spec.name, ...(where ? { where } : {}), ...page }),
    );
    const items = listed.items.map((document) => this.decode(document).value);
    return listed.nextCursor === undefined ? { items } : { items, nextCursor: listed.nextCursor };
  }

  /** Every value matching `where`, read whole: for collections that stay small (roles, policies). */
  async every(where?: Where): Promise<T[]> {
    const values: T[] = [];
    for await (const value of this.all(where)) values.push(value);
    return values;
  }

  /** Every value matching `where`, page by page. */
  async *all(where?: Where): AsyncGenerator<T> {
    let cursor: string | undefined;
    do {
      const page = await this.list(where, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  private found(id: string, value: Versioned<T> | undefined): Versioned<T> {
    if (value === undefined) {
      throw new CampaignKitError("NOT_FOUND", `Can't find ${this.spec.what} '${id}'; check the id.`, {
        details: { id },
      });
    }
    return value;
  }

  private encode(value: T, version: number): StoredDocument {
    return {
      id: this.spec.idOf(value),
      version,
      keys: this.spec.keysOf(value),
      value: value as Record<string, unknown>,
    };
  }

  private decode(document: StoredDocument): Versioned<T> {
    const parsed = this.spec.schema.safeParse(document.value);
    if (!parsed.success) {
      throw new CampaignKitError(
        "STORAGE_FAILED",
        `Storage returned ${this.spec.what} '${document.id}' in a shape campaign-kit can't read: ${parsed.error.issues[0]?.message}. Check that the store keeps documents as written.`,
        { cause: parsed.error, details: { collection: this.spec.name, id: document.id } },
      );
    }
    return { value: parsed.data, version: document.version };
  }

  private async call<R>(verb: "read" | "write", operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof CampaignKitError) throw error;
      throw new CampaignKitError(
        "STORAGE_FAILED",
        `Storage failed to ${verb} ${this.spec.name}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { collection: this.spec.name } },
      );
    } finally {
      // This process's own write is seen at once, without waiting for the store to report it.
      if (verb === "write") this.cache?.forget(this.spec.name);
    }
  }
}
