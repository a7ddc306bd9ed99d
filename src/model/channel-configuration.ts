import { z } from "zod";
import {
  categorySchema,
  e164Schema,
  emailAddressSchema,
  httpUrlSchema,
  idSchema,
  instantSchema,
} from "./common.js";

/** A configuration's lifecycle; campaigns may only select `active` ones. */
export const CHANNEL_CONFIGURATION_STATUSES = [
  "draft",
  "processing",
  "active",
  "failed",
  "deactivated",
] as const;
/** A configuration's status. */
export const channelConfigurationStatusSchema = z.enum(CHANNEL_CONFIGURATION_STATUSES);
/** A configuration's status. */
export type ChannelConfigurationStatus = z.infer<typeof channelConfigurationStatusSchema>;

const hostname = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, {
  message: "Expected a domain name such as 'mail.example.com'",
});

/** Email send settings. */
export const emailSettingsSchema = z.object({
  /** The sender's display name. */
  fromName: z.string().min(1),
  /** The sender's address, on `subdomain`. */
  fromAddress: emailAddressSchema,
  /** Where replies go, when not to `fromAddress`. */
  replyTo: emailAddressSchema.optional(),
  /** The delegated subdomain messages are sent from; read-only once active. */
  subdomain: hostname,
  /** The provider's IP pool to send from, where it has pools. */
  ipPool: z.string().min(1).optional(),
  /** The `List-Unsubscribe` header's targets (a mailto address, a URL) and whether one click unsubscribes. */
  listUnsubscribe: z
    .object({
      mailto: emailAddressSchema.optional(),
      url: httpUrlSchema.optional(),
      oneClick: z.boolean().default(true),
    })
    .optional(),
  /**
   * Tracking, opt-in (all off by default), served by the feedback handler of `campaign-kit/http` when the kit
   * has `tracking` options: `clicks` rewrites the HTML's links to signed redirects, `opens` adds a 1x1
   * pixel, `unsubscribe` gives marketing messages a one-click `List-Unsubscribe` URL (RFC 8058) that records
   * the unsubscription and suppresses the address.
   */
  tracking: z
    .object({
      opens: z.boolean().default(false),
      clicks: z.boolean().default(false),
      unsubscribe: z.boolean().default(false),
    })
    .optional(),
});
/** SMS send settings. */
export const smsSettingsSchema = z.object({
  /** The SMS provider's name, for your records (`twilio`). */
  provider: z.string().min(1),
  /** The number messages are sent from, in E.164 form (`+14155550100`). */
  senderNumber: e164Schema,
  /**
   * A Twilio Messaging Service (`MG` + 32 hex digits) to send through, for its features (compliance, link
   * shortening, status callbacks); `senderNumber` must be in its sender pool.
   */
  messagingServiceSid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, "Expected a Messaging Service SID: 'MG' followed by 32 hex digits")
    .optional(),
});
/** Push send settings. */
export const pushSettingsSchema = z.object({
  /** The app notifications are for. */
  appId: z.string().min(1),
  /** The app's platform: `ios`, `android` or `web`. */
  platform: z.enum(["ios", "android", "web"]),
});
/** Webhook send settings. */
export const webhookSettingsSchema = z.object({
  /** Where each message is sent. */
  url: httpUrlSchema,
  /** `POST` (the default) or `PUT`. */
  method: z.enum(["POST", "PUT"]).default("POST"),
  /** Headers added to every request (an authorization token, for example). */
  headers: z.record(z.string(), z.string()).default({}),
});

const common = {
  /** Its id, which campaign actions name as `channelConfigurationId`. */
  id: idSchema,
  /** A name people recognise it by, 1 to 200 characters; read-only once active. */
  name: z.string().min(1).max(200),
  /** Marketing or transactional; a campaign's category must match it. */
  purpose: categorySchema,
  /** Campaigns may select it only when `active`; one used by a live campaign can't be deactivated. */
  status: channelConfigurationStatusSchema.default("draft"),
  /** When it was registered. */
  createdAt: instantSchema.optional(),
  /** When it was last written. */
  updatedAt: instantSchema.optional(),
};

/**
 * A channel's technical send settings (formerly "preset" or "surface"). It must exist and be active before a
 * campaign can select its channel. A union on `channel`.
 */
export const channelConfigurationSchema = z.discriminatedUnion(
  "channel",
  [
    z.object({
      ...common,
      /** The channel it sends on (read-only once active); `settings` depend on it. */
      channel: z.literal("email"),
      /** The channel's send settings: sender, reply-to and subdomain for email, sender number for SMS... */
      settings: emailSettingsSchema,
    }),
    z.object({ ...common, channel: z.literal("sms"), settings: smsSettingsSchema }),
    z.object({ ...common, channel: z.literal("push"), settings: pushSettingsSchema }),
    z.object({ ...common, channel: z.literal("webhook"), settings: webhookSettingsSchema }),
  ],
  { error: "Expected `channel` to be one of: email, sms, push, webhook" },
);
/**
 * A channel's technical send settings (formerly "preset" or "surface"): it must exist and be active before a
 * campaign's action can send with it, and its purpose must match the campaign's category.
 *
 * @interface
 */
export type ChannelConfiguration = z.infer<typeof channelConfigurationSchema>;
/** A configuration as accepted by {@link channelConfigurationSchema}. */
export type ChannelConfigurationInput = z.input<typeof channelConfigurationSchema>;
