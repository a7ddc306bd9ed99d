/**
 * fast-check arbitraries building valid inputs for every domain schema, shared by the property tests. Each
 * generates the input form (optional keys sometimes absent, instants as Dates or ISO strings).
 */
import fc from "fast-check";
import { CHANNEL_CONFIGURATION_STATUSES } from "../../src/model/channel-configuration.js";
import { CHANNELS, type Channel } from "../../src/model/common.js";
import { DELIVERY_OUTCOMES, EXECUTION_STATUSES } from "../../src/model/execution.js";
import { PERMISSIONS } from "../../src/model/roles.js";
import { WEEKDAYS } from "../../src/model/schedule.js";
import { CAMPAIGN_STATUSES } from "../../src/model/status-machine.js";

const noControlCharacters = (s: string) =>
  [...s].every((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0x1f && code !== 0x7f;
  });
/** An id as `idSchema` accepts it: 1 to 40 characters, none of them control characters. */
export const idArb = fc.string({ minLength: 1, maxLength: 40 }).filter(noControlCharacters);
export const nameArb = fc.string({ minLength: 1, maxLength: 60 });
export const textArb = fc.string({ minLength: 1, maxLength: 120 });
export const timeZoneArb = fc.constantFrom(
  "UTC",
  "Europe/Paris",
  "America/New_York",
  "Asia/Kolkata",
  "Pacific/Chatham",
);
export const categoryArb = fc.constantFrom("marketing" as const, "transactional" as const);
export const channelArb = fc.constantFrom(...CHANNELS);

const dateArb = fc.date({
  min: new Date("2000-01-01T00:00:00Z"),
  max: new Date("2100-01-01T00:00:00Z"),
  noInvalidDate: true,
});
/** An instant as the schemas accept it: a Date or an ISO string with an offset. */
export const instantArb = fc.oneof(
  dateArb,
  dateArb.map((d) => d.toISOString()),
);

export const emailArb = fc
  .stringMatching(/^[a-z0-9]([a-z0-9._+-]{0,10}[a-z0-9])?@[a-z0-9]{1,10}\.(com|org|fr)$/)
  .filter((s) => !s.includes(".."));
export const e164Arb = fc.stringMatching(/^\+[1-9]\d{1,14}$/);
export const urlArb = fc.stringMatching(/^https?:\/\/[a-z0-9]{1,10}\.(com|org)(\/[a-z0-9-]{1,10})?$/);
export const hostnameArb = fc.stringMatching(/^[a-z0-9]{1,10}\.example\.(com|org)$/);
const localTimeArb = fc.record(
  { hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) },
  { requiredKeys: ["hour"] },
);

const contentArbs: Record<Channel, fc.Arbitrary<unknown>> = {
  email: fc.oneof(
    fc.record({ subject: textArb, html: textArb }, { requiredKeys: ["subject", "html"] }),
    fc.record({ subject: textArb, html: textArb, text: textArb }, { requiredKeys: ["subject", "text"] }),
  ),
  sms: fc.record({ body: fc.string({ minLength: 1, maxLength: 1600 }) }),
  push: fc.record(
    { title: textArb, body: textArb, data: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string()) },
    { requiredKeys: ["title", "body"] },
  ),
  webhook: fc.record({ payload: textArb }),
};

/** One to four actions, at most one per channel. */
export const actionsArb = fc.shuffledSubarray([...CHANNELS], { minLength: 1 }).chain((channels) =>
  fc.tuple(
    ...channels.map((channel) =>
      fc.record({
        channel: fc.constant(channel),
        channelConfigurationId: idArb,
        content: contentArbs[channel],
      }),
    ),
  ),
);

const recurrenceArb = fc.oneof(
  fc.record(
    { frequency: fc.constant("daily"), interval: fc.integer({ min: 1, max: 366 }), at: localTimeArb },
    { requiredKeys: ["frequency", "at"] },
  ),
  fc.record({
    frequency: fc.constant("weekly"),
    interval: fc.integer({ min: 1, max: 366 }),
    daysOfWeek: fc.shuffledSubarray([...WEEKDAYS], { minLength: 1 }),
    at: localTimeArb,
  }),
  fc.record({
    frequency: fc.constant("monthly"),
    interval: fc.integer({ min: 1, max: 366 }),
    daysOfMonth: fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 1, maxLength: 31 }),
    at: localTimeArb,
  }),
);

