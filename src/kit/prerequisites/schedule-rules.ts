import type { PrerequisiteInput, PrerequisiteProblem } from "./problems.js";
import { campaignLabel, SEND_BOUND } from "./problems.js";

/** The schedule's problems: its shape for the campaign type, and for send-bound intents, its dates against `now`. */
export function scheduleProblems({ campaign, intent, now }: PrerequisiteInput): PrerequisiteProblem[] {
  const schedule = campaign.schedule;
  if (schedule === undefined) return [];
  const problems: PrerequisiteProblem[] = [];
  const { startAt, endAt } = schedule;
  if (startAt !== undefined && endAt !== undefined && endAt.getTime() <= startAt.getTime()) {
    problems.push({
      code: "SCHEDULE_ENDS_BEFORE_START",
      message: `The schedule ends at ${endAt.toISOString()}, not after it starts at ${startAt.toISOString()}.`,
      fix: "Move `endAt` after `startAt`.",
      subject: { kind: "schedule", path: "schedule.endAt" },
    });
  }
  if (campaign.type === "api-triggered") {
    for (const [field, set] of [
      ["recurrence", schedule.recurrence !== undefined],
      ["sendInProfileTimeZone", schedule.sendInProfileTimeZone],
    ] as const) {
      if (!set) continue;
      problems.push({
        code: "SCHEDULING_ON_API_TRIGGERED",
        message: `${campaignLabel(campaign)} is API-triggered, so it sends when called; \`${field}\` applies to scheduled campaigns only.`,
        fix: `Remove \`schedule.${field}\`, or make the campaign scheduled.`,
        subject: { kind: "schedule", path: `schedule.${field}` },
      });
    }
  } else if (schedule.sendInProfileTimeZone && startAt === undefined && schedule.recurrence === undefined) {
    problems.push({
      code: "PROFILE_TIME_ZONE_WITHOUT_SEND_TIME",
      message: "The schedule sends in each profile's time zone but names no local time to send at.",
      fix: "Set `startAt` or a `recurrence`, or turn off `sendInProfileTimeZone`.",
      subject: { kind: "schedule", path: "schedule.sendInProfileTimeZone" },
    });
  }
  if (!SEND_BOUND.has(intent)) return problems;
  if (intent !== "trigger" && campaign.type === "scheduled" && startAt !== undefined && startAt < now) {
    problems.push({
      code: "SCHEDULE_IN_PAST",
      message: `The schedule starts at ${startAt.toISOString()}, which has passed (it is now ${now.toISOString()}).`,
      fix: "Move `startAt` to a future time, or remove it to start on activation.",
      subject: { kind: "schedule", path: "schedule.startAt" },
    });
  }
  if (intent === "trigger" && startAt !== undefined && startAt > now) {
    problems.push({
      code: "SCHEDULE_NOT_STARTED",
      message: `${campaignLabel(campaign)} accepts calls from ${startAt.toISOString()}; it is now ${now.toISOString()}.`,
      fix: "Call again once the window opens, or move `startAt` earlier.",
      subject: { kind: "schedule", path: "schedule.startAt" },
    });
  }
  if (endAt !== undefined && endAt <= now) {
    problems.push({
      code: "SCHEDULE_ENDED",
      message: `The schedule ended at ${endAt.toISOString()} (it is now ${now.toISOString()}).`,
      fix: "Move `endAt` to a future time, or remove it.",
      subject: { kind: "schedule", path: "schedule.endAt" },
    });
  }
  return problems;
}

/** Delivery controls that don't suit the campaign's type or category. */
export function deliveryControlProblems({ campaign }: PrerequisiteInput): PrerequisiteProblem[] {
  const problems: PrerequisiteProblem[] = [];
  if (campaign.type === "api-triggered" && campaign.deliveryControls.waves !== undefined) {
    problems.push({
      code: "WAVES_ON_API_TRIGGERED",
      message: `${campaignLabel(campaign)} is API-triggered; waves split the audience of a scheduled send.`,
      fix: "Remove `deliveryControls.waves`, or make the campaign scheduled.",
      subject: { kind: "campaign", path: "deliveryControls.waves" },
    });
  }
  // The schema already refuses this; a campaign built without it (or stored before the rule) still must not send.
  if (campaign.category === "transactional" && campaign.deliveryControls.frequencyCap !== undefined) {
    problems.push({
      code: "FREQUENCY_CAP_ON_TRANSACTIONAL",
      message: `${campaignLabel(campaign)} is transactional; frequency caps would drop messages people need.`,
      fix: "Remove `deliveryControls.frequencyCap`.",
      subject: { kind: "campaign", path: "deliveryControls.frequencyCap" },
    });
  }
  return problems;
}
