import type { DispatchPlan, PlanDecision } from "../dispatch/types.js";
import type { Campaign } from "../model/campaign.js";
import type { Execution } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import { localDateTimeOf, profileDueAt, quietHoursEnd } from "../schedule/profile-time-zone.js";
import { planWaves, waveOf } from "../schedule/waves.js";

const HOUR_MS = 3_600_000;

/**
 * When an execution's messages may go out, in one place: the occurrence's due time, its waves (by stream
 * position), each profile's time zone, quiet hours in that zone, and the delivery window. A recipient is due
 * at the latest of its wave's start and its zone's local send time, moved past quiet hours (or excluded, when
 * they discard). Its window runs from that due time, before quiet hours, for `deliveryWindowHours`: what
 * can't go out in it is excluded as `outside-window` and reported, never sent days late or dropped silently.
 */
export interface ExecutionPlan {
  /** The first pass's window: from the occurrence's due time for `deliveryWindowHours`. */
  window: { start: Date; end: Date };
  /** Whether anyone can be due later than the first pass: waves, profile time zones or quiet hours. */
  slices: boolean;
  /** What is due when, for the dispatcher; `defer` keeps the recipients held back. */
  dispatchPlan(defer: DispatchPlan["defer"]): DispatchPlan;
}

/**
 * The plan of `execution` of `campaign`. `audienceSize` is needed for waves only (they are cut from it); a
 * resumed execution passes the size its first pass counted, so every pass cuts the same waves.
 */
export function planExecution(
  campaign: Campaign,
  execution: Pick<Execution, "executeAt" | "createdAt">,
  audienceSize: number | undefined,
): ExecutionPlan {
  const dueAt = (execution.executeAt ?? execution.createdAt).getTime();
  const windowMs = campaign.deliveryControls.deliveryWindowHours * HOUR_MS;
  const scheduled = campaign.type === "scheduled" ? campaign : undefined;
  const waves = scheduled?.deliveryControls.waves;
  const wavePlan =
    waves && audienceSize !== undefined ? planWaves(waves, audienceSize, new Date(dueAt)) : undefined;
  const byZone = scheduled?.schedule?.sendInProfileTimeZone === true;
  const campaignZone = campaign.schedule?.timeZone ?? "UTC";
  // Quiet hours hold back marketing only: a transactional message (a disruption, a reset) goes out now.
  const quiet = campaign.category === "marketing" ? campaign.deliveryControls.quietHours : undefined;
  const local = localDateTimeOf(new Date(dueAt), campaignZone);
  // Many profiles share few zones: work each zone's instant out once.
  const zoneDue = new Map<string, number>();
  const dueInZone = (zone: string) => {
    let due = zoneDue.get(zone);
    if (due === undefined) {
      due = profileDueAt(local, zone, campaignZone).getTime();
      zoneDue.set(zone, due);
    }
    return due;
  };

  function decide(profile: Profile, position: number, now: number): PlanDecision {
    const zone = profile.timeZone ?? campaignZone;
    // In profile time zones the occurrence's wall time comes zone by zone, up to 14 hours before or after it.
    let due = byZone ? dueInZone(zone) : dueAt;
    if (wavePlan) due = Math.max(due, waveOf(position, wavePlan).startAt.getTime());
    const windowEnd = due + windowMs;
    const sendAt = Math.max(due, now);
    let at = sendAt;
    if (quiet) {
      at = quietHoursEnd(new Date(sendAt), quiet, zone).getTime();
      if (at !== sendAt && quiet.behavior === "discard") return { exclude: "quiet-hours" };
    }
    if (at > windowEnd) return { exclude: "outside-window" };
    return at > now ? { deferUntil: at } : undefined;
  }

  return {
    window: { start: new Date(dueAt), end: new Date(dueAt + windowMs) },
    slices: wavePlan !== undefined || byZone || quiet !== undefined,
    dispatchPlan: (defer) => ({ decide, defer }),
  };
}