export const scheduleArb = fc
  .record({
    timeZone: timeZoneArb,
    start: fc.option(dateArb, { nil: undefined }),
    lengthMs: fc.option(fc.integer({ min: 1, max: 400 * 24 * 3600 * 1000 }), { nil: undefined }),
    recurrence: fc.option(recurrenceArb, { nil: undefined }),
    maxOccurrences: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
    sendInProfileTimeZone: fc.boolean(),
  })
  .map(({ start, lengthMs, recurrence, maxOccurrences, ...rest }) => ({
    ...rest,
    ...(start === undefined ? {} : { startAt: start }),
    ...(lengthMs === undefined
      ? {}
      : { endAt: new Date((start?.getTime() ?? 0) + lengthMs + (start ? 0 : Date.UTC(2030, 0))) }),
    ...(recurrence === undefined ? {} : { recurrence }),
    ...(maxOccurrences === undefined ? {} : { maxOccurrences: recurrence ? maxOccurrences : 1 }),
  }));

/** Percentages summing to exactly 100: cut 0..100 at 1 to 9 distinct points. */
const percentagesArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 9 })
  .map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), 100];
    return points.slice(1).map((p, i) => p - (points[i] ?? 0));
  });
const wavesArb = fc.oneof(
  fc.record(
    {
      split: fc.constant("equal"),
      count: fc.integer({ min: 2, max: 10 }),
      intervalMinutes: fc.integer({ min: 30, max: 1440 }),
    },
    { requiredKeys: ["split", "count"] },
  ),
  fc.record({ split: fc.constant("percentages"), percentages: percentagesArb }),
  fc.record({
    split: fc.constant("counts"),
    counts: fc.array(fc.integer({ min: 1, max: 1e6 }), { minLength: 2, maxLength: 10 }),
  }),
);
const quietHoursArb = fc
  .record(
    { start: localTimeArb, end: localTimeArb, behavior: fc.constantFrom("queue", "discard") },
    { requiredKeys: ["start", "end"] },
  )
  .filter((q) => q.start.hour !== q.end.hour || (q.start.minute ?? 0) !== (q.end.minute ?? 0));

export const deliveryControlsArb = (category: "marketing" | "transactional") =>
  fc.record(
    {
      rateLimit: fc.integer({ min: 1, max: 2000 }),
      deliveryWindowHours: fc.integer({ min: 1, max: 72 }),
      waves: wavesArb,
      quietHours: quietHoursArb,
      ...(category === "marketing"
        ? {
            frequencyCap: fc.record({
              max: fc.integer({ min: 1, max: 100 }),
              period: fc.constantFrom("hour", "day", "week", "month"),
            }),
          }
        : {}),
    },
    { requiredKeys: [] },
  );

/** A campaign draft input of the given type and category. */
export const campaignDraftArb = (
  type: "scheduled" | "api-triggered",
  category: "marketing" | "transactional",
) =>
  fc.record(
    {
      type: fc.constant(type),
      name: nameArb,
      description: fc.string({ maxLength: 200 }),
      tags: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 }),
      category: fc.constant(category),
      actions: actionsArb,
      audienceId: idArb,
      identityNamespace: fc.constantFrom("email", "phone", "ecid", "crm-id"),
      schedule: scheduleArb,
      deliveryControls: deliveryControlsArb(category),
      ...(type === "api-triggered"
        ? { apiTrigger: fc.record({ createNewProfile: fc.boolean() }, { requiredKeys: [] }) }
        : {}),
    },
    { requiredKeys: ["type", "name", "category", "actions"] },
  );

/** The fields the kit adds to a draft when it stores it. */
export const storedFieldsArb = fc.record(
  {
    id: idArb,
    status: fc.constantFrom(...CAMPAIGN_STATUSES),
    version: fc.integer({ min: 1, max: 1e6 }),
    replacesCampaignId: idArb,
    createdAt: instantArb,
    updatedAt: instantArb,
    createdBy: idArb,
    updatedBy: idArb,
    activatedAt: instantArb,
  },
  { requiredKeys: ["id", "createdAt", "updatedAt", "createdBy", "updatedBy"] },
);

