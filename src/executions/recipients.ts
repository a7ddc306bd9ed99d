import type { RecipientOverride } from "../dispatch/types.js";
import type { Campaign } from "../model/campaign.js";
import type { Channel } from "../model/common.js";
import type { Profile } from "../model/profile.js";
import type { AudienceSource } from "../ports/audience-source.js";
import type { UnitaryRecipient } from "./payloads.js";

/** The recipients of a unitary call, resolved to profiles. */
export interface ResolvedRecipients {
  profiles: Profile[];
  /** Per-recipient context and channel data, by profile id. */
  overrides: Map<string, RecipientOverride>;
  /** The `userId`s that match no profile and may not be created. */
  unknown: string[];
}

const CHANNEL_DATA_ADDRESSES: Readonly<Record<string, Channel>> = {
  emailAddress: "email",
  mobilePhoneNumber: "sms",
  pushToken: "push",
};

/**
 * Looks up each named recipient. `aep` recipients are profiles found by identity; an unknown one becomes a
 * new profile when the campaign allows it (`createNewProfile`, saved when `save` is set), else it is listed
 * in `unknown`. `external` recipients are built from the call alone and never stored. The call's `profile`
 * attributes overlay the stored ones for this send only, and `channelData` addresses replace the profile's.
 */
export async function resolveUnitaryRecipients(
  source: AudienceSource,
  campaign: Campaign,
  recipients: readonly UnitaryRecipient[],
  save: boolean,
): Promise<ResolvedRecipients> {
  const createNew = campaign.type === "api-triggered" && campaign.apiTrigger.createNewProfile;
  const resolved: ResolvedRecipients = { profiles: [], overrides: new Map(), unknown: [] };
  for (const recipient of recipients) {
    const found =
      recipient.type === "aep"
        ? await source.findProfile({ namespace: recipient.namespace, value: recipient.userId })
        : undefined;
    if (!found && recipient.type === "aep" && !createNew) {
      resolved.unknown.push(recipient.userId);
      continue;
    }
    const base: Profile = found ?? {
      id: `${recipient.namespace}:${recipient.userId}`,
      identities: { [recipient.namespace]: recipient.userId },
      addresses: {},
      attributes: recipient.profile ?? {},
      consent: {},
      suppressedChannels: [],
    };
    if (!found && recipient.type === "aep" && save) await source.saveProfile({ profile: base });
    const profile: Profile = {
      ...base,
      attributes: { ...base.attributes, ...recipient.profile },
      addresses: { ...base.addresses },
    };
    for (const [key, channel] of Object.entries(CHANNEL_DATA_ADDRESSES)) {
      const address = recipient.channelData?.[key];
      if (typeof address === "string") profile.addresses[channel] = address;
    }
    resolved.profiles.push(profile);
    const override: RecipientOverride = {};
    if (recipient.context) override.context = recipient.context;
    if (recipient.channelData) override.channelData = recipient.channelData;
    resolved.overrides.set(profile.id, override);
  }
  return resolved;
}
