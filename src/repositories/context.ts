import { randomUUID } from "node:crypto";
import { createObserver, type Observer } from "../observe/observer.js";
import type { Clock } from "../ports/clock.js";
import type { Storage } from "../ports/storage.js";
import { createRepositories, type Repositories } from "./index.js";
import { ReadCache } from "./read-cache.js";

/** What every part above the ports shares: storage and its repositories, the clock, and fresh ids. */
export interface Context {
  /** Where everything is kept: the documents and the delivery ledger. */
  storage: Storage;
  /** The typed repositories over `storage`'s documents. */
  repos: Repositories;
  /** What the repositories' cached reads are served from; started by the kit when its store can watch. */
  cache: ReadCache;
  /** The time source every operation reads. */
  clock: Clock;
  /** The clock's time as a `Date`. */
  now: () => Date;
  /** Makes ids for new objects. */
  newId: () => string;
  /** The logger, the kit's events and telemetry. */
  observe: Observer;
}

/** Builds a {@link Context}. */
export function createContext(options: {
  storage: Storage;
  clock: Clock;
  newId?: (() => string) | undefined;
  observe?: Observer | undefined;
}): Context {
  const { storage, clock } = options;
  const cache = new ReadCache(clock);
  return {
    storage,
    repos: createRepositories(storage, cache),
    cache,
    clock,
    now: () => new Date(clock.now()),
    newId: options.newId ?? randomUUID,
    observe: options.observe ?? createObserver({}),
  };
}
