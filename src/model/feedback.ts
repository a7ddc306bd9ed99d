import { z } from "zod";
import { channelSchema, idSchema, instantSchema } from "./common.js";

/**
 * What a provider (or the kit's own tracking) can tell about a message after it was sent. A custom event is
 * `custom:<name>` (a purchase, a sign-up), recorded like the others.
 */
export const FEEDBACK_TYPES = [
  "delivered",
  "bounced",
  "complained",
  "opened",
  "clicked",
  "unsubscribed",
] as const;
/** A built-in feedback type; see {@link FEEDBACK_TYPES}. */
export type BuiltInFeedbackType = (typeof FEEDBACK_TYPES)[number];
/** A feedback type: a built-in one or `custom:<name>`. */
export type FeedbackType = BuiltInFeedbackType | `custom:${string}`;

/** A custom event's name: letters, digits, `_`, `.` and `-`, 1 to 64 characters. */
const CUSTOM_TYPE = /^custom:[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A feedback type: `delivered`, `bounced`, `complained`, `opened`, `clicked`, `unsubscribed` or `custom:<name>`. */
export const feedbackTypeSchema = z.union([
  z.enum(FEEDBACK_TYPES),
  z
    .string()
    .regex(CUSTOM_TYPE, {
      message: `Expected one of ${FEEDBACK_TYPES.join(", ")}, or custom:<name> (letters, digits, _ . -)`,
    })
    .transform((type) => type as `custom:${string}`),
]);

/** A hard bounce will never deliver (unknown mailbox); a soft one may later (mailbox full). */
export const bounceKindSchema = z.enum(["hard", "soft"]);
/** `hard` or `soft`. */
export type BounceKind = z.infer<typeof bounceKindSchema>;

/**
 * One provider event about one message, as `kit.feedback.record` takes it: name the message by
 * campaign-kit's message id (`messageId`), or by the provider's (`providerMessageId`, which the ledger
 * keeps), or both.
 */
export const feedbackEventSchema = z
  .object({
    /** What happened. */
    type: feedbackTypeSchema,
    /** campaign-kit's message id (the idempotency key adapters were given). */
    messageId: z.string().min(1).max(1000).optional(),
    /** The provider's id for the message, as its send call answered. */
    providerMessageId: z.string().min(1).max(1000).optional(),
    /**
     * The provider's id for this event: the same id twice counts once. When absent, one is derived from the
     * type, the message, the time, the bounce kind and the URL, so a webhook delivered twice still counts once.
     */
    eventId: z.string().min(1).max(500).optional(),
    /** When it happened, as the provider says. */
    at: instantSchema,
    /** For `bounced`: `hard` (the default: a provider that doesn't say usually means permanent) or `soft`. */
    bounce: bounceKindSchema.optional(),
    /**
     * The recipient's address the event is about (an email address, an E.164 number): what a hard bounce, a
     * complaint or an unsubscription suppresses. Without it, the recipient's profile is suppressed instead.
     */
    address: z.string().min(1).max(320).optional(),
    /** For `clicked`: the link followed. */
    url: z.string().min(1).max(2048).optional(),
    /** Who reported it (`ses`, `resend`, `tracking`...), for people reading the suppression list. */
    provider: z.string().min(1).max(100).optional(),
    /** The provider's words (a bounce's diagnostic), kept on suppression entries. */
    detail: z.string().max(1000).optional(),
  })
  .refine((event) => event.messageId !== undefined || event.providerMessageId !== undefined, {
    message: "Name the message: give messageId, providerMessageId or both",
    path: ["messageId"],
  });
/** One provider event about one message, as accepted (times as strings allowed). */
export type FeedbackEventInput = z.input<typeof feedbackEventSchema>;
/** One provider event about one message, parsed. */
export type FeedbackEvent = z.output<typeof feedbackEventSchema>;

/** The most distinct event ids one feedback document remembers, to recognise a provider's retries. */
export const FEEDBACK_EVENT_IDS_KEPT = 1_000;
/** The most distinct clicked URLs one feedback document keeps. */
export const FEEDBACK_URLS_KEPT = 50;

/**
 * What the kit keeps of one message's events of one type (collection `feedback`, id
 * `${messageId}|${type}`): who and what it is about, copied from the ledger, and how many distinct provider
 * events said so. Unique opens or clicks are the number of these documents; `count` sums every event.
 */
export const feedbackDocumentSchema = z.object({
  messageId: z.string().min(1),
  campaignId: idSchema,
  executionId: idSchema,
  channel: channelSchema,
  recipientId: idSchema,
  /** The experiment treatment the message carried, when its action had one. */
  treatmentId: z.string().min(1).optional(),
  type: feedbackTypeSchema,
  /** The earliest and latest event's time. */
  firstAt: instantSchema,
  lastAt: instantSchema,
  /** Distinct provider events of this type about this message. */
  count: z.number().int().min(1),
  /** The distinct event ids counted (the latest {@link FEEDBACK_EVENT_IDS_KEPT}, in sorted order). */
  eventIds: z.array(z.string()),
  /** For `bounced`: `hard` when any event said hard. */
  bounce: bounceKindSchema.optional(),
  /** For `clicked`: the distinct links followed (the first {@link FEEDBACK_URLS_KEPT} in sorted order). */
  urls: z.array(z.string()).optional(),
});
/** One message's events of one type. */
export type FeedbackDocument = z.infer<typeof feedbackDocumentSchema>;

/** Why an address is suppressed: a hard bounce, a complaint, an unsubscription, or added by hand. */
export const SUPPRESSION_REASONS = ["bounced", "complained", "unsubscribed", "manual"] as const;
/** Why an address is suppressed. */
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * An address (or, when events named no address, a profile) that a channel no longer sends to: marketing and
 * transactional sends alike are excluded as `suppressed` while it is active. Lifting it keeps the entry with
 * `liftedAt`; an event newer than the lift suppresses again, an older one (a provider's late retry) doesn't.
 */
export const suppressionSchema = z.object({
  /** `${channel}|address:${address}` or `${channel}|profile:${recipientId}` (hashed when longer than 200). */
  id: z.string().min(1).max(200),
  channel: channelSchema,
  /** The address suppressed, normalized (an email address in lower case). */
  address: z.string().min(1).optional(),
  /** The profile suppressed, when no address was known. */
  recipientId: idSchema.optional(),
  /** Every reason given, sorted. */
  reasons: z.array(z.enum(SUPPRESSION_REASONS)).min(1),
  /** The earliest and latest event (or manual addition) that suppressed it. */
  firstAt: instantSchema,
  lastAt: instantSchema,
  /** The message of the earliest event, when an event suppressed it. */
  messageId: z.string().optional(),
  /** The provider's words for the earliest event (a bounce's diagnostic). */
  detail: z.string().optional(),
  /** When it was last lifted, and by whom. */
  liftedAt: instantSchema.optional(),
  liftedBy: z.string().optional(),
  /** Whether sends are excluded: not lifted, or suppressed again after the lift. */
  active: z.boolean(),
});
/** An address or profile a channel no longer sends to. */
export type Suppression = z.infer<typeof suppressionSchema>;

/** An email address compared as mailbox providers do in practice: trimmed, in lower case. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  return trimmed.includes("@") ? trimmed.toLowerCase() : trimmed;
}
