import { z } from "zod";
import { attributesSchema, channelSchema, idSchema, instantSchema } from "./common.js";
import { profileSchema } from "./profile.js";

/** An execution's status. `scheduled` ones wait for `executeAt` and can still be cancelled. */
export const EXECUTION_STATUSES = ["scheduled", "in-progress", "succeeded", "failed", "cancelled"] as const;
/** An execution's status. */
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * One recipient of a unitary execution, resolved when the call was accepted: the profile to send to (found by
 * identity, created, or described by the call, with the call's `profile` attributes and `channelData`
 * addresses applied) and what the call gave for this recipient alone.
 */
export const executionRecipientSchema = z.object({
  profile: profileSchema,
  /** The recipient's own context, merged over the execution's. */
  context: attributesSchema.optional(),
  /** Passed to the channel adapter untouched. */
  channelData: attributesSchema.optional(),
});
/** One resolved recipient of a unitary execution. */
export type ExecutionRecipient = z.infer<typeof executionRecipientSchema>;

/**
 * One run of a campaign: an occurrence of a scheduled campaign, or one API trigger. Keyed by `requestId` for
 * idempotency: the same request id twice is the same execution.
 */
export const executionSchema = z.object({
  /** Its id, the `executionId` the execution API answers with. */
  id: idSchema,
  /** The campaign it runs. */
  campaignId: idSchema,
  /** The caller's idempotency key (API triggers) or the occurrence key (scheduled sends). */
  requestId: idSchema,
  /**
   * `occurrence` (a scheduled send), `unitary` (an API call naming its recipients) or `audience` (an API call
   * to an audience).
   */
  kind: z.enum(["occurrence", "unitary", "audience"]),
  /** `scheduled`, `in-progress`, `succeeded`, `failed` or `cancelled`. */
  status: z.enum(EXECUTION_STATUSES),
  /** The audience it sends to, for occurrences and audience executions. */
  audienceId: idSchema.optional(),
  /** The trigger's real-time context, shared by every recipient of an audience execution. */
  context: attributesSchema.optional(),
  /** A unitary execution's recipients (at most 20), resolved once when the call was accepted. */
  recipients: z.array(executionRecipientSchema).max(20).optional(),
  /** When a deferred execution should run, or when the occurrence is due. */
  executeAt: instantSchema.optional(),
  /** How many profiles it targets, as counted so far. */
  targetedProfileCount: z.number().int().min(0).default(0),
  /**
   * Whether the audience was streamed: its first pass sent what was due and kept the rest as
   * {@link ExecutionSlice}s, so later passes read only those.
   */
  streamed: z.boolean().default(false),
  /** When the next slice of this execution becomes due; absent once every slice has been sent. */
  resumeAt: instantSchema.optional(),
  /**
   * The process running the execution, and until when: another process may take it over only after `until`
   * (its owner renews it while it runs). Absent when no process runs it.
   */
  claim: z.object({ owner: z.string().min(1), until: instantSchema }).optional(),
  /** The audience's size the waves were planned on, counted once on the first pass and kept for the rest. */
  audienceSize: z.number().int().min(0).optional(),
  /** When it was accepted or claimed. */
  createdAt: instantSchema,
  /** When sending began. */
  startedAt: instantSchema.optional(),
  /** When it ended: succeeded, failed or cancelled. */
  finishedAt: instantSchema.optional(),
  /** Why it failed, for a `failed` execution. */
  error: z.string().optional(),
});
/**
 * One run of a campaign: an occurrence of a scheduled campaign, or one API trigger. The kit's
 * `executions.get` returns it; the execution API's status view is made from it.
 *
 * @interface
 */
export type Execution = z.infer<typeof executionSchema>;

/** The most recipients one {@link ExecutionSlice} holds. */
export const SLICE_SIZE = 1_000;

/**
 * Recipients of an execution held back by its first pass until `dueAt` (a later wave, a time zone not yet at
 * its hour, quiet hours), by their identity in the campaign's namespace: a later pass looks them up again,
 * so it reads only them, with their consent and attributes as they are then.
 */
export const executionSliceSchema = z.object({
  id: z.string().min(1),
  executionId: idSchema,
  dueAt: instantSchema,
  /** The identity namespace the values are in. */
  namespace: z.string().min(1),
  identities: z.array(z.string()).min(1).max(SLICE_SIZE),
});
/** Recipients held back until a later pass. */
export type ExecutionSlice = z.infer<typeof executionSliceSchema>;

/** What happened to one message. */
export const DELIVERY_OUTCOMES = ["sent", "failed", "excluded"] as const;
/** What happened to one message. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/**
 * Why a recipient was not sent a message. `holdout` is not a delivery problem: the recipient fell in a content
 * experiment's holdout, which is sent nothing on purpose and counted to compare against.
 */
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
  "holdout",
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
  /**
   * The content experiment's treatment the recipient was assigned, on every outcome; `holdout` for a recipient
   * held out (outcome `excluded`, reason `holdout`), and absent for a holdout recipient excluded for another
   * reason. Absent when the action has no experiment.
   */
  treatmentId: z.string().min(1).optional(),
  at: instantSchema,
});
/** One message's entry in the delivery ledger. */
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;
