/** Fixtures for the prerequisite tests: a valid activation, and one input per problem code that breaks one thing. */

import type { PrerequisiteCode, PrerequisiteInput } from "../../../src/kit/prerequisites/problems.js";
import type { Audience } from "../../../src/model/audience.js";
import { type CampaignDraft, campaignDraftSchema } from "../../../src/model/campaign.js";
import type { ChannelConfiguration } from "../../../src/model/channel-configuration.js";
import { parseWith } from "../../../src/model/parse.js";
import { emailConfiguration, transactionalConfiguration } from "../../support/fixtures.js";

export const NOW = new Date("2026-03-01T12:00:00Z");
export const LATER = new Date("2026-03-02T09:00:00Z");
export const EARLIER = new Date("2026-02-28T09:00:00Z");

export const audience: Audience = {
  id: "vip",
  name: "VIP customers",
  status: "realized",
  identityNamespace: "email",
};
export const draft = (input: object): CampaignDraft =>
  parseWith(
    campaignDraftSchema,
    {
      type: "scheduled",
      name: "Spring sale",
      category: "marketing",
      audienceId: "vip",
      actions: [
        {
          channel: "email",
          channelConfigurationId: "news",
          content: { subject: "Hi {{profile.name}}", html: "<p>Sale</p>" },
        },
      ],
      schedule: { startAt: LATER },
      ...input,
    },
    "campaign",
  );

export const transactionalApi = draft({
  type: "api-triggered",
  category: "transactional",
  audienceId: undefined,
  actions: [
    {
      channel: "email",
      channelConfigurationId: "tx",
      content: { subject: "Reset", text: "{{context.resetLink}}" },
    },
  ],
  schedule: undefined,
});

/** An email content of a treatment, `n` making it distinct. */
export const treatmentContent = (n: number) => ({
  subject: `Offer ${n}`,
  text: "{{profile.name}}, see inside",
});
/** A valid three-way experiment (45/45, 10 % held out) on the email action. */
export const experiment = {
  metric: "clicked",
  holdoutPercentage: 10,
  treatments: [
    { id: "a", percentage: 45, content: treatmentContent(1) },
    { id: "b", percentage: 45, content: treatmentContent(2) },
  ],
};
/** The draft with its email action running `experiment` changed by `changes`, bypassing the schema. */
export const withExperiment = (changes: object = {}, campaign = draft({})) =>
  unchecked({
    ...campaign,
    actions: [
      { channel: "email", channelConfigurationId: "news", experiment: { ...experiment, ...changes } },
    ],
  });

/** A valid activation by an administrator; each case below breaks one thing. */
export const base = (changes: Partial<PrerequisiteInput> = {}): PrerequisiteInput => ({
  actor: { id: "ana", roles: ["campaign-administrator"] },
  intent: "activate",
  campaign: draft({}),
  audience,
  configurations: new Map([
    ["news", emailConfiguration],
    ["tx", transactionalConfiguration],
  ]),
  now: NOW,
  ...changes,
});

/** Bypasses the schema, to build campaigns it refuses but storage or a caller might still hand over. */
export const unchecked = (campaign: object) => campaign as CampaignDraft;
export const withEmail = (content: object, campaign = draft({})) =>
  unchecked({ ...campaign, actions: [{ channel: "email", channelConfigurationId: "news", content }] });
export const withConfig = (config: object) => ({
  configurations: new Map([["news", { ...emailConfiguration, ...config } as ChannelConfiguration]]),
});

