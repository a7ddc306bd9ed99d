import { z } from "zod";
import { categorySchema, idSchema, instantSchema } from "./common.js";
import { deliveryControlsSchema } from "./delivery-controls.js";
import { experimentIssues, experimentSchema } from "./experiment.js";
import { scheduleSchema } from "./schedule.js";
import { CAMPAIGN_STATUSES } from "./status-machine.js";

/** Email content: a subject and an HTML and/or text body, all Handlebars templates. */
export const emailContentSchema = z
  .object({
    /** The subject line, a template. */
    subject: z.string().min(1, "An email needs a subject"),
    /** The HTML body, a template; give it, `text`, or both. */
    html: z.string().min(1).optional(),
    /** The plain-text body, a template; give it, `html`, or both. */
    text: z.string().min(1).optional(),
  })
  .refine((content) => content.html !== undefined || content.text !== undefined, {
    message: "An email needs an `html` or a `text` body",
  });
/** SMS content: one body template. */
export const smsContentSchema = z.object({
  /** The message text, a template: at most 1600 characters before rendering. */
  body: z.string().min(1, "An SMS needs a body").max(1600),
});
/** Push content: title, body and optional string data, all templates. */
export const pushContentSchema = z.object({
  /** The notification's title, a template. */
  title: z.string().min(1, "A push needs a title"),
  /** The notification's text, a template. */
  body: z.string().min(1, "A push needs a body"),
  /** Key-value data handed to the app with the notification, each value a template. */
  data: z.record(z.string(), z.string()).optional(),
});
/** Webhook content: the request body, a template. */
export const webhookContentSchema = z.object({
  /** The request body, a template (usually JSON). */
  payload: z.string().min(1, "A webhook needs a payload"),
});

const action = <C extends string, S extends z.ZodType>(channel: C, content: S) =>
  z.object({
    /** The channel this action sends on: `email`, `sms`, `push` or `webhook`. */
    channel: z.literal(channel),
    /** The channel configuration the action sends with; its channel must match. */
    channelConfigurationId: idSchema,
    /**
     * What to send, as Handlebars templates; its fields depend on the channel. Absent when `experiment` is
     * set: each treatment then carries its own.
     */
    content: content.optional(),
    /**
     * A content experiment: 2 to 5 treatments, each with its own content and share of the recipients, an
     * optional holdout and a success metric. Give it or `content`, not both; a campaign runs at most one.
     */
    experiment: experimentSchema(content).optional(),
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
/** The content of one channel's action (or of one treatment of its experiment). */
export type ActionContent = NonNullable<CampaignAction["content"]>;
/** A content experiment on an action, as parsed; see {@link experimentSchema}. */
export type ActionExperiment = NonNullable<CampaignAction["experiment"]>;

/** A campaign's status. */
export const campaignStatusSchema = z.enum(CAMPAIGN_STATUSES);

const editableFields = {
  /** A name people recognise it by, 1 to 200 characters. */
  name: z.string().min(1, "A campaign needs a name").max(200),
  /** Free text, at most 2000 characters. */
  description: z.string().max(2000).optional(),
  /** Labels approval policies and filters can match on. */
  tags: z.array(z.string().min(1).max(100)).default([]),
  /**
   * `marketing` (needs each profile's consent; frequency caps apply) or `transactional` (no consent needed).
   * It must match the purpose of every action's channel configuration.
   */
  category: categorySchema,
  /** One action per channel, sent simultaneously: at least one, at most one per channel. */
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
  /** When it sends: a start, an end, a recurrence, profile time zones. Absent, it sends when activated. */
  schedule: scheduleSchema.optional(),
  /** Rate limit, delivery window, waves, quiet hours and frequency cap; absent ones are off. */
  deliveryControls: deliveryControlsSchema.default({ deliveryWindowHours: 12 }),
};

const apiTriggerSchema = z.object({
  /** Transactional calls may create profiles for unknown recipients when this is set. */
  createNewProfile: z.boolean().default(false),
  /**
   * High-throughput mode, as the reference product's (transactional only): each unitary call sends from its
   * payload alone, the recipients' `channelData` addresses and `context`, with no profile look-up and no
   * profile created. Templates can't use `{{profile.*}}` then (the prerequisites refuse it).
   */
  highThroughput: z.boolean().default(false),
});

const scheduledFields = {
  /**
   * `scheduled`: sent to its audience when activated or on its schedule. `api-triggered`: sent when called
   * through the execution API, to the 1-20 recipients of each call (transactional) or to its audience
   * (marketing).
   */
  type: z.literal("scheduled"),
  ...editableFields,
};
const apiTriggeredFields = {
  type: z.literal("api-triggered"),
  ...editableFields,
  /** How calls through the execution API are handled. */
  apiTrigger: apiTriggerSchema.default({ createNewProfile: false, highThroughput: false }),
};

function checkCampaignRules(
  campaign: {
    category: string;
    deliveryControls: { frequencyCap?: unknown };
    apiTrigger?: { createNewProfile: boolean; highThroughput: boolean };
    actions: readonly { content?: unknown; experiment?: ActionExperiment | undefined }[];
  },
  ctx: z.RefinementCtx,
): void {
  if (campaign.category === "transactional" && campaign.deliveryControls.frequencyCap) {
    ctx.addIssue({
      code: "custom",
      path: ["deliveryControls", "frequencyCap"],
      message: "Frequency capping applies to marketing campaigns only",
    });
  }
  if (campaign.apiTrigger?.highThroughput) {
    // High throughput skips profiles altogether: nothing to create, and marketing needs a profile's consent.
    if (campaign.category !== "transactional") {
      ctx.addIssue({
        code: "custom",
        path: ["apiTrigger", "highThroughput"],
        message:
          "High-throughput mode is for transactional campaigns only: marketing sends need each profile's consent",
      });
    }
    if (campaign.apiTrigger.createNewProfile) {
      ctx.addIssue({
        code: "custom",
        path: ["apiTrigger", "createNewProfile"],
        message:
          "A high-throughput campaign never reads or creates profiles: set `createNewProfile` to false",
      });
    }
  }
  let experiments = 0;
  campaign.actions.forEach((action, index) => {
    if (action.content === undefined && action.experiment === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["actions", index, "content"],
        message: "An action needs `content`, or an `experiment` whose treatments carry it",
      });
    }
    if (action.experiment === undefined) return;
    if (action.content !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["actions", index, "content"],
        message: "An action with an `experiment` takes its content from the treatments; remove `content`",
      });
    }
    if (++experiments === 2) {
      ctx.addIssue({
        code: "custom",
        path: ["actions", index, "experiment"],
        message: "A campaign runs at most one content experiment; remove this one or split the campaign",
      });
    }
    for (const issue of experimentIssues(action.experiment)) {
      ctx.addIssue({
        code: "custom",
        path: ["actions", index, "experiment", ...issue.path],
        message: issue.message,
      });
    }
  });
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
/**
 * The fields a user writes to create a campaign, as parsed.
 *
 * @interface
 */
