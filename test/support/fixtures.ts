/**
 * The domain objects tests and benchmarks build on: an active email configuration (marketing `news`,
 * transactional `tx`), a live campaign, and marketing-ready profiles. One definition each: a test that needs
 * something else overrides what it needs.
 */
import { type Campaign, type CampaignInput, campaignSchema } from "../../src/model/campaign.js";
import {
  type ChannelConfiguration,
  channelConfigurationSchema,
} from "../../src/model/channel-configuration.js";
import type { Profile } from "../../src/model/profile.js";

/** 2026-01-01T12:00:00Z, a Thursday. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** An email channel configuration. */
export type EmailConfiguration = Extract<ChannelConfiguration, { channel: "email" }>;

/** An active marketing email configuration, `news`. */
export const emailConfiguration = channelConfigurationSchema.parse({
  id: "news",
  name: "News",
  purpose: "marketing",
  status: "active",
  channel: "email",
  settings: { fromName: "News", fromAddress: "news@example.com", subdomain: "mail.example.com" },
}) as EmailConfiguration;
/** {@link emailConfiguration} for transactional messages, `tx`. */
export const transactionalConfiguration: EmailConfiguration = {
  ...emailConfiguration,
  id: "tx",
  purpose: "transactional",
};
/** Both configurations by id, as the dispatcher takes them. */
export const configurations = { news: emailConfiguration, tx: transactionalConfiguration };

/** A live marketing campaign `spring` with one personalised email action on `news`; `input` overrides. */
export function campaign(input: Partial<CampaignInput> & Record<string, unknown> = {}): Campaign {
  return campaignSchema.parse({
    id: "spring",
    type: "scheduled",
    category: "marketing",
    name: "Spring",
    status: "live",
    createdAt: new Date(0),
    updatedAt: new Date(0),
    createdBy: "u",
    updatedBy: "u",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "news",
        content: {
          subject: "Hi {{profile.firstName}}",
          text: 'Hello {{profile.firstName}}, {{fallback context.offer "welcome"}}',
        },
      },
    ],
    ...input,
  });
}

/**
 * A marketing-ready profile `id`: email `<id>@example.com`, first name `Name-<id>`, consent on email and SMS;
 * `extra` overrides. A plain object, cheap enough to make a million of.
 */
export function profile(id: string, extra: Partial<Profile> = {}): Profile {
  return {
    id,
    identities: { email: `${id}@example.com` },
    addresses: {},
    attributes: { firstName: `Name-${id}` },
    consent: { email: true, sms: true },
    suppressedChannels: [],
    ...extra,
  };
}

/** `count` profiles, `<prefix>0` to `<prefix><count - 1>`. */
export function profiles(count: number, prefix = "p"): Profile[] {
  return Array.from({ length: count }, (_, i) => profile(`${prefix}${i}`));
}
