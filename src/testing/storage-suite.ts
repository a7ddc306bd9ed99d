import type { Storage, Store } from "../ports/storage.js";
import { documentTests } from "./documents-suite.js";
import { ledgerTests } from "./ledger-suite.js";
import { storeTests } from "./store-suite.js";
import { vitest } from "./vitest.js";
import { watchTests } from "./watch-suite.js";

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
  /**
   * For a store shared between processes that offers `watch`: another storage over the data the last
   * `create` made (as another process would open it), to check that its changes are reported.
   */
  peer?: () => Promise<Store> | Store;
}

/**
 * The conformance suite of the {@link Storage} contract: registers vitest tests that check every method on a
 * storage made by `create`. The documents: exact round trips, `insert` never overwriting, compare-and-set
 * `replace` and `delete`, code-point order, paging and every kind of condition, and each atomic operation
 * under 20 concurrent callers. The kit's own documents: every field of every domain object through the kit's
 * repositories. The ledger: first sent wins, frequency-cap counts, summaries, concurrent batches. The
 * optional `watch`: changes reported, from another process too (with `peer`), and none after closing. Every
 * implementation shipped with campaign-kit passes it; run it on yours.
 *
 * Call it at the top level of a vitest test file.
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
  const { afterEach, beforeEach, describe } = vitest();
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
    storeTests(storage);
    documentTests(storage);
    ledgerTests(storage);
    watchTests(storage, options.peer);
  });
}
