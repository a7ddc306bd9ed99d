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
  fromName: z.string().min(1),
  fromAddress: emailAddressSchema,
  replyTo: emailAddressSchema.optional(),
  /** The delegated subdomain messages are sent from; read-only once active. */
  subdomain: hostname,
  ipPool: z.string().min(1).optional(),
  listUnsubscribe: z
    .object({
      mailto: emailAddressSchema.optional(),
      url: httpUrlSchema.optional(),
      oneClick: z.boolean().default(true),
    })
    .optional(),
});
/** SMS send settings. */
export const smsSettingsSchema = z.object({
  provider: z.string().min(1),
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
  appId: z.string().min(1),
  platform: z.enum(["ios", "android", "web"]),
});
/** Webhook send settings. */
export const webhookSettingsSchema = z.object({
  url: httpUrlSchema,
  method: z.enum(["POST", "PUT"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
});

const common = {
  id: idSchema,
  name: z.string().min(1).max(200),
  /** Marketing or transactional; a campaign's category must match it. */
  purpose: categorySchema,
  status: channelConfigurationStatusSchema.default("draft"),
  createdAt: instantSchema.optional(),
  updatedAt: instantSchema.optional(),
};

/**
 * A channel's technical send settings (formerly "preset" or "surface"). It must exist and be active before a
 * campaign can select its channel. A union on `channel`.
 */
export const channelConfigurationSchema = z.discriminatedUnion(
  "channel",
  [
    z.object({ ...common, channel: z.literal("email"), settings: emailSettingsSchema }),
    z.object({ ...common, channel: z.literal("sms"), settings: smsSettingsSchema }),
    z.object({ ...common, channel: z.literal("push"), settings: pushSettingsSchema }),
    z.object({ ...common, channel: z.literal("webhook"), settings: webhookSettingsSchema }),
  ],
  { error: "Expected `channel` to be one of: email, sms, push, webhook" },
);
/** A channel's technical send settings. */
export type ChannelConfiguration = z.infer<typeof channelConfigurationSchema>;
/** A configuration as accepted by {@link channelConfigurationSchema}. */
export type ChannelConfigurationInput = z.input<typeof channelConfigurationSchema>;
