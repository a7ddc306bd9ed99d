import { CampaignKitError } from "../../errors.js";
import { isAudienceAvailable } from "../../model/audience.js";
import type { CampaignAction } from "../../model/campaign.js";
import { builtInRolesGranting, can, type Permission } from "../../model/roles.js";
import { contentProblems } from "./content.js";
import { experimentProblems } from "./experiments.js";
import { highThroughputProblems } from "./high-throughput.js";
import {
  campaignLabel,
  type PrerequisiteInput,
  type PrerequisiteIntent,
  type PrerequisiteProblem,
  type PrerequisiteResult,
  SEND_BOUND,
} from "./problems.js";
import { deliveryControlProblems, scheduleProblems } from "./schedule-rules.js";

/** The permission each intent needs. */
export const INTENT_PERMISSIONS: Readonly<Record<PrerequisiteIntent, Permission>> = {
  create: "campaign.write",
  update: "campaign.write",
  "request-approval": "campaign.write",
  activate: "campaign.publish",
  approve: "campaign.approve",
  trigger: "campaign.publish",
};

const PAST_TENSE: Readonly<Record<PrerequisiteIntent, string>> = {
  create: "created",
  update: "updated",
  "request-approval": "sent for approval",
  activate: "activated",
  approve: "approved",
  trigger: "triggered",
};

/**
 * Every unmet prerequisite of `intent` on `campaign`, all at once, each with a stable code, a sentence naming
 * the object concerned and the fix. Pure: no I/O, no clock (pass `now`), inputs never mutated; "not ready" is
 * a result, never an exception (see {@link assertPrerequisites} for the throwing form).
 *
 * Which checks apply to which intent:
 * - always: the intent's permission ({@link INTENT_PERMISSIONS}); the audience exists, is available
 *   (realized), has the campaign's identity namespace, and is absent from API-triggered transactional campaigns; each action's configuration
 *   exists, is active, has the action's channel and the campaign's category; content is present and parses;
 *   the schedule ends after it starts and suits the campaign type; waves and frequency caps suit it too; a
 *   high-throughput campaign's templates read no `{{profile.*}}` variable.
 * - `request-approval`, `activate`, `approve`, `trigger` also: an audience is set (unless API-triggered
 *   transactional); the end date has not passed.
 * - `request-approval`, `activate`, `approve` on scheduled campaigns: the start date has not passed (a late
 *   one-shot send is rarely what was meant; remove `startAt` to start on activation).
 * - `trigger`: the campaign is API-triggered and its window has opened.
 *
 * Campaign status is not checked here: the status machine
 * ({@link campaign-kit/model!applyLifecycleAction | applyLifecycleAction}) owns it.
 *
 * @example
 * ```ts
 * const result = checkPrerequisites({
 *   actor: { id: "ana", roles: ["campaign-manager"] },
 *   intent: "activate",
 *   campaign,
 *   audience: await storage.getAudience({ id: "vip" }),
 *   configurations: new Map([[config.id, config]]),
 *   now: new Date(),
 * });
 * if (!result.ok) for (const p of result.problems) console.log(`${p.code}: ${p.message} ${p.fix}`);
 * // MISSING_PERMISSION: 'ana' lacks campaign.publish, needed to activate a campaign. Assign the role
 * // 'campaign-approver' ..., or request approval instead.
 * ```
 */
export function checkPrerequisites(input: PrerequisiteInput): PrerequisiteResult {
  const problems = [
    ...permissionProblems(input),
    ...campaignProblems(input),
    ...audienceProblems(input),
    ...input.campaign.actions.flatMap((action, index) => actionProblems(input, action, index)),
    ...highThroughputProblems(input),
    ...experimentProblems(input),
    ...scheduleProblems(input),
    ...deliveryControlProblems(input),
  ];
  return { ok: problems.length === 0, problems };
}

