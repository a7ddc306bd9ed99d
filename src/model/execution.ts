import { z } from "zod";
import { attributesSchema, channelSchema, idSchema, instantSchema } from "./common.js";

/** An execution's status. `scheduled` ones wait for `executeAt` and can still be cancelled. */
export const EXECUTION_STATUSES = ["scheduled", "in-progress", "succeeded", "failed", "cancelled"] as const;
/** An execution's status. */
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * One run of a campaign: an occurrence of a scheduled campaign, or one API trigger. Keyed by `requestId` for
 * idempotency: the same request id twice is the same execution.
 */
export const executionSchema = z.object({
  id: idSchema,
  campaignId: idSchema,
  /** The caller's idempotency key (API triggers) or the occurrence key (scheduled sends). */
  requestId: idSchema,
  kind: z.enum(["occurrence", "unitary", "audience"]),
  status: z.enum(EXECUTION_STATUSES),
  audienceId: idSchema.optional(),
  /** The trigger's real-time context, shared by every recipient of an audience execution. */
  context: attributesSchema.optional(),
  /**
   * A unitary execution's recipients as the call named them (at most 20), kept so a crashed execution can
   * resume: each has `userId`, `namespace`, and optional `context`, `profile` and `channelData`.
   */
  recipients: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
  /** When a deferred execution should run, or when the occurrence is due. */
  executeAt: instantSchema.optional(),
  targetedProfileCount: z.number().int().min(0).default(0),
  /**
   * When the next slice of this execution becomes due (the next wave, or the next time zone when sending in
   * profile time zones); absent once every slice has been sent.
   */
  resumeAt: instantSchema.optional(),
  /** The audience's size the waves were planned on, counted once on the first pass and kept for the rest. */
  audienceSize: z.number().int().min(0).optional(),
  createdAt: instantSchema,
  startedAt: instantSchema.optional(),
  finishedAt: instantSchema.optional(),
  error: z.string().optional(),
});
/** One run of a campaign. */
export type Execution = z.infer<typeof executionSchema>;

/** What happened to one message. */
export const DELIVERY_OUTCOMES = ["sent", "failed", "excluded"] as const;
/** What happened to one message. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** Why a recipient was not sent a message. */
export const EXCLUSION_REASONS = [
  "no-consent",
  "suppressed",
  "missing-identity",
  "missing-address",
  "frequency-capped",
  "quiet-hours",
  "outside-window",
  "missing-variable",
  "render-too-large",
] as const;
/** Why a recipient was not sent a message. */
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/**
 * One message's entry in the delivery ledger, keyed by its deterministic `messageId` (campaign, execution,
 * recipient, channel). A message recorded `sent` is never sent again.
 */
export const deliveryRecordSchema = z.object({
  messageId: z.string().min(1),
  campaignId: idSchema,
  executionId: idSchema,
  recipientId: idSchema,
  channel: channelSchema,
  outcome: z.enum(DELIVERY_OUTCOMES),
  /** For `excluded`: the exclusion reason; for `failed`: the error. */
  reason: z.string().optional(),
  /** How many send attempts were made (0 for exclusions). */
  attempts: z.number().int().min(0),
  /** The provider's id for the message, when it gave one. */
  providerMessageId: z.string().optional(),
  at: instantSchema,
});
/** One message's entry in the delivery ledger. */
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;
