import type { Audience } from "../../model/audience.js";
import type { Campaign, CampaignDraft } from "../../model/campaign.js";
import type { ChannelConfiguration } from "../../model/channel-configuration.js";
import type { Channel } from "../../model/common.js";
import type { Actor, Role } from "../../model/roles.js";

/**
 * Every prerequisite problem code, in one map, each with what it means. Codes are stable: match on
 * `problem.code`, never on the message, which names the objects concerned and may be reworded.
 */
export const PREREQUISITE_CODES = {
  MISSING_PERMISSION: "The actor lacks the permission the intent needs.",
  NOT_API_TRIGGERED: "Only API-triggered campaigns can be triggered; scheduled ones run on their schedule.",
  ACTIONS_MISSING: "The campaign has no action, so it would send nothing.",
  AUDIENCE_REQUIRED: "The campaign needs an audience before it can be sent.",
  AUDIENCE_NOT_FOUND: "The campaign's audience does not exist.",
  AUDIENCE_NOT_AVAILABLE:
    "The audience is still processing or failed to evaluate; only realized audiences can be used.",
  AUDIENCE_NAMESPACE_MISMATCH: "The audience is keyed by another identity namespace than the campaign.",
  AUDIENCE_NOT_ALLOWED:
    "API-triggered transactional campaigns send to the recipients named in each call, not to an audience.",
  CHANNEL_ADAPTER_MISSING: "An action's channel has no channel adapter in the kit, so nothing could send it.",
  CONFIGURATION_NOT_FOUND: "An action's channel configuration does not exist.",
  CONFIGURATION_NOT_ACTIVE: "An action's channel configuration is not active.",
  CONFIGURATION_CHANNEL_MISMATCH: "An action's channel configuration is for another channel.",
  CONFIGURATION_PURPOSE_MISMATCH:
    "An action's channel configuration has another purpose than the campaign's category.",
  CONTENT_MISSING: "A content field the channel needs is empty.",
  TEMPLATE_INVALID: "A content field is not valid Handlebars.",
  PROFILE_VARIABLE_IN_HIGH_THROUGHPUT:
    "A high-throughput campaign's template reads a profile variable, but the campaign never looks profiles up.",
  EXPERIMENT_TREATMENT_COUNT: "A content experiment compares 2 to 5 treatments.",
  EXPERIMENT_PERCENTAGES: "A content experiment's percentages and holdout don't sum to 100.",
  EXPERIMENT_TREATMENT_DUPLICATE: "Two treatments of a content experiment share an id.",
  EXPERIMENT_MULTIPLE: "A campaign runs at most one content experiment.",
  SCHEDULE_ENDS_BEFORE_START: "The schedule's end is not after its start.",
  SCHEDULE_IN_PAST: "The scheduled start has already passed.",
  SCHEDULE_NOT_STARTED: "The campaign's start/end window has not opened yet.",
  SCHEDULE_ENDED: "The schedule's end has already passed.",
  SCHEDULING_ON_API_TRIGGERED:
    "API-triggered campaigns run when called; recurrence and per-profile time zones are for scheduled campaigns.",
  PROFILE_TIME_ZONE_WITHOUT_SEND_TIME:
    "Sending in each profile's time zone needs a local time to send at: a start date or a recurrence.",
  WAVES_ON_API_TRIGGERED: "Waves split a scheduled send; API-triggered campaigns can't use them.",
  FREQUENCY_CAP_ON_TRANSACTIONAL: "Frequency capping applies to marketing campaigns only.",
} as const;

/** A stable prerequisite problem code; see {@link PREREQUISITE_CODES} for the meaning of each. */
export type PrerequisiteCode = keyof typeof PREREQUISITE_CODES;

/** What a campaign operation is about to do; it decides which prerequisites apply. */
export type PrerequisiteIntent =
  | "create"
  | "update"
  | "request-approval"
  | "activate"
  | "approve"
  | "trigger";

/** Every intent, in lifecycle order. */
export const PREREQUISITE_INTENTS: readonly PrerequisiteIntent[] = [
  "create",
  "update",
  "request-approval",
  "activate",
  "approve",
  "trigger",
];

/** What {@link checkPrerequisites} looks at. Everything is passed in: the function reads no storage and no clock. */
export interface PrerequisiteInput {
  /** Who is about to act. */
  actor: Actor;
  /** Custom roles the actor's role ids may name, beside the built-in ones. */
  customRoles?: readonly Role[];
  /** What the actor is about to do; it decides which prerequisites apply (see {@link checkPrerequisites}). */
  intent: PrerequisiteIntent;
  /** The campaign, parsed: a draft being written or a stored campaign. */
  campaign: CampaignDraft | Campaign;
  /** The audience found for `campaign.audienceId`; `undefined` when there is none by that id. */
  audience: Audience | undefined;
  /** The configurations found for the actions' `channelConfigurationId`s, by id; an absent key is "not found". */
  configurations: ReadonlyMap<string, ChannelConfiguration>;
  /** The instant to judge the schedule against. */
  now: Date;
  /**
   * The channels the sending kit has adapters for; when given, an action on any other channel is a
   * `CHANNEL_ADAPTER_MISSING` problem. The kit always passes its own.
   */
  channels?: ReadonlySet<Channel>;
}

/** The object a problem is about. */
export interface PrerequisiteSubject {
  /** What kind of object it is. */
  kind: "actor" | "audience" | "channel-configuration" | "action" | "campaign" | "schedule";
  /** The object's id, when it has one (actor, audience, channel configuration). */
  id?: string;
  /** The dotted path in the campaign that refers to the object or holds the problem (`actions.0.content.subject`). */
  path?: string;
}

/** One unmet prerequisite. */
export interface PrerequisiteProblem {
  /** The stable code; see {@link PREREQUISITE_CODES}. */
  code: PrerequisiteCode;
  /** What is wrong, as a sentence naming the object concerned. */
  message: string;
  /** The concrete action that removes the problem. */
  fix: string;
  /** The object concerned. */
  subject: PrerequisiteSubject;
}

/** The outcome of {@link checkPrerequisites}: `ok` exactly when `problems` is empty. */
export interface PrerequisiteResult {
  /** Whether every prerequisite is met. */
  ok: boolean;
  /** Every unmet prerequisite, in a stable order: actor, campaign, audience, actions, schedule, controls. */
  problems: PrerequisiteProblem[];
}

/**
 * Intents after which messages can go out. Saving a draft (create/update) checks what the draft refers to
 * and contains, the audience's availability included; whether an audience is set at all and whether dates
 * have passed matter once the campaign is headed for sending, and may well change between saving and sending.
 *
 * @internal
 */
export const SEND_BOUND: ReadonlySet<PrerequisiteIntent> = new Set([
  "request-approval",
  "activate",
  "approve",
  "trigger",
]);

/** How messages name a campaign: by name, and by id once stored. @internal */
export function campaignLabel(campaign: CampaignDraft | Campaign): string {
  return "id" in campaign ? `Campaign '${campaign.name}' (${campaign.id})` : `Campaign '${campaign.name}'`;
}
