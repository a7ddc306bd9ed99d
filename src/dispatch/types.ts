import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Channel } from "../model/common.js";
import type { DeliveryOutcome, ExclusionReason } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { ChannelAdapter, OutboundMessage } from "../ports/channel.js";
import type { Clock } from "../ports/clock.js";
import type { DeliveryLedger } from "../ports/ledger.js";
import type { Logger } from "../ports/logger.js";
import type { Telemetry, TelemetrySpan } from "../ports/telemetry.js";
import type { RateGate } from "./rate.js";
import type { RetryOptions } from "./retry.js";

/**
 * What to do with a message found in doubt: claimed by a worker that vanished, maybe sent, never recorded.
 * `resend-if-idempotent` (the default) sends it again to adapters that declare `idempotencyKeys` (the
 * provider drops the second copy) and records it `failed` with reason `in-doubt` on the others; `fail`
 * never sends it again; `resend` always does (at least once: a provider without idempotency keys may
 * deliver it twice).
 */
export type InDoubtPolicy = "resend-if-idempotent" | "fail" | "resend";

/** How a worker's dispatch claims its messages; see {@link DispatchRequest.claims}. */
export interface DispatchClaims {
  /** Who claims: unique per worker and chunk delivery. */
  owner: string;
  /** What to do with messages found in doubt. */
  inDoubt: InDoubtPolicy;
}

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions {
  /** One adapter per channel the campaigns use. */
  channels: readonly ChannelAdapter[];
  /** Where outcomes are recorded, and what makes sends exactly-once. */
  ledger: DeliveryLedger;
  /** Time source; defaults to the system clock. Tests pass a virtual one. */
  clock?: Clock;
  /**
   * Batches (or single sends, for adapters without batch) being sent at once in the marketing lane; defaults
   * to 32. A batch leaves its lane once sent, while its ledger write commits (at most twice this many batches
   * are held in all).
   */
  concurrency?: number;
  /**
   * Batches in flight in the transactional lane, a separate limiter so a password reset never queues behind
   * a marketing send; defaults to `concurrency`.
   */
  transactionalConcurrency?: number;
  /** Retry policy for retryable errors. */
  retry?: RetryOptions;
  /** Random source for retry jitter, in [0, 1); defaults to `Math.random`. Pass `seededRandom(n)` in tests. */
  random?: () => number;
  /** Recipients per batch: one ledger read, one provider call (capped by the adapter's `maxBatchSize`) and one ledger write each; defaults to 100. */
  batchSize?: number;
  /**
   * The most characters one rendered message may hold, all fields together (default 1,000,000): a recipient
   * whose message would be larger, or whose template would loop past a bound, is excluded as
   * `render-too-large` rather than sent.
   */
  maxMessageChars?: number;
  /** Minimum time between two `progress` events of one dispatch, in ms; defaults to 1000. */
  progressIntervalMs?: number;
  /**
   * Where to log provider throttling and retries used up (pino-compatible; see {@link Logger}); silent by
   * default. The kit passes its own `logger`.
   */
  logger?: Logger;
  /**
   * Traces each batch (`campaign-kit.batch` spans) and counts messages sent, failed and excluded; see
   * `openTelemetry()` from `campaign-kit/otel`. The kit passes its own `telemetry`.
   */
  telemetry?: Telemetry;
  /**
   * The suppression list: recipients whose address (or profile) it holds on the action's channel are
   * excluded as `suppressed`, one lookup per batch. The kit passes its own, fed by delivery feedback.
   */
  suppressions?: SuppressionList;
  /**
   * Changes each rendered message before it is sent (the kit's tracking rewrites links and adds the open
   * pixel and the one-click unsubscribe URL here). Called once per message, not per attempt.
   */
  prepareMessage?: (message: OutboundMessage) => OutboundMessage;
}

/** What the dispatcher asks of a suppression list. */
export interface SuppressionList {
  /**
   * Of `addresses` (as the profiles hold them) and `recipientIds` on `channel`, those suppressed now. One
   * call per batch: answer in one round trip.
   */
  suppressed(params: {
    channel: Channel;
    addresses: readonly string[];
    recipientIds: readonly string[];
  }): Promise<{ addresses: ReadonlySet<string>; recipientIds: ReadonlySet<string> }>;
}

/**
 * What a {@link DispatchPlan} decides for one recipient: send it now (`undefined`), exclude it for a reason
 * (recorded and counted on every action), or hold it back until an instant (handed to
 * {@link DispatchPlan.defer}, sent by a later dispatch).
 */
export type PlanDecision = undefined | { exclude: ExclusionReason } | { deferUntil: number };

/** When each recipient of a dispatch is due; see {@link DispatchRequest.plan}. */
export interface DispatchPlan {
  /**
   * Decides for `profile`, the `position`-th recipient pulled (from 0), at `now` (ms since the epoch). Called
   * once per recipient, before any action.
   */
  decide(profile: Profile, position: number, now: number): PlanDecision;
  /** Keeps recipients held back until `dueAt` (ms): resolves once they are kept durably. */
  defer(profiles: readonly Profile[], dueAt: number): Promise<void>;
}

