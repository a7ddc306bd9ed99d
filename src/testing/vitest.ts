/**
 * vitest, loaded only when running under it: importing `vitest` anywhere else throws, and
 * `campaign-kit/testing` also holds what scripts use outside a test runner (`virtualClock`). vitest puts its
 * worker state on `globalThis.__vitest_worker__` before it imports a test file; the `VITEST` environment
 * variable is no proof, since a script a test spawns inherits it without running under vitest.
 */
import { CampaignKitError } from "../errors.js";

type Vitest = typeof import("vitest");

const loaded: Vitest | undefined = "__vitest_worker__" in globalThis ? await import("vitest") : undefined;

/** vitest's API, for the conformance suites; a clear error outside vitest. */
export function vitest(): Vitest {
  if (!loaded) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "The campaign-kit conformance suites register vitest tests: call them from a test file run by vitest.",
    );
  }
  return loaded;
}
