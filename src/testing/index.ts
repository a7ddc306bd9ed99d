/**
 * The conformance suites of campaign-kit's adapter interfaces (`campaign-kit/testing`), published so host
 * apps run them on their own implementations, and the virtual clock tests inject. The suites need `vitest`
 * as a dev dependency and run only in a vitest test file; the entry itself loads anywhere, so scripts use
 * `virtualClock` without a test runner. An ES module only, as vitest is.
 *
 * @packageDocumentation
 * @module campaign-kit/testing
 */

export {
  type AudienceSuiteOptions,
  type AudienceSuiteSeed,
  runAudienceSuite,
} from "./audience-suite.js";
export {
  type ChannelSuiteHarness,
  type ChannelSuiteOptions,
  type ReceivedMessage,
  runChannelSuite,
} from "./channel-suite.js";
export { runStorageSuite, type StorageSuiteOptions } from "./storage-suite.js";
export { type VirtualClock, type VirtualClockOptions, virtualClock } from "./virtual-clock.js";
export { runWorkQueueSuite, type WorkQueueSuiteOptions } from "./work-queue-suite.js";
