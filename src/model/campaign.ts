import { z } from "zod";
import { categorySchema, idSchema, instantSchema } from "./common.js";
import { deliveryControlsSchema } from "./delivery-controls.js";
import { scheduleSchema } from "./schedule.js";
import { CAMPAIGN_STATUSES } from "./status-machine.js";

/** Email content: a subject and an HTML and/or text body, all Handlebars templates. */
export const emailContentSchema = z
  .object({
    subject: z.string().min(1, "An email needs a subject"),
    html: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
  })
  .refine((content) => content.html !== undefined || content.text !== undefined, {
    message: "An email needs an `html` or a `text` body",
  });
/** SMS content: one body template. */
export const smsContentSchema = z.object({ body: z.string().min(1, "An SMS needs a body").max(1600) });
/** Push content: title, body and optional string data, all templates. */
export const pushContentSchema = z.object({
  title: z.string().min(1, "A push needs a title"),
  body: z.string().min(1, "A push needs a body"),
  data: z.record(z.string(), z.string()).optional(),
});
/** Webhook content: the request body, a template. */
export const webhookContentSchema = z.object({ payload: z.string().min(1, "A webhook needs a payload") });

const action = <C extends string, S extends z.ZodType>(channel: C, content: S) =>
  z.object({
    channel: z.literal(channel),
    /** The channel configuration the action sends with; its channel must match. */
    channelConfigurationId: idSchema,
    content,
  });

/**
 * One channel of a campaign: the channel, its configuration and its content. A campaign's actions run
 * simultaneously, one per channel.
 */
export const campaignActionSchema = z.discriminatedUnion(
  "channel",
  [
    action("email", emailContentSchema),
    action("sms", smsContentSchema),
    action("push", pushContentSchema),
    action("webhook", webhookContentSchema),
  ],
  { error: "Expected `channel` to be one of: email, sms, push, webhook" },
);
/** One channel of a campaign, with its configuration and content. */
export type CampaignAction = z.infer<typeof campaignActionSchema>;
/** The content of one channel's action. */
export type ActionContent = CampaignAction["content"];

/** A campaign's status. */
export const campaignStatusSchema = z.enum(CAMPAIGN_STATUSES);

const editableFields = {
  name: z.string().min(1, "A campaign needs a name").max(200),
  description: z.string().max(2000).optional(),
  tags: z.array(z.string().min(1).max(100)).default([]),
  category: categorySchema,
  actions: z
    .array(campaignActionSchema)
    .min(1, "A campaign needs at least one action")
    .refine((actions) => new Set(actions.map((a) => a.channel)).size === actions.length, {
      message: "A campaign has at most one action per channel",
    }),
  /** The audience to send to; required except for API-triggered transactional campaigns. */
  audienceId: idSchema.optional(),
  /** The identity namespace recipients are keyed by (`email`, `phone`, `ecid`...). */
  identityNamespace: z.string().min(1).default("email"),
  schedule: scheduleSchema.optional(),
  deliveryControls: deliveryControlsSchema.default({ deliveryWindowHours: 12 }),
};

const apiTriggerSchema = z.object({
  /** Transactional calls may create profiles for unknown recipients when this is set. */
  createNewProfile: z.boolean().default(false),
});

const scheduledFields = { type: z.literal("scheduled"), ...editableFields };
const apiTriggeredFields = {
  type: z.literal("api-triggered"),
  ...editableFields,
  apiTrigger: apiTriggerSchema.default({ createNewProfile: false }),
};

function checkCampaignRules(
  campaign: { category: string; deliveryControls: { frequencyCap?: unknown } },
  ctx: z.RefinementCtx,
): void {
  if (campaign.category === "transactional" && campaign.deliveryControls.frequencyCap) {
    ctx.addIssue({
      code: "custom",
      path: ["deliveryControls", "frequencyCap"],
      message: "Frequency capping applies to marketing campaigns only",
    });
  }
}

/**
 * What a user writes to create or update a campaign: everything but the id, status, version and audit fields,
 * which the kit sets.
 */
export const campaignDraftSchema = z
  .discriminatedUnion("type", [z.object(scheduledFields), z.object(apiTriggeredFields)], {
    error: "Expected `type` to be one of: scheduled, api-triggered",
  })
  .superRefine(checkCampaignRules);
/** The fields a user writes to create a campaign, as accepted (dates may be strings). */
export type CampaignDraftInput = z.input<typeof campaignDraftSchema>;
/** The fields a user writes to create a campaign, as parsed. */
export type CampaignDraft = z.infer<typeof campaignDraftSchema>;

const storedFields = {
  id: idSchema,
  status: campaignStatusSchema.default("draft"),
  /** Optimistic concurrency version, bumped by every write. */
  version: z.number().int().min(1).default(1),
  /** For a new version of a live recurring campaign: the campaign it replaces when activated. */
  replacesCampaignId: idSchema.optional(),
  /**
   * For a live recurring campaign: its new version in progress, claimed by compare-and-set on this campaign
   * so that two concurrent `createVersion` calls can't both make one. Only that version may replace it.
   */
  openVersionId: idSchema.optional(),
  createdAt: instantSchema,
  updatedAt: instantSchema,
  createdBy: idSchema,
  updatedBy: idSchema,
  activatedAt: instantSchema.optional(),
};

/**
 * A campaign: one-time content delivered to an audience over one or more channels, whose actions run
 * concurrently, at once or on a schedule. A union on `type` (`scheduled` | `api-triggered`).
 */
export const campaignSchema = z
  .discriminatedUnion("type", [
    z.object({ ...scheduledFields, ...storedFields }),
    z.object({ ...apiTriggeredFields, ...storedFields }),
  ])
  .superRefine(checkCampaignRules);
/** A campaign. */
export type Campaign = z.infer<typeof campaignSchema>;
/** A campaign as accepted by {@link campaignSchema} (dates may be strings, defaults may be absent). */
export type CampaignInput = z.input<typeof campaignSchema>;
/** The type of a campaign. */
export type CampaignType = Campaign["type"];