/**
 * {@link checkPrerequisites}, throwing when anything is unmet.
 *
 * @throws CampaignKitError `PREREQUISITES_UNMET`, whose message lists every problem and its fix and whose
 * `details.problems` holds them as {@link PrerequisiteProblem}s.
 * @example
 * ```ts
 * assertPrerequisites({ actor, intent: "activate", campaign, audience, configurations, now: clock.now() });
 * ```
 */
export function assertPrerequisites(input: PrerequisiteInput): void {
  const { problems } = checkPrerequisites(input);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.code}: ${p.message} Fix: ${p.fix}`).join("\n");
  const count = problems.length === 1 ? "1 prerequisite is" : `${problems.length} prerequisites are`;
  throw new CampaignKitError(
    "PREREQUISITES_UNMET",
    `${campaignLabel(input.campaign)} can't be ${PAST_TENSE[input.intent]}: ${count} unmet:\n${lines}`,
    { details: { problems } },
  );
}

function permissionProblems({ actor, customRoles, intent }: PrerequisiteInput): PrerequisiteProblem[] {
  const permission = INTENT_PERMISSIONS[intent];
  if (can(actor, permission, customRoles)) return [];
  const role = builtInRolesGranting(permission)[0];
  // A manager who can't publish has a way forward without a new role: the approval flow.
  const alternative =
    intent === "activate" && can(actor, "campaign.write", customRoles) ? ", or request approval instead" : "";
  return [
    {
      code: "MISSING_PERMISSION",
      message: `'${actor.id}' lacks ${permission}, needed to ${intent === "request-approval" ? "request approval of" : intent} a campaign.`,
      fix: `Assign the role '${role}' (the least powerful built-in role granting ${permission}) to '${actor.id}'${alternative}.`,
      subject: { kind: "actor", id: actor.id },
    },
  ];
}

function campaignProblems({ campaign, intent }: PrerequisiteInput): PrerequisiteProblem[] {
  const problems: PrerequisiteProblem[] = [];
  const label = campaignLabel(campaign);
  if (intent === "trigger" && campaign.type !== "api-triggered") {
    problems.push({
      code: "NOT_API_TRIGGERED",
      message: `${label} is a scheduled campaign; only API-triggered campaigns can be triggered.`,
      fix: "Activate it to send on its schedule, or duplicate it as an API-triggered campaign.",
      subject: { kind: "campaign", path: "type" },
    });
  }
  if (campaign.actions.length === 0) {
    problems.push({
      code: "ACTIONS_MISSING",
      message: `${label} has no action, so it would send nothing.`,
      fix: "Add an action: a channel, its configuration and its content.",
      subject: { kind: "campaign", path: "actions" },
    });
  }
  return problems;
}

