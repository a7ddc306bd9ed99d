/**
 * campaign-kit: define, check, schedule, trigger and send marketing and transactional campaigns from a Node
 * app, concurrently, rate-limited and exactly once.
 *
 * The root entry holds the kit and what its users call: {@link createCampaignKit}, the errors, the embedded
 * drivers (memory storage, channels and audiences, the webhook channel), the dispatcher and the prerequisite
 * checker on their own. Schemas and constants live at `campaign-kit/model`, schedule maths at
 * `campaign-kit/schedule`, the execution API's HTTP handler at `campaign-kit/http`; drivers with a dependency
 * at their own subpath (`campaign-kit/postgres`, `campaign-kit/smtp`, OpenTelemetry at `campaign-kit/otel`) and the conformance suites at
 * `campaign-kit/testing`. The root entry imports none of their dependencies.
 *
 * @packageDocumentation
 * @module campaign-kit
 */

// The dispatcher on its own.
export { createDispatcher, Dispatcher } from "./dispatch/dispatcher.js";
export type { DispatcherEvents } from "./dispatch/events.js";
// Content experiments: which treatment a recipient gets, computed anywhere.
export { assignTreatment, type ExperimentSplit } from "./dispatch/experiment.js";
export type {
  DispatchClaims,
  DispatcherOptions,
  DispatchReport,
  DispatchRequest,
  InDoubtPolicy,
} from "./dispatch/types.js";
// The embedded drivers.
export {
  type MemoryAudiences,
  type MemoryAudiencesOptions,
  memoryAudiences,
} from "./drivers/memory/audiences.js";
export { type MemoryChannel, type MemoryChannelOptions, memoryChannel } from "./drivers/memory/channel.js";
export { type MemoryLedger, memoryLedger } from "./drivers/memory/ledger.js";
export { memoryStorage } from "./drivers/memory/storage.js";
export {
  type MemoryWorkQueueOptions,
  memoryWorkQueue,
} from "./drivers/memory/work-queue.js";
export { type WebhookChannelOptions, webhookChannel } from "./drivers/webhook.js";
// Errors.
export {
  type AnyErrorDetails,
  CampaignKitError,
  type CampaignKitErrorOf,
  type CampaignKitErrorOptions,
  ERROR_CODES,
  type ErrorCode,
  type ErrorDetails,
  isCampaignKitError,
  isPermanentDeliveryError,
  isRateLimitedError,
  PermanentDeliveryError,
  RateLimitedError,
} from "./errors.js";
export type {
  AudienceExecutionRequest,
  ExecutionAccepted,
  ExecutionStatusView,
  UnitaryExecutionRequest,
  UnitaryRecipient,
} from "./executions/payloads.js";
export type { Scheduler, TickSummary } from "./executions/scheduler.js";
// The kit.
export type { ActivationApi } from "./kit/activation.js";
export type { ApprovalPoliciesApi } from "./kit/approval-policies.js";
export type { AudiencesApi } from "./kit/audiences.js";
export type { CampaignFilter, CampaignsApi } from "./kit/campaigns.js";
export type { ConfigurationsApi } from "./kit/configurations.js";
export type { ActorRef } from "./kit/context.js";
export {
  type AuditFilter,
  type CampaignKit,
  type CampaignKitOptions,
  createCampaignKit,
  type LifecycleOptions,
} from "./kit/create-campaign-kit.js";
export type { ExecutionFilter, ExecutionsApi } from "./kit/executions.js";
export type { ExperimentReport, TreatmentResult } from "./kit/experiment-report.js";
// Delivery feedback, suppressions, tracking and the report's engagement figures.
export type { FeedbackApi, SuppressionsApi, SuppressionTarget } from "./kit/feedback/api.js";
export type { Engagement, HourlyBucket, Tally } from "./kit/feedback/engagement.js";
export type { FeedbackRecordResult } from "./kit/feedback/record.js";
export type { TrackingOptions } from "./kit/feedback/tracking.js";
export type { InvitationOptions, InvitationOutcome, InviteOption } from "./kit/invitations.js";
export type { CalendarOccurrence, LifecycleApi } from "./kit/lifecycle.js";
// Prerequisites, checked on their own.
export { checkPrerequisites } from "./kit/prerequisites/check.js";
export type {
  PrerequisiteCode,
  PrerequisiteInput,
  PrerequisiteIntent,
  PrerequisiteProblem,
  PrerequisiteResult,
  PrerequisiteSubject,
} from "./kit/prerequisites/problems.js";
export type { DeliveryReport, ReportsApi } from "./kit/reports.js";
export type { RoleAssignmentResult, RolesApi, UserAccess } from "./kit/roles.js";
export {
  type RunWorkerOptions,
  runWorker,
  type Worker,
  type WorkerHealth,
} from "./kit/worker.js";
// The domain's types (their schemas are at `campaign-kit/model`).
export type { ApprovalPolicy, ApprovalPolicyInput, ApprovalRequest } from "./model/approval.js";
export type { Audience, AudienceInput } from "./model/audience.js";
export type { AuditEntry } from "./model/audit.js";
export type {
  ActionExperiment,
  Campaign,
  CampaignAction,
  CampaignDraftInput,
  CampaignInput,
} from "./model/campaign.js";
export type { ChannelConfiguration, ChannelConfigurationInput } from "./model/channel-configuration.js";
export type { Category, Channel } from "./model/common.js";
export type { DeliveryControls } from "./model/delivery-controls.js";
export type { DeliveryOutcome, DeliveryRecord, ExclusionReason, Execution } from "./model/execution.js";
export type { ExperimentMetric } from "./model/experiment.js";
export type {
  FeedbackDocument,
  FeedbackEvent,
  FeedbackEventInput,
  FeedbackType,
  Suppression,
  SuppressionReason,
} from "./model/feedback.js";
export { messageId } from "./model/message-id.js";
export type { Profile, ProfileInput } from "./model/profile.js";
export type { Actor, Permission, Role } from "./model/roles.js";
export type { Schedule } from "./model/schedule.js";
export type { CampaignStatus } from "./model/status-machine.js";
// The kit's events.
export type {
  ApprovalDecidedEvent,
  ApprovalRequestedEvent,
  CampaignStatusChangedEvent,
  ExecutionEventBase,
  ExecutionFailedEvent,
  ExecutionFinishedEvent,
  ExecutionProgressEvent,
  ExecutionStartedEvent,
  KitEvents,
} from "./observe/events.js";
// The contracts hosts implement.
export type { AudienceSource } from "./ports/audience-source.js";
export type {
  BatchItemResult,
  ChannelAdapter,
  ChannelCapabilities,
  OutboundMessage,
  RenderedContent,
  SendContext,
  SendResult,
} from "./ports/channel.js";
export type { Clock } from "./ports/clock.js";
export type { ClaimResult, DeliveryLedger, LedgerSummary, MessageClaim } from "./ports/ledger.js";
export type { LogFn, Logger } from "./ports/logger.js";
export type { RateBudget } from "./ports/rate-budget.js";
// With the helpers their TSDoc offers to implementations: a custom store needs them from the package.
export {
  COLLECTIONS,
  type Collection,
  type Condition,
  compareIds,
  type DocumentKeys,
  type KeyValue,
  keysMatch,
  type Page,
  type PageParams,
  pageLimit,
  type Storage,
  type Store,
  type StoredDocument,
  type Where,
} from "./ports/storage.js";
export type {
  Telemetry,
  TelemetryAttributes,
  TelemetryCounter,
  TelemetrySpan,
  TelemetrySpanName,
} from "./ports/telemetry.js";
export {
  type ChunkDelivery,
  type ChunkHandler,
  type ChunkOutcome,
  chunkId,
  type WorkChunk,
  type WorkLane,
  type WorkQueue,
  type WorkServer,
  workChunk,
} from "./ports/work-queue.js";
