/**
 * The conformance suites of campaign-kit's adapter interfaces (`campaign-kit/testing`), published so host
 * apps run them on their own implementations, and the virtual clock tests inject. Needs `vitest` as a dev
 * dependency; an ES module only, as vitest is.
 *
 * @packageDocumentation
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
