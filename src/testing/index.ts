/**
 * The conformance suites of campaign-kit's adapter interfaces (`campaign-kit/testing`), published so host
 * apps run them on their own implementations. Needs `vitest` as a dev dependency.
 *
 * @packageDocumentation
 */
export { runStorageSuite, type StorageSuiteOptions } from "./storage-suite.js";