export type CampaignDraft = z.infer<typeof campaignDraftSchema>;

const storedFields = {
  /** Its id, chosen when it is created; unique among campaigns. */
  id: idSchema,
  /** Where it is in its lifecycle (`draft`, `in-review`, `live`...); only the kit's operations move it. */
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
  /** When it was created. */
  createdAt: instantSchema,
  /** When it was last written. */
  updatedAt: instantSchema,
  /** The user who created it. */
  createdBy: idSchema,
  /** The user who last wrote it. */
  updatedBy: idSchema,
  /** When it last became live or scheduled. */
  activatedAt: instantSchema.optional(),
  /** When it was archived: its retention period (the kit's `lifecycle.archiveRetentionDays`) runs from here. */
  archivedAt: instantSchema.optional(),
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
/**
 * A campaign: one-time content delivered to an audience over one or more channels, whose actions run
 * concurrently, at once or on a schedule. What {@link campaignSchema} parses; the kit's `campaigns.get` and
 * `list` return it.
 *
 * @interface
 */
export type Campaign = z.infer<typeof campaignSchema>;
/** A campaign as accepted by {@link campaignSchema} (dates may be strings, defaults may be absent). */
export type CampaignInput = z.input<typeof campaignSchema>;
/** The type of a campaign. */
export type CampaignType = Campaign["type"];

/**
 * One content an action sends, as an action of its own: the action's `content`, or one treatment's. What
 * rendering and template checks take, so an experiment's treatments are compiled and checked like any action.
 */
export type ContentAction = CampaignAction extends infer A
  ? A extends { channel: infer C; channelConfigurationId: string; content?: infer X }
    ? { channel: C; channelConfigurationId: string; content: NonNullable<X> }
    : never
  : never;

/** One content of an action: which treatment it is (none without an experiment) and where it sits. */
export interface ActionVariant {
  /** The treatment's id; absent for an action without an experiment. */
  treatmentId?: string;
  /** The content, as an action of its own. */
  action: ContentAction;
  /** Where the content sits in the action: `content` or `experiment.treatments.<n>.content`. */
  contentPath: string;
}

/**
 * The contents an action sends: its `content`, or each treatment's, in order (the control first). An action
 * that has neither (only a campaign built without the schema can) has none.
 */
export function actionVariants(action: CampaignAction): ActionVariant[] {
  const { channel, channelConfigurationId } = action;
  if (action.experiment !== undefined) {
    return action.experiment.treatments.map((treatment, index) => ({
      treatmentId: treatment.id,
      action: { channel, channelConfigurationId, content: treatment.content } as ContentAction,
      contentPath: `experiment.treatments.${index}.content`,
    }));
  }
  if (action.content === undefined) return [];
  return [{ action: action as ContentAction, contentPath: "content" }];
}
