/**
 * campaign-kit: define, check, schedule, trigger and send marketing and transactional campaigns from a Node
 * app, concurrently, rate-limited and exactly once.
 *
 * The root entry point imports no optional dependency: PostgreSQL storage lives at `campaign-kit/postgres`
 * and the conformance suites at `campaign-kit/testing`.
 *
 * @packageDocumentation
 */
export * from "./audiences/index.js";
export * from "./channels/index.js";
export * from "./domain/index.js";
export * from "./engine/index.js";
export * from "./engine/schedule/index.js";
export * from "./errors.js";
export * from "./http/index.js";
export * from "./kit/index.js";
export * from "./prerequisites/index.js";
export {
  countByChannel,
  type DeliveryLedger,
  type LedgerScope,
  type LedgerSummary,
} from "./storage/ledger.js";
export { type MemoryLedger, memoryLedger } from "./storage/memory-ledger.js";
export { memoryStorage } from "./storage/memory-storage.js";
export type {
  AuditFilter,
  CampaignFilter,
  ExecutionFilter,
  Page,
  PageParams,
  Storage,
} from "./storage/storage.js";
export * from "./templates/index.js";
