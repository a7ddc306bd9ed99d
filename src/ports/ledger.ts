/**
 * The delivery ledger: the part of storage the dispatcher needs to send exactly once.
 *
 * Why it looks like this: every message has a deterministic id (campaign, execution, recipient, channel), so
 * the ledger is a table with that id as its unique key. Before sending a batch the dispatcher asks which ids
 * are already `sent` ({@link DeliveryLedger.findSent}); after, it records outcomes in one batched write
 * ({@link DeliveryLedger.record}). In SQL that is one `SELECT ... WHERE message_id = ANY($1)` and one
 * `INSERT ... ON CONFLICT`. Both take and return whole batches: batching is how the dispatcher gets fast.
 *
 * The reference implementation is `memoryLedger()`.
 */
import type { Channel } from "../model/common.js";
import type { DeliveryOutcome, DeliveryRecord } from "../model/execution.js";

/** Counts of one campaign's or execution's messages, from the ledger. */
export interface LedgerSummary {
  /** Messages by outcome. */
  outcomes: Record<DeliveryOutcome, number>;
  /** Messages by outcome, for each channel that has any. */
  byChannel: Partial<Record<Channel, Record<DeliveryOutcome, number>>>;
  /** Excluded messages by reason. */
  excludedByReason: Record<string, number>;
  /**
   * Messages by outcome for each content experiment treatment that has any (records with a `treatmentId`),
   * `holdout` included; empty when the campaign runs no experiment.
   */
  byTreatment: Record<string, Record<DeliveryOutcome, number>>;
  /** Attempts beyond the first, summed. */
  retries: number;
  /** When the first and last `sent` messages were recorded. */
  firstSentAt?: Date;
  /** When the last `sent` message was recorded. */
  lastSentAt?: Date;
  /**
   * Optional: `sent` messages by the hour they were recorded in (keys are ISO instants of the hour's start,
   * `2026-12-01T08:00:00.000Z`), for reports over time. The memory and PostgreSQL ledgers fill it; a ledger
   * that doesn't leaves reports' hourly `sent` at 0.
   */
  sentByHour?: Record<string, number>;
}

/** Where the dispatcher records what it sent. */
export interface DeliveryLedger {
  /**
   * Of `messageIds`, those already recorded with outcome `sent`. Other outcomes don't count: a failed or
   * excluded message may be tried again by a later run.
   */
  findSent(params: { messageIds: readonly string[] }): Promise<Set<string>>;
  /**
   * Records outcomes, atomically per record. A record whose id is already `sent` is ignored (the first `sent`
   * wins); otherwise it is inserted, or replaces the earlier non-sent outcome.
   *
   * @returns how many records were written (inserted or replaced); ignored ones don't count.
   */
  record(params: { records: readonly DeliveryRecord[] }): Promise<{ written: number }>;
  /**
   * For each of `recipientIds`, how many messages were sent to it on `channel` at or after `since`, across
   * all campaigns: what frequency capping reads. Absent ids mean 0.
   */
  countSentSince(params: {
    recipientIds: readonly string[];
    channel: Channel;
    since: Date;
  }): Promise<Map<string, number>>;
  /**
   * The records of the given messages, by campaign-kit's message id or by the provider's id
   * ({@link DeliveryRecord.providerMessageId}), in any order, each record once even when both lists name it;
   * ids that match nothing are left out. What delivery feedback reads to learn which campaign, execution,
   * recipient and channel a provider's event is about. In SQL one indexed statement:
   * `SELECT ... WHERE message_id = ANY($1) OR provider_message_id = ANY($2)`.
   */
  find(params: {
    messageIds?: readonly string[];
    providerMessageIds?: readonly string[];
  }): Promise<DeliveryRecord[]>;
  /** Counts by outcome and exclusion reason for a campaign, or one of its executions. */
  summarize(params: { campaignId: string; executionId?: string }): Promise<LedgerSummary>;
  /**
   * Optional, needed by workers (`runWorker`): claims messages for `owner` before they are sent, so that a
   * worker that dies between the provider's answer and {@link DeliveryLedger.record} leaves a trace. Atomic
   * per message: a message nobody holds (absent, `failed` or `excluded`) becomes `pending`, held by `owner`
   * (as does one `owner` already holds); of concurrent claims of one message exactly one holds it. Pending
   * messages count in no summary, and `record` replaces them as it replaces any outcome but `sent`.
   *
   * @returns the messages already `sent` (skip them) and those `pending` for another owner: in doubt, since
   * that owner may have sent them before it died. Every other message is now held by `owner`.
   */
  claim?(params: { claims: readonly MessageClaim[]; owner: string; at: Date }): Promise<ClaimResult>;
  /**
   * Optional, with `claim`: lets go of messages `owner` claimed but never handed to a provider (a stop, a
   * shutdown), so whoever sends them next finds them free rather than in doubt. Messages held by another
   * owner, or recorded since, are left alone.
   */
  release?(params: { messageIds: readonly string[]; owner: string }): Promise<void>;
}

/** One message to claim: its id and what a ledger row needs. */
export interface MessageClaim {
  /** The deterministic message id. */
  messageId: string;
  /** Its campaign. */
  campaignId: string;
  /** Its execution. */
  executionId: string;
  /** Its recipient. */
  recipientId: string;
  /** Its channel. */
  channel: Channel;
}

/** What {@link DeliveryLedger.claim} found. */
export interface ClaimResult {
  /** Already recorded `sent`: not to be sent again. */
  sent: Set<string>;
  /** `pending` for another owner: maybe sent, never recorded. */
  inDoubt: Set<string>;
}

/** The reason recorded for a message found in doubt and not sent again (see `runWorker`'s `inDoubt`). */
export const IN_DOUBT_REASON = "in-doubt";

/** Adds `count` messages of `outcome` on `channel` to a summary being built: for ledger implementations. */
export function countByChannel(
  summary: LedgerSummary,
  channel: Channel,
  outcome: DeliveryOutcome,
  count = 1,
): void {
  const counts = summary.byChannel[channel] ?? { sent: 0, failed: 0, excluded: 0 };
  counts[outcome] += count;
  summary.byChannel[channel] = counts;
}

/** Adds `count` messages of `outcome` of treatment `treatmentId` to a summary being built: for ledgers. */
export function countByTreatment(
  summary: LedgerSummary,
  treatmentId: string,
  outcome: DeliveryOutcome,
  count = 1,
): void {
  const counts = summary.byTreatment[treatmentId] ?? { sent: 0, failed: 0, excluded: 0 };
  counts[outcome] += count;
  summary.byTreatment[treatmentId] = counts;
}
