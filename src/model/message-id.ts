import type { Channel } from "./common.js";

/** What a message id is derived from. */
export interface MessageIdParts {
  /** The campaign sending. */
  campaignId: string;
  /** Its occurrence or trigger. */
  executionId: string;
  /** The recipient's profile id. */
  recipientId: string;
  /** The action's channel (one action per channel). */
  channel: Channel;
}

/**
 * The part of a message id shared by every recipient of one (campaign, execution, channel): computing it once
 * per dispatch leaves a single string concatenation per message on the hot path.
 *
 * Format: `m:<campaignId length>:<campaignId>:<executionId length>:<executionId>:<channel>:<recipientId>`.
 * The two free-form ids before the channel carry their length, so no id, whatever characters it contains,
 * can make two different tuples produce the same id; the channel never contains `:`, and the recipient id,
 * last, runs to the end of the string. The id stays printable, so it reads well in logs and SQL.
 */
export function messageIdPrefix(campaignId: string, executionId: string, channel: Channel): string {
  return `m:${campaignId.length}:${campaignId}:${executionId.length}:${executionId}:${channel}:`;
}

/**
 * The deterministic id of one message: the same (campaign, execution, recipient, channel) always gives the
 * same id, and different tuples never collide (see {@link messageIdPrefix} for the format). It is the
 * ledger's key and the idempotency key handed to channel adapters, which is what makes resumed runs skip
 * what was already sent.
 *
 * @example
 * ```ts
 * messageId({ campaignId: "spring", executionId: "run-1", recipientId: "p-42", channel: "email" });
 * // "m:6:spring:5:run-1:email:p-42"
 * ```
 */
export function messageId(parts: MessageIdParts): string {
  return messageIdPrefix(parts.campaignId, parts.executionId, parts.channel) + parts.recipientId;
}
