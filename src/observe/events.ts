import type { ApprovalRequest } from "../model/approval.js";
import type { DeliveryOutcome, Execution } from "../model/execution.js";
import type { CampaignStatus } from "../model/status-machine.js";

/** What every execution event carries. */
export interface ExecutionEventBase {
  /** The execution. */
  executionId: string;
  /** Its campaign. */
  campaignId: string;
  /** `occurrence` (a scheduled campaign's send), `unitary` or `audience` (API-triggered). */
  kind: Execution["kind"];
  /** When the event happened, on the kit's clock. */
  at: Date;
}

/** Payload of `execution-started`. */
export interface ExecutionStartedEvent extends ExecutionEventBase {
  /**
   * Whether the execution had started before: a later pass (the next wave, a profile time zone's hour) or a
   * resume after a crash or shutdown. Each pass in this process emits `execution-started` once.
   */
  resumed: boolean;
}

/**
 * Payload of `execution-progress`: how far this process is through the execution's current dispatch, at
 * most once per the dispatcher's `progressIntervalMs` and once at its end. Most executions are one dispatch;
 * a later pass sends each due slice (a wave, a profile time zone's hour) as a dispatch of its own, whose
 * progress runs from 0 to 100 again.
 */
export interface ExecutionProgressEvent extends ExecutionEventBase {
  /**
   * Recipients this dispatch is done with: every action's message to them recorded (sent, failed, excluded,
   * or skipped as sent before), or held back for a later wave or local hour. Recipients pulled from the
   * audience but still queued for sending don't count yet.
   */
  processed: number;
  /**
   * How many recipients this pass will pull, when known: the recipients named in a unitary call, the
   * recipients of a later pass's due slice, the audience's size when its waves needed it counted, and
   * otherwise the audience's `estimatedSize` as registered (then `estimated` is `true`). `undefined` when
   * the audience was registered without one: the kit never streams an audience twice just to count it. The
   * last event of a completed dispatch (`final`) carries the exact count, whatever was known before.
   */
  total: number | undefined;
  /**
   * Whether `total` is the audience's registered `estimatedSize` rather than a count: the audience may have
   * grown or shrunk since, so `processed` can pass it (the percentage then holds at 99.9) or stop short of it.
   */
  estimated: boolean;
  /**
   * `processed / total` as a percentage with one decimal, held at 99.9 at most until the dispatch's last
   * event, which says 100 unless the dispatch was aborted. `undefined` when `total` is.
   */
  percentage: number | undefined;
  /** Whether this is the dispatch's last progress event. */
  final: boolean;
  /** Messages by outcome so far in this dispatch (one per recipient and action). */
  outcomes: Record<DeliveryOutcome, number>;
  /** Send attempts beyond the first, so far. */
  retries: number;
  /** Messages an earlier run had sent already, skipped. */
  skippedAlreadySent: number;
  /** Recipients held back for a later wave or local hour. */
  deferred: number;
}

/** Payload of `execution-finished`: the execution ended without failing. */
export interface ExecutionFinishedEvent extends ExecutionEventBase {
  /** `succeeded`, or `cancelled` when its campaign was stopped (or the execution cancelled) while it ran. */
  status: "succeeded" | "cancelled";
  /** Profiles the execution considered. */
  targeted: number;
  /**
   * The execution's messages by outcome, all passes and processes together, as the ledger holds them; for a
   * cancelled execution, those this pass recorded.
   */
  outcomes: Record<DeliveryOutcome, number>;
  /** How long this pass took, in ms of the kit's clock. */
  durationMs: number;
}

/** Payload of `execution-failed`. */
export interface ExecutionFailedEvent extends ExecutionEventBase {
  /** Why: every message failed, or what threw (the storage, the audience source). */
  error: string;
  /** The `CampaignKitError` code, when the failure had one (`STORAGE_FAILED`, `AUDIENCE_SOURCE_MISSING`). */
  code?: string;
  /** The error itself, when something threw; absent when every message failed. */
  cause?: unknown;
  /** How long this pass took, in ms of the kit's clock. */
  durationMs: number;
}

/** Payload of `campaign-status-changed`. */
export interface CampaignStatusChangedEvent {
  /** The campaign. */
  campaignId: string;
  /** Its status before. */
  from: CampaignStatus;
  /** Its status now. */
  to: CampaignStatus;
  /** Who changed it: a user id, or `system:scheduler` for starts and completions. */
  actorId: string;
  /** The campaign's version after the change. */
  version: number;
  /** When, on the kit's clock. */
  at: Date;
}

/** Payload of `approval-requested`. */
export interface ApprovalRequestedEvent {
  /** The campaign submitted. */
  campaignId: string;
  /** The approval request's id. */
  requestId: string;
  /** Who asked. */
  requestedBy: string;
  /** The policy that governs it; absent when none matched and the request was approved at once. */
  policyId?: string;
  /** No policy matched: the request was approved at once (an `approval-decided` follows). */
  autoApproved: boolean;
  /** When, on the kit's clock. */
  at: Date;
}

/** Payload of `approval-decided`. */
export interface ApprovalDecidedEvent {
  /** The campaign. */
  campaignId: string;
  /** The approval request decided. */
  requestId: string;
  /** `approved`, `changes-requested` (back to draft), or `cancelled` (withdrawn). */
  decision: Exclude<ApprovalRequest["status"], "pending">;
  /** Who decided; absent when the request was approved at once because no policy matched. */
  decidedBy?: string;
  /** The decider's comment, when given. */
  comment?: string;
  /** When, on the kit's clock. */
  at: Date;
}

/**
 * Every event the kit emits, with its listener's signature; listen with `kit.events.on(name, listener)`.
 *
 * Events are emitted by the process that does the work, in that process only: the process whose scheduler
 * starts a campaign or runs an occurrence, the one whose call changed a status or decided an approval. With
 * several processes on one storage, each sees its own work; watch the storage (or the execution API's status
 * route) to follow another's. Listeners run synchronously on the kit's path: keep them quick. One that throws
 * is logged and never fails the operation that emitted (listeners added after it miss that one event).
 *
 * For each message's outcome, listen to the dispatcher (`kit.dispatcher.on("sent" | "failed" | ...)`).
 */
export interface KitEvents {
  /** An execution began sending (or a later pass of it did) in this process. */
  "execution-started": (event: ExecutionStartedEvent) => void;
  /** Counts so far, with the total and percentage when the total is known. */
  "execution-progress": (event: ExecutionProgressEvent) => void;
  /** An execution succeeded, or was cancelled by a stop while it ran. */
  "execution-finished": (event: ExecutionFinishedEvent) => void;
  /** An execution failed: every message failed, or the storage or audience source failed. */
  "execution-failed": (event: ExecutionFailedEvent) => void;
  /** A campaign moved through the status machine (activated, approved, started, stopped, completed...). */
  "campaign-status-changed": (event: CampaignStatusChangedEvent) => void;
  /** A campaign was submitted for approval. */
  "approval-requested": (event: ApprovalRequestedEvent) => void;
  /** An approval request was approved, sent back for changes, or withdrawn. */
  "approval-decided": (event: ApprovalDecidedEvent) => void;
}
