import { afterEach, beforeEach, describe } from "vitest";
import type { Storage } from "../ports/storage.js";
import { campaignTests } from "./storage-suite-campaigns.js";
import { concurrencyTests } from "./storage-suite-concurrency.js";
import { executionTests } from "./storage-suite-executions.js";
import { ledgerTests } from "./storage-suite-ledger.js";
import { objectTests } from "./storage-suite-objects.js";

/** Options for {@link runStorageSuite}. */
export interface StorageSuiteOptions {
  /** The name of the `describe` block. Default `"Storage"`. */
  name?: string;
  /**
   * Makes an empty storage; called before each test, so every test starts from nothing. For a database, give
   * each call its own schema, database or key prefix (or truncate everything).
   */
  create: () => Promise<Storage> | Storage;
  /** Called after each test: drop what `create` made, close what it opened. */
  cleanup?: () => Promise<void>;
}

/**
 * The conformance suite of the {@link Storage} contract: registers vitest tests that check every
 * method on a storage made by `create`: round trips deep-equal (Dates as Dates, absent fields absent),
 * `NOT_FOUND` / `ALREADY_EXISTS` / `CONFLICT` codes, optimistic versions, paging and every filter, execution
 * idempotency, leases, the ledger's first-sent-wins rule and summaries, audit order, and the atomic operations
 * under 20 concurrent callers. Every implementation shipped with campaign-kit passes it; run it on yours.
 *
 * Call it at the top level of a vitest test file (it uses `describe`, `it`, `expect` and the hooks).
 *
 * @example
 * ```ts
 * // test/my-storage.test.ts
 * import { runStorageSuite } from "campaign-kit/testing";
 * import { myStorage } from "../src/my-storage.js";
 *
 * runStorageSuite({
 *   name: "myStorage",
 *   create: async () => myStorage({ client: await connectToAFreshDatabase() }),
 *   cleanup: async () => dropThatDatabase(),
 * });
 * ```
 */
export function runStorageSuite(options: StorageSuiteOptions): void {
  describe(options.name ?? "Storage", () => {
    let current: Storage | undefined;
    const storage = (): Storage => {
      if (current === undefined)
        throw new Error("runStorageSuite: no storage; `create` did not run or failed.");
      return current;
    };

    beforeEach(async () => {
      current = await options.create();
    });
    afterEach(async () => {
      current = undefined;
      await options.cleanup?.();
    });

    campaignTests(storage);
    objectTests(storage);
    executionTests(storage);
    ledgerTests(storage);
    concurrencyTests(storage);
  });
}
