import { TZDate } from "@date-fns/tz";
import { sub } from "date-fns";
import type { Category, Channel } from "../domain/common.js";
import type { FrequencyCap, QuietHours } from "../domain/delivery-controls.js";
import type { ExclusionReason } from "../domain/execution.js";
import type { Profile } from "../domain/profile.js";

/**
 * Where to reach a profile on a channel: its address for the channel, else the matching identity (`email` for
 * email, `phone` for SMS). Webhooks need none and get `""`; `undefined` means unreachable.
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
 */
export function frequencyCapSince(cap: FrequencyCap, now: number): Date {
  return sub(new Date(now), { [`${cap.period}s`]: 1 });
}

/**
 * When quiet hours end, in ms since the epoch, if `now` falls inside them in `timeZone`; `undefined` when it
 * doesn't. The range may wrap midnight (22:00 to 07:00); local times go through `@date-fns/tz`, so DST
 * changes are the library's problem, not ours.
 */
export function quietHoursEnd(quiet: QuietHours, timeZone: string, now: number): number | undefined {
  const local = new TZDate(now, timeZone);
  const minute = local.getHours() * 60 + local.getMinutes();
  const start = quiet.start.hour * 60 + quiet.start.minute;
  const end = quiet.end.hour * 60 + quiet.end.minute;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return undefined;
  const endsAt = new TZDate(now, timeZone);
  endsAt.setHours(quiet.end.hour, quiet.end.minute, 0, 0);
  if (endsAt.getTime() <= now) endsAt.setDate(endsAt.getDate() + 1);
  return endsAt.getTime();
}