/** Per-recipient data of an API-triggered call, by profile id. */
export interface RecipientOverride {
  /** Context for this recipient, merged over the request's `context` (shallowly). */
  context?: Record<string, unknown> | undefined;
  /** Passed to the adapter untouched, as {@link OutboundMessage.channelData}. */
  channelData?: Record<string, unknown> | undefined;
}

/** One page or one profile of recipients. */
export type RecipientItem = readonly Profile[] | Profile;

/** What {@link Dispatcher.dispatch} sends. */
export interface DispatchRequest {
  /** The campaign to send: its actions, category, delivery controls. */
  campaign: Campaign;
  /** The execution (occurrence or trigger); with the campaign id it keys the message ids, so resuming reuses it. */
  executionId: string;
  /** The channel configurations the campaign's actions name, by id. */
  configurations: ReadonlyMap<string, ChannelConfiguration> | Readonly<Record<string, ChannelConfiguration>>;
  /** Recipients, one by one or in pages; pulled only when there is room, so never held whole. */
  recipients: AsyncIterable<RecipientItem> | Iterable<RecipientItem>;
  /** The trigger's real-time context, `{{context.x}}` in templates. */
  context?: Record<string, unknown>;
  /** Per-recipient context and channel data (unitary API triggers), by profile id. */
  recipientOverrides?: ReadonlyMap<string, RecipientOverride> | Readonly<Record<string, RecipientOverride>>;
  /**
   * Decides, recipient by recipient, what is due now: without one, every recipient is. The kit's runner
   * passes the execution's plan (waves, profile time zones, quiet hours, the window).
   */
  plan?: DispatchPlan;
  /** Stops the dispatch: no new sends after it aborts; sends in flight finish and are recorded. */
  signal?: AbortSignal;
  /**
   * The caller knows that the ledger holds nothing of this execution yet (it was created for this dispatch)
   * and that `recipients` lists no profile twice: the dispatcher then skips reading the ledger before each
   * batch, one round trip fewer. Leave it unset when in doubt (a resumed execution, a later pass); a wrong
   * `true` can send a message twice.
   */
  fresh?: boolean;
  /**
   * A worker's dispatch (`runWorker` sets it): each batch's messages are claimed in the ledger (which must
   * have `claim` and `release`) before they are sent, so a worker killed mid-send leaves them `pending`,
   * and messages another worker left pending are handled as {@link DispatchClaims.inDoubt} says.
   */
  claims?: DispatchClaims;
  /**
   * Where tokens come from instead of the campaign's bucket in this process: a budget shared by every
   * worker (`runWorker` passes one kept in storage).
   */
  rate?: RateGate;
  /**
   * When messages may go out. Defaults to now until now + the campaign's `deliveryWindowHours`. What can't be
   * sent before `end` is excluded as `outside-window` and reported.
   */
  window?: { start: Date; end: Date };
  /** The span the dispatch's batch spans belong to (the kit passes its execution's); needs `telemetry`. */
  span?: TelemetrySpan;
}

/** Counts of one channel's messages. */
export interface ChannelCounts {
  /** Accepted by the provider. */
  sent: number;
  /** Failed for good. */
  failed: number;
  /** Not attempted, for an exclusion reason. */
  excluded: number;
  /** Already sent by an earlier run: skipped. */
  skippedAlreadySent: number;
}

/** What a dispatch did. Every message is counted once: sent, failed, excluded, skipped or interrupted. */
export interface DispatchReport {
  /** The campaign dispatched. */
  campaignId: string;
  /** The execution dispatched. */
  executionId: string;
  /** Recipients pulled from the iterable. */
  recipients: number;
  /** Messages by outcome, as recorded in the ledger (each action of each recipient is one message). */
  outcomes: Record<DeliveryOutcome, number>;
  /** The same, per channel. */
  byChannel: Partial<Record<Channel, ChannelCounts>>;
  /** Excluded messages by reason. */
  excludedByReason: Record<ExclusionReason, number>;
  /** Send attempts beyond the first, summed over messages (rate-limited re-sends included). */
  retries: number;
  /** Provider responses that throttled messages (each throttled message counts once per response). */
  rateLimited: number;
  /** Messages the ledger already held as sent (a resumed run), or already in flight in this run. */
  skippedAlreadySent: number;
  /**
   * Messages found in doubt (claimed by a worker that vanished before recording them): sent again or
   * recorded `failed` with reason `in-doubt`, as the {@link InDoubtPolicy} says.
   */
  inDoubt: number;
  /** Recipients the plan held back for a later dispatch (each counts once, whatever the actions). */
  deferred: number;
  /** Messages left unsent and unrecorded because the dispatch was aborted; a resume sends them. */
  interrupted: number;
  /** Whether the signal aborted the dispatch before it ran out of recipients. */
  aborted: boolean;
  /** When the dispatch began. */
  startedAt: Date;
  /** When its last message was recorded. */
  finishedAt: Date;
  /** `finishedAt - startedAt`, in milliseconds. */
  durationMs: number;
}
