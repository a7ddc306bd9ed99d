import type { Channel } from "../model/common.js";
import type { DeliveryRecord, ExclusionReason } from "../model/execution.js";
import type { DispatchReport } from "./types.js";

/** Payload of the `retry` event. */
export interface RetryEvent {
  /** The campaign being sent. */
  campaignId: string;
  /** The execution being sent. */
  executionId: string;
  /** The message retried. */
  messageId: string;
  /** Its recipient's profile id. */
  recipientId: string;
  /** Its channel. */
  channel: Channel;
  /** The attempt about to be made (2 for the first retry). */
  attempt: number;
  /** How long the dispatcher waits first, in ms. */
  delayMs: number;
  /** The error that failed the previous attempt. */
  error: unknown;
}

/** Payload of the `rate-limited` event: one per throttled provider response. */
export interface RateLimitedEvent {
  /** The campaign whose bucket slows down. */
  campaignId: string;
  /** The execution being sent. */
  executionId: string;
  /** The channel whose provider throttled. */
  channel: Channel;
  /** How many messages of the call were throttled. */
  messages: number;
  /** What the provider asked for, in ms. */
  retryAfterMs: number;
}

/** Payload of the `excluded` event's second argument. */
export interface ExclusionDetail {
  /** Why the message was not sent. */
  reason: ExclusionReason;
  /** For `missing-variable`: the variable, such as `profile.firstName`. */
  variable?: string;
}

/**
 * Every event a {@link Dispatcher} emits, with its listener's signature. Per-message events cost nothing
 * when nobody listens: the dispatcher checks the listener count once per batch before building payloads.
 * Listeners run synchronously inside the dispatch loop; keep them quick.
 */
export interface DispatcherEvents {
  /** A message was accepted by the provider; the record is the one written to the ledger. */
  sent: (record: DeliveryRecord) => void;
  /** A message failed for good (permanent error, retries or rate-limit retries used up); `error` is the last. */
  failed: (record: DeliveryRecord, error: unknown) => void;
  /** A message was not sent because of an exclusion rule; nothing was attempted. */
  excluded: (record: DeliveryRecord, detail: ExclusionDetail) => void;
  /** A message failed with a retryable error and is about to be retried. */
  retry: (event: RetryEvent) => void;
  /** The provider throttled a call: the campaign's bucket slows down and the messages are retried later. */
  "rate-limited": (event: RateLimitedEvent) => void;
  /**
   * Counts so far, at most once per `progressIntervalMs` per dispatch, and once at its end, with `final`
   * `true`. The report has no total: the dispatcher pulls an iterable whose length it never knows. The kit's
   * `execution-progress` event (`kit.events`) adds the total and a percentage where it knows them.
   */
  progress: (report: DispatchReport, final: boolean) => void;
}