function audienceProblems({ campaign, audience, intent }: PrerequisiteInput): PrerequisiteProblem[] {
  const { audienceId } = campaign;
  if (campaign.type === "api-triggered" && campaign.category === "transactional") {
    if (audienceId === undefined) return [];
    return [
      {
        code: "AUDIENCE_NOT_ALLOWED",
        message: `${campaignLabel(campaign)} is API-triggered and transactional, so it sends to the recipients named in each call, not to audience '${audienceId}'.`,
        fix: "Remove `audienceId`, or make the campaign scheduled or marketing.",
        subject: { kind: "audience", id: audienceId, path: "audienceId" },
      },
    ];
  }
  if (audienceId === undefined) {
    if (!SEND_BOUND.has(intent)) return [];
    return [
      {
        code: "AUDIENCE_REQUIRED",
        message: `${campaignLabel(campaign)} has no audience to send to.`,
        fix: "Set `audienceId` to a realized audience.",
        subject: { kind: "audience", path: "audienceId" },
      },
    ];
  }
  // An audience handed in under another id is the caller's lookup gone wrong; treat it as not found rather
  // than check the wrong audience.
  if (audience === undefined || audience.id !== audienceId) {
    return [
      {
        code: "AUDIENCE_NOT_FOUND",
        message: `Audience '${audienceId}' does not exist.`,
        fix: "Create the audience, or set `audienceId` to an existing one.",
        subject: { kind: "audience", id: audienceId, path: "audienceId" },
      },
    ];
  }
  const problems: PrerequisiteProblem[] = [];
  const name = `Audience '${audience.name}' (${audience.id})`;
  // DOMAIN.md makes availability a prerequisite of making the campaign at all, not only of sending it.
  if (!isAudienceAvailable(audience)) {
    problems.push({
      code: "AUDIENCE_NOT_AVAILABLE",
      message:
        audience.status === "processing"
          ? `${name} is still processing.`
          : `${name} failed to evaluate, so its members are unknown.`,
      fix:
        audience.status === "processing"
          ? "Wait until it is realized, then try again."
          : "Fix the audience's definition and evaluate it again, or choose another audience.",
      subject: { kind: "audience", id: audience.id, path: "audienceId" },
    });
  }
  if (audience.identityNamespace !== campaign.identityNamespace) {
    problems.push({
      code: "AUDIENCE_NAMESPACE_MISMATCH",
      message: `${name} is keyed by '${audience.identityNamespace}' identities but ${campaignLabel(campaign)} targets the '${campaign.identityNamespace}' namespace.`,
      fix: `Set the campaign's \`identityNamespace\` to '${audience.identityNamespace}', or choose an audience keyed by '${campaign.identityNamespace}'.`,
      subject: { kind: "audience", id: audience.id, path: "identityNamespace" },
    });
  }
  return problems;
}

function actionProblems(
  { campaign, configurations, channels }: PrerequisiteInput,
  action: CampaignAction,
  index: number,
): PrerequisiteProblem[] {
  const problems: PrerequisiteProblem[] = [];
  if (channels !== undefined && !channels.has(action.channel)) {
    problems.push({
      code: "CHANNEL_ADAPTER_MISSING",
      message: `The kit has no channel adapter for ${action.channel}, so the ${action.channel} action could never be sent.`,
      fix: `Pass a ${action.channel} adapter in \`channels\` when creating the kit (for example \`memoryChannel({ channel: "${action.channel}" })\` in tests), or remove the action.`,
      subject: { kind: "action", path: `actions.${index}.channel` },
    });
  }
  const id = action.channelConfigurationId;
  const configSubject = {
    kind: "channel-configuration",
    id,
    path: `actions.${index}.channelConfigurationId`,
  } as const;
  const config = configurations.get(id);
  if (config === undefined) {
    problems.push({
      code: "CONFIGURATION_NOT_FOUND",
      message: `Channel configuration '${id}' of the ${action.channel} action does not exist.`,
      fix: `Create an active ${action.channel} configuration for ${campaign.category} messages, or select an existing one.`,
      subject: configSubject,
    });
  } else {
    const name = `Channel configuration '${config.name}' (${config.id})`;
    if (config.status !== "active") {
      problems.push({
        code: "CONFIGURATION_NOT_ACTIVE",
        message: `${name} is ${config.status}, not active.`,
        fix:
          config.status === "processing"
            ? "Wait until it is active, then try again."
            : "Activate it, or select an active configuration.",
        subject: configSubject,
      });
    }
    if (config.channel !== action.channel) {
      problems.push({
        code: "CONFIGURATION_CHANNEL_MISMATCH",
        message: `${name} is for ${config.channel}, but the action at position ${index} sends ${action.channel}.`,
        fix: `Select a ${action.channel} configuration for this action.`,
        subject: configSubject,
      });
    }
    if (config.purpose !== campaign.category) {
      problems.push({
        code: "CONFIGURATION_PURPOSE_MISMATCH",
        message: `${name} is for ${config.purpose} messages, but ${campaignLabel(campaign)} is ${campaign.category}.`,
        fix: `Select a ${campaign.category} ${action.channel} configuration.`,
        subject: configSubject,
      });
    }
  }
  return [...problems, ...contentProblems(action, index)];
}
