import type { Campaign } from "../model/campaign.js";
import type { Channel } from "../model/common.js";
import type { ExecutionRecipient } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { AudienceSource } from "../ports/audience-source.js";
import type { UnitaryRecipient } from "./payloads.js";

/** The recipients of a unitary call, resolved to profiles once, when the call is accepted. */
export interface ResolvedRecipients {
  /** Each recipient to send to, with what the call gave for it alone. */
  recipients: ExecutionRecipient[];
  /** Profiles to create before the execution is stored (`createNewProfile`). */
  created: Profile[];
  /** The `userId`s that match no profile and may not be created. */
  unknown: string[];
}

const CHANNEL_DATA_ADDRESSES: Readonly<Record<string, Channel>> = {
  emailAddress: "email",
  mobilePhoneNumber: "sms",
  pushToken: "push",
};

/** The profiles of the `aep` recipients, found with one lookup per namespace. */
async function lookUp(
  source: AudienceSource,
  recipients: readonly UnitaryRecipient[],
): Promise<Map<string, Map<string, Profile>>> {
  const byNamespace = new Map<string, string[]>();
  for (const recipient of recipients) {
    if (recipient.type !== "aep") continue;
    const values = byNamespace.get(recipient.namespace) ?? [];
    values.push(recipient.userId);
    byNamespace.set(recipient.namespace, values);
  }
  const found = new Map<string, Map<string, Profile>>();
  await Promise.all(
    [...byNamespace].map(async ([namespace, values]) => {
      found.set(namespace, await source.findProfiles({ namespace, values }));
    }),
  );
  return found;
}

/**
 * The recipients of a unitary call to a high-throughput campaign, built from the payload alone: no profile is
 * looked up or created, whatever the recipient's `type`. Each becomes a profile of its identity
 * (`namespace`, `userId`) and its `channelData` addresses, with no attributes, consent or suppression of its
 * own (the campaign is transactional); its `context` comes along. A recipient with no address for a channel
 * (and no identity that is one) is excluded there as `missing-address`, counted like any other.
 */
export function payloadRecipients(recipients: readonly UnitaryRecipient[]): ExecutionRecipient[] {
  return recipients.map((recipient) => {
    const profile: Profile = {
      id: `${recipient.namespace}:${recipient.userId}`,
      identities: { [recipient.namespace]: recipient.userId },
      addresses: {},
      attributes: {},
      consent: {},
      suppressedChannels: [],
    };
    applyChannelData(profile, recipient);
    const resolved: ExecutionRecipient = { profile };
    if (recipient.context) resolved.context = recipient.context;
    if (recipient.channelData) resolved.channelData = recipient.channelData;
    return resolved;
  });
}

/** Puts the recipient's `channelData` addresses on the profile, over its own. */
function applyChannelData(profile: Profile, recipient: UnitaryRecipient): void {
  for (const [key, channel] of Object.entries(CHANNEL_DATA_ADDRESSES)) {
    const address = recipient.channelData?.[key];
    if (typeof address === "string") profile.addresses[channel] = address;
  }
}

/**
 * Resolves each named recipient to the profile to send to. `aep` recipients are profiles found by identity;
 * an unknown one becomes a new profile when the campaign allows it (`createNewProfile`), else it is listed in
 * `unknown`. `external` recipients are built from the call alone and never stored. The call's `profile`
 * attributes overlay the stored ones for this send only, and `channelData` addresses replace the profile's.
 */
export async function resolveUnitaryRecipients(
  source: AudienceSource,
  campaign: Campaign,
  recipients: readonly UnitaryRecipient[],
): Promise<ResolvedRecipients> {
  const createNew = campaign.type === "api-triggered" && campaign.apiTrigger.createNewProfile;
  const resolved: ResolvedRecipients = { recipients: [], created: [], unknown: [] };
  const found = await lookUp(source, recipients);
  for (const recipient of recipients) {
    const stored =
      recipient.type === "aep" ? found.get(recipient.namespace)?.get(recipient.userId) : undefined;
    if (!stored && recipient.type === "aep" && !createNew) {
      resolved.unknown.push(recipient.userId);
      continue;
    }
    const base: Profile = stored ?? {
      id: `${recipient.namespace}:${recipient.userId}`,
      identities: { [recipient.namespace]: recipient.userId },
      addresses: {},
      attributes: recipient.profile ?? {},
      consent: {},
      suppressedChannels: [],
    };
    if (!stored && recipient.type === "aep") resolved.created.push(base);
    const profile: Profile = {
      ...base,
      attributes: { ...base.attributes, ...recipient.profile },
      addresses: { ...base.addresses },
    };
    applyChannelData(profile, recipient);
    const resolvedRecipient: ExecutionRecipient = { profile };
    if (recipient.context) resolvedRecipient.context = recipient.context;
    if (recipient.channelData) resolvedRecipient.channelData = recipient.channelData;
    resolved.recipients.push(resolvedRecipient);
  }
  return resolved;
}
