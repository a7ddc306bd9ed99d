/**
 * The contract between the dispatcher and whatever actually delivers messages (an SMTP server, an SMS
 * provider, a push gateway, a webhook).
 *
 * Why it looks like this: the dispatcher owns everything a provider should not have to know (who to send to,
 * consent, rate, retries, the ledger), so an adapter only turns one rendered message into one provider call.
 * Adapters declare what they can do in `capabilities` rather than the engine guessing: with `batch` the
 * dispatcher groups messages into `sendBatch` calls of at most `maxBatchSize`; with `idempotencyKeys` the
 * adapter promises that two sends with the same key deliver once, which turns the ledger's "at most what was
 * in flight" crash guarantee into "nothing at all". Errors steer the engine: throw
 * {@link PermanentDeliveryError} for messages that will never go, {@link RateLimitedError} when throttled;
 * anything else is retried with backoff.
 *
 * The reference implementation is `memoryChannel()`.
 */

import type { PermanentDeliveryError, RateLimitedError } from "../errors.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Category, Channel } from "../model/common.js";

/** The rendered content of one message, by channel. */
export type RenderedContent =
  | { channel: "email"; subject: string; html?: string; text?: string }
  | { channel: "sms"; body: string }
  | { channel: "push"; title: string; body: string; data?: Record<string, string> }
  | { channel: "webhook"; payload: string };

/** One message, rendered and addressed, ready for a provider. */
export interface OutboundMessage {
  /** Deterministic id of (campaign, execution, recipient, channel); also the idempotency key. */
  id: string;
  /** The campaign sending it. */
  campaignId: string;
  /** The occurrence or trigger it belongs to. */
  executionId: string;
  /** The recipient's profile id. */
  recipientId: string;
  /** The channel it goes out on; the adapter's own. */
  channel: Channel;
  /** Marketing or transactional: providers often route them through different pools. */
  category: Category;
  /** Email address, E.164 phone or push token; absent for webhooks, which go to the configuration's URL. */
  to?: string;
  /** The rendered content: templates already applied. */
  content: RenderedContent;
  /** The channel configuration the message is sent with (sender, subdomain, URL...). */
  configuration: ChannelConfiguration;
  /** Per-recipient channel data from an API trigger, passed through untouched. */
  channelData?: Record<string, unknown>;
  /** The content experiment's treatment this message renders, when the action runs an experiment. */
  treatmentId?: string;
  /**
   * The kit's one-click unsubscribe URL for this message (RFC 8058), when its configuration opts in to
   * tracking's `unsubscribe`: email adapters put it in `List-Unsubscribe`, with `List-Unsubscribe-Post`.
   */
  listUnsubscribeUrl?: string;
}

/** What the dispatcher tells the adapter about one send attempt. */
export interface SendContext {
  /** The message id: two sends with the same key must deliver at most once where `idempotencyKeys` is set. */
  idempotencyKey: string;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
  /** Aborted when the dispatch is stopped; an adapter may use it to cancel a request in flight. */
  signal: AbortSignal;
}

/** What a successful send returns. */
export interface SendResult {
  /** The provider's id for the message, recorded in the ledger. */
  providerMessageId?: string;
}

/** One message's result within {@link ChannelAdapter.sendBatch}. */
export type BatchItemResult =
  | { ok: true; providerMessageId?: string }
  | { ok: false; error: PermanentDeliveryError | RateLimitedError | Error };

/** Batch context: as {@link SendContext}, with one idempotency key per message. */
export interface BatchSendContext {
  /** 1 for the first attempt at this batch, 2 for the first retry... */
  attempt: number;
  /** Aborted when the dispatch is stopped. */
  signal: AbortSignal;
}

/** What an adapter can do, read by the dispatcher and by the conformance suite. */
export interface ChannelCapabilities {
  /** Whether {@link ChannelAdapter.sendBatch} is implemented. */
  batch: boolean;
  /** Whether two sends with the same idempotency key deliver at most once. */
  idempotencyKeys: boolean;
  /** The largest batch `sendBatch` accepts; defaults to 100. */
  maxBatchSize?: number;
}

/** Delivers rendered messages on one channel. Implement it to plug in any provider. */
export interface ChannelAdapter {
  /** A name for logs and reports (`"smtp"`, `"twilio"`). */
  readonly name: string;
  /** The channel it delivers on. */
  readonly channel: Channel;
  /** What it supports; the dispatcher and the conformance suite read it. */
  readonly capabilities: ChannelCapabilities;
  /**
   * Sends one message. Resolve when the provider accepted it; throw {@link PermanentDeliveryError} when it
   * never will, {@link RateLimitedError} when throttled, anything else for a retryable failure.
   */
  send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined>;
  /**
   * Sends several messages in one provider call; returns one result per message, in order. A throw fails the
   * whole batch (each message is then retried as its error says).
   */
  sendBatch?(messages: readonly OutboundMessage[], context: BatchSendContext): Promise<BatchItemResult[]>;
  /** Checks the provider can be reached with the configured credentials; throws when not. */
  verify?(): Promise<void>;
}
