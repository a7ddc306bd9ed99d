import type { Campaign } from "../model/campaign.js";
import type { Execution } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import { localDateTimeOf, profileDueAt } from "../schedule/profile-time-zone.js";
import { planWaves, waveOf } from "../schedule/waves.js";

/** What one pass over an audience saw. */
export interface SliceStats {
  /** Profiles the audience streamed. */
  seen: number;
  /** The audience's size, when this pass counted it to plan waves. */
  audienceSize?: number;
  /** The earliest instant a profile held back becomes due; absent when none was held back. */
  nextDueAt?: Date;
}

/**
 * When each recipient of an occurrence is due, by its position in the stream and its time zone, or
 * `undefined` when the whole audience is due at once. Waves slice by position (the source must stream in a
 * stable order); sending in profile time zones slices by the occurrence's wall time in each profile's zone.
 * A recipient subject to both is due at the later of the two.
 */
export async function sliceSchedule(
  campaign: Campaign,
  execution: Execution,
  audienceSize: () => number | Promise<number>,
): Promise<((profile: Profile, position: number) => number) | undefined> {
  const occurrenceAt = execution.executeAt ?? execution.createdAt;
  const waves = campaign.type === "scheduled" ? campaign.deliveryControls.waves : undefined;
  const schedule = campaign.schedule;
  const byZone = campaign.type === "scheduled" && schedule?.sendInProfileTimeZone === true;
  if (!waves && !byZone) return undefined;

  const plan = waves ? planWaves(waves, await audienceSize(), occurrenceAt) : undefined;
  const zone = schedule?.timeZone ?? "UTC";
  const local = localDateTimeOf(occurrenceAt, zone);
  // Many profiles share few zones: work each zone's instant out once per pass.
  const dueByZone = new Map<string, number>();
  const zoneDue = (profileZone: string | undefined) => {
    const key = profileZone ?? "";
    let due = dueByZone.get(key);
    if (due === undefined) {
      due = profileDueAt(local, profileZone, zone).getTime();
      dueByZone.set(key, due);
    }
    return due;
  };
  return (profile, position) => {
    const waveDue = plan ? waveOf(position, plan).startAt.getTime() : Number.NEGATIVE_INFINITY;
    return Math.max(waveDue, byZone ? zoneDue(profile.timeZone) : Number.NEGATIVE_INFINITY);
  };
}

/**
 * Passes on the pages of `pages` only the profiles due by `until`; those due later wait for a later pass.
 * Counts what it saw and when the next held-back profile becomes due. Memory stays bounded: pages stream
 * through.
 */
export async function* dueProfiles(
  pages: AsyncIterable<readonly Profile[]>,
  dueAt: ((profile: Profile, position: number) => number) | undefined,
  until: number,
  stats: SliceStats,
): AsyncGenerator<readonly Profile[]> {
  let next = Number.POSITIVE_INFINITY;
  for await (const page of pages) {
    const first = stats.seen;
    stats.seen += page.length;
    if (!dueAt) {
      yield page;
      continue;
    }
    const due: Profile[] = [];
    for (let i = 0; i < page.length; i++) {
      const profile = page[i] as Profile;
      const at = dueAt(profile, first + i);
      if (at > until) {
        if (at < next) next = at;
      } else due.push(profile);
    }
    if (due.length > 0) yield due;
  }
  if (next !== Number.POSITIVE_INFINITY) stats.nextDueAt = new Date(next);
}
