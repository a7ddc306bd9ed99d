import { sub } from "date-fns";
import type { Category, Channel } from "../model/common.js";
import type { FrequencyCap } from "../model/delivery-controls.js";
import type { ExclusionReason } from "../model/execution.js";
import type { Profile } from "../model/profile.js";

/*
 * The dispatcher's per-profile exclusion rules. Internal to the engine (not exported from its index): they
 * are the dispatcher's policy, reported through `excludedByReason`, not an API of their own. Quiet hours use
 * the schedule's `quietHoursEnd`, so they follow the same DST rules as scheduling.
 */

/**
 * Where to reach a profile on a channel: its address for the channel, else the matching identity (`email` for
 * email, `phone` for SMS). Webhooks need none and get `""`; `undefined` means unreachable.
 *
 * @internal
 */
export function resolveAddress(profile: Profile, channel: Channel): string | undefined {
  const address = profile.addresses[channel];
  if (address) return address;
  if (channel === "email") return profile.identities.email || undefined;
  if (channel === "sms") return profile.identities.phone || undefined;
  if (channel === "webhook") return "";
  return undefined;
}

/**
 * The first of the per-profile exclusions that need no I/O, in order: identity in the campaign's namespace,
 * address, consent (marketing only, an explicit `true`), suppression. `undefined` when none applies.
 *
 * @internal
 */
export function staticExclusion(
  profile: Profile,
  channel: Channel,
  category: Category,
  identityNamespace: string,
  address: string | undefined,
): ExclusionReason | undefined {
  if (!profile.identities[identityNamespace]) return "missing-identity";
  if (address === undefined) return "missing-address";
  if (category === "marketing" && profile.consent[channel] !== true) return "no-consent";
  if (profile.suppressedChannels.length > 0 && profile.suppressedChannels.includes(channel))
    return "suppressed";
  return undefined;
}

/**
 * The start of a frequency cap's rolling period ending at `now`: the last hour, day, week or month (calendar
 * months, through date-fns, so "a month" before 31 March is 28 or 29 February).
 *
 * @internal
 */
export function frequencyCapSince(cap: FrequencyCap, now: number): Date {
  return sub(new Date(now), { [`${cap.period}s`]: 1 });
}