export const audienceArb = fc.record(
  {
    id: idArb,
    name: nameArb,
    description: fc.string(),
    status: fc.constantFrom("processing", "realized", "failed"),
    identityNamespace: fc.constantFrom("email", "phone", "ecid"),
    estimatedSize: fc.nat(),
    evaluatedAt: instantArb,
  },
  { requiredKeys: ["id", "name", "identityNamespace"] },
);

const settingsArbs: Record<Channel, fc.Arbitrary<unknown>> = {
  email: fc.record(
    {
      fromName: nameArb,
      fromAddress: emailArb,
      replyTo: emailArb,
      subdomain: hostnameArb,
      ipPool: nameArb,
      listUnsubscribe: fc.record(
        { mailto: emailArb, url: urlArb, oneClick: fc.boolean() },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ["fromName", "fromAddress", "subdomain"] },
  ),
  sms: fc.record({ provider: nameArb, senderNumber: e164Arb }),
  push: fc.record({ appId: nameArb, platform: fc.constantFrom("ios", "android", "web") }),
  webhook: fc.record(
    {
      url: urlArb,
      method: fc.constantFrom("POST", "PUT"),
      headers: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,8}$/), fc.string()),
    },
    { requiredKeys: ["url"] },
  ),
};

/** A channel configuration input for `channel`. */
export const channelConfigurationArb = (channel: Channel) =>
  fc.record(
    {
      id: idArb,
      name: nameArb,
      purpose: categoryArb,
      status: fc.constantFrom(...CHANNEL_CONFIGURATION_STATUSES),
      createdAt: instantArb,
      updatedAt: instantArb,
      channel: fc.constant(channel),
      settings: settingsArbs[channel],
    },
    { requiredKeys: ["id", "name", "purpose", "channel", "settings"] },
  );

const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const withoutPrototypeKeys = (value: unknown): boolean =>
  Array.isArray(value)
    ? value.every(withoutPrototypeKeys)
    : typeof value !== "object" || value === null
      ? true
      : Object.entries(value).every(
          ([key, inner]) => !PROTOTYPE_KEYS.has(key) && withoutPrototypeKeys(inner),
        );
/**
 * A free-form JSON object (attributes, context) as inputs accept it: without the `__proto__`, `constructor` and
 * `prototype` keys they refuse, which fast-check likes to generate.
 */
export const attributesArb = fc.dictionary(fc.string(), fc.jsonValue()).filter(withoutPrototypeKeys);

export const profileArb = fc.record(
  {
    id: idArb,
    identities: fc.dictionary(fc.constantFrom("email", "phone", "ecid"), idArb),
    addresses: fc.dictionary(channelArb, fc.string({ minLength: 1 })),
    attributes: attributesArb,
    consent: fc.dictionary(channelArb, fc.boolean()),
    suppressedChannels: fc.subarray([...CHANNELS]),
    timeZone: timeZoneArb,
  },
  { requiredKeys: ["id"] },
);

export const executionArb = fc.record(
  {
    id: idArb,
    campaignId: idArb,
    requestId: idArb,
    kind: fc.constantFrom("occurrence", "unitary", "audience"),
    status: fc.constantFrom(...EXECUTION_STATUSES),
    audienceId: idArb,
    context: attributesArb,
    executeAt: instantArb,
    targetedProfileCount: fc.nat(),
    createdAt: instantArb,
    startedAt: instantArb,
    finishedAt: instantArb,
    error: fc.string(),
  },
  { requiredKeys: ["id", "campaignId", "requestId", "kind", "status", "createdAt"] },
);

export const deliveryRecordArb = fc.record(
  {
    messageId: idArb,
    campaignId: idArb,
    executionId: idArb,
    recipientId: idArb,
    channel: channelArb,
    outcome: fc.constantFrom(...DELIVERY_OUTCOMES),
    reason: fc.string(),
    attempts: fc.nat({ max: 20 }),
    providerMessageId: fc.string(),
    treatmentId: fc.string({ minLength: 1, maxLength: 20 }),
    at: instantArb,
  },
  {
    requiredKeys: [
      "messageId",
      "campaignId",
      "executionId",
      "recipientId",
      "channel",
      "outcome",
      "attempts",
      "at",
    ],
  },
);

export const roleArb = fc.record(
  { id: idArb, name: nameArb, description: fc.string(), permissions: fc.subarray([...PERMISSIONS]) },
  { requiredKeys: ["id", "name", "permissions"] },
);