// A Record over every code: the compiler fails this file when a code is added without a case.
export const ISOLATED: Record<PrerequisiteCode, PrerequisiteInput> = {
  MISSING_PERMISSION: base({ actor: { id: "ana", roles: ["campaign-manager"] } }),
  NOT_API_TRIGGERED: base({ intent: "trigger", campaign: draft({ schedule: undefined }) }),
  ACTIONS_MISSING: base({ campaign: unchecked({ ...draft({}), actions: [] }) }),
  AUDIENCE_REQUIRED: base({ campaign: draft({ audienceId: undefined }), audience: undefined }),
  AUDIENCE_NOT_FOUND: base({ audience: undefined }),
  AUDIENCE_NOT_AVAILABLE: base({ audience: { ...audience, status: "processing" } }),
  AUDIENCE_NAMESPACE_MISMATCH: base({ campaign: draft({ identityNamespace: "phone" }) }),
  AUDIENCE_NOT_ALLOWED: base({ campaign: { ...transactionalApi, audienceId: "vip" } }),
  CHANNEL_ADAPTER_MISSING: base({ channels: new Set(["sms"]) }),
  CONFIGURATION_NOT_FOUND: base({ configurations: new Map() }),
  CONFIGURATION_NOT_ACTIVE: base(withConfig({ status: "deactivated" })),
  CONFIGURATION_CHANNEL_MISMATCH: base(
    withConfig({ channel: "sms", settings: { provider: "t", senderNumber: "+3361" } }),
  ),
  CONFIGURATION_PURPOSE_MISMATCH: base(withConfig({ purpose: "transactional" })),
  CONTENT_MISSING: base({ campaign: withEmail({ subject: "  ", html: "<p>Sale</p>" }) }),
  TEMPLATE_INVALID: base({ campaign: withEmail({ subject: "Hi", html: "Hello {{name" }) }),
  PROFILE_VARIABLE_IN_HIGH_THROUGHPUT: base({
    campaign: draft({
      ...transactionalApi,
      apiTrigger: { highThroughput: true },
      actions: [
        {
          channel: "email",
          channelConfigurationId: "tx",
          content: { subject: "Hi {{profile.firstName}}", text: "{{context.resetLink}}" },
        },
      ],
    }),
  }),
  EXPERIMENT_TREATMENT_COUNT: base({
    campaign: withExperiment({
      holdoutPercentage: 0,
      treatments: [{ id: "a", percentage: 100, content: treatmentContent(1) }],
    }),
  }),
  EXPERIMENT_PERCENTAGES: base({ campaign: withExperiment({ holdoutPercentage: 20 }) }),
  EXPERIMENT_TREATMENT_DUPLICATE: base({
    campaign: withExperiment({
      treatments: [
        { id: "a", percentage: 45, content: treatmentContent(1) },
        { id: "a", percentage: 45, content: treatmentContent(2) },
      ],
    }),
  }),
  EXPERIMENT_MULTIPLE: base({
    campaign: unchecked({
      ...draft({}),
      actions: [
        { channel: "email", channelConfigurationId: "news", experiment },
        {
          channel: "email",
          channelConfigurationId: "news",
          experiment: {
            ...experiment,
            treatments: experiment.treatments.map((t) => ({ ...t, id: `${t.id}2` })),
          },
        },
      ],
    }),
  }),
  SCHEDULE_ENDS_BEFORE_START: base({
    intent: "create",
    campaign: unchecked({ ...draft({}), schedule: { ...draft({}).schedule, endAt: LATER } }),
  }),
  SCHEDULE_IN_PAST: base({ campaign: draft({ schedule: { startAt: EARLIER } }) }),
  SCHEDULE_NOT_STARTED: base({
    intent: "trigger",
    campaign: { ...transactionalApi, schedule: draft({}).schedule },
  }),
  SCHEDULE_ENDED: base({ campaign: draft({ schedule: { endAt: NOW } }) }),
  SCHEDULING_ON_API_TRIGGERED: base({
    intent: "create",
    campaign: draft({
      type: "api-triggered",
      schedule: { recurrence: { frequency: "daily", at: { hour: 9 } } },
    }),
  }),
  PROFILE_TIME_ZONE_WITHOUT_SEND_TIME: base({
    campaign: draft({ schedule: { sendInProfileTimeZone: true } }),
  }),
  WAVES_ON_API_TRIGGERED: base({
    campaign: draft({ type: "api-triggered", deliveryControls: { waves: { split: "equal", count: 2 } } }),
  }),
  FREQUENCY_CAP_ON_TRANSACTIONAL: base({
    campaign: unchecked({
      ...transactionalApi,
      deliveryControls: { frequencyCap: { max: 1, period: "day" } },
    }),
  }),
};

/** Freezes `value` and everything it holds, so that a mutation throws. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof Date) && !(value instanceof Map)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  if (value instanceof Map) for (const child of value.values()) deepFreeze(child);
  return value;
}
