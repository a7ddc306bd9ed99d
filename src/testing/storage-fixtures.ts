/*
 * Valid domain objects for the storage suite. Each has every optional field set unless its name says
 * `minimal`, so a round trip proves both that fields survive and that absent ones stay absent.
 * test/testing/storage-fixtures.test.ts checks with `missingFields` that the full ones name every field of their
 * schema: a field added to the domain and forgotten here (and so perhaps by an adapter) fails there.
 */
import { z } from "zod";
import type { ApprovalPolicy, ApprovalRequest } from "../model/approval.js";
import type { Audience } from "../model/audience.js";
import type { AuditEntry } from "../model/audit.js";
import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { DeliveryRecord, Execution } from "../model/execution.js";
import type { Role } from "../model/roles.js";

/** A fixed instant plus `minutes`, so tests never depend on the clock. */
export const at = (minutes = 0): Date => new Date(Date.UTC(2026, 0, 15, 9, 0, 0, 0) + minutes * 60_000);

/** A scheduled marketing email campaign with every optional field set. */
export function fullCampaign(id: string, overrides: Partial<Campaign> = {}): Campaign {
  return {
    id,
    type: "scheduled",
    name: `Spring sale ${id}`,
    description: "Twenty percent off, three days only.",
    tags: ["spring", "sale"],
    category: "marketing",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "email-marketing",
        content: { subject: "Hi {{profile.person.name.firstName}}", html: "<p>Sale</p>", text: "Sale" },
      },
      {
        channel: "sms",
        channelConfigurationId: "sms-marketing",
        experiment: {
          id: "spring-sms",
          metric: "custom:purchase",
          treatments: [
            { id: "short", name: "Short", percentage: 45, content: { body: "Sale today" } },
            {
              id: "long",
              percentage: 45,
              content: { body: "Twenty percent off today, {{profile.firstName}}" },
            },
          ],
          holdoutPercentage: 10,
        },
      },
    ],
    audienceId: "newsletter",
    identityNamespace: "email",
    schedule: {
      timeZone: "Europe/Paris",
      startAt: at(60),
      endAt: at(60 * 24 * 30),
      recurrence: {
        frequency: "weekly",
        interval: 1,
        daysOfWeek: ["monday", "thursday"],
        at: { hour: 9, minute: 30 },
      },
      maxOccurrences: 8,
      sendInProfileTimeZone: true,
    },
    deliveryControls: {
      rateLimit: 500,
      deliveryWindowHours: 12,
      waves: { split: "percentages", percentages: [25, 75], intervalMinutes: 60 },
      quietHours: { start: { hour: 22, minute: 0 }, end: { hour: 7, minute: 0 }, behavior: "queue" },
      frequencyCap: { max: 3, period: "week" },
    },
    status: "draft",
    version: 1,
    replacesCampaignId: "spring-sale-v1",
    openVersionId: "spring-sale-v3",
    createdAt: at(),
    updatedAt: at(1),
    createdBy: "ana",
    updatedBy: "ben",
    activatedAt: at(2),
    archivedAt: at(3),
    ...overrides,
  } as Campaign;
}

/** An API-triggered campaign with every optional field set (and `createNewProfile` false). */
export function fullApiCampaign(id: string, overrides: Partial<Campaign> = {}): Campaign {
  return fullCampaign(id, {
    type: "api-triggered",
    apiTrigger: { createNewProfile: false, highThroughput: false },
    ...overrides,
  } as Partial<Campaign>);
}

/** An API-triggered transactional push campaign with no optional field set. */
export function minimalCampaign(id: string, overrides: Partial<Campaign> = {}): Campaign {
  return {
    id,
    type: "api-triggered",
    name: `Password reset ${id}`,
    tags: [],
    category: "transactional",
    actions: [
      { channel: "push", channelConfigurationId: "push-tx", content: { title: "Reset", body: "Tap" } },
    ],
    identityNamespace: "ecid",
    deliveryControls: { deliveryWindowHours: 12 },
    apiTrigger: { createNewProfile: true, highThroughput: false },
    status: "live",
    version: 1,
    createdAt: at(),
    updatedAt: at(),
    createdBy: "ana",
    updatedBy: "ana",
    ...overrides,
  } as Campaign;
}

/** A realized audience; `minimal` leaves out the optional fields. */
export function audience(id: string, minimal = false): Audience {
  const base: Audience = { id, name: `Audience ${id}`, status: "realized", identityNamespace: "email" };
  return minimal
    ? base
    : { ...base, description: "Newsletter", estimatedSize: 3_000_000_000, evaluatedAt: at(5) };
}

/**
 * An active configuration on `channel`, with every optional field (settings included) set; `minimal` leaves
 * out the optional fields.
 */
export function configuration(
  id: string,
  channel: ChannelConfiguration["channel"],
  minimal = false,
): ChannelConfiguration {
  const common = {
    id,
    name: `Config ${id}`,
    purpose: "marketing" as const,
    status: "active" as const,
    ...(minimal ? {} : { createdAt: at(), updatedAt: at(3) }),
  };
  switch (channel) {
    case "email":
      return {
        ...common,
        channel,
        settings: minimal
          ? { fromName: "Shop", fromAddress: "news@mail.example.com", subdomain: "mail.example.com" }
          : {
              fromName: "Shop",
              fromAddress: "news@mail.example.com",
              replyTo: "help@example.com",
              subdomain: "mail.example.com",
              ipPool: "marketing-pool",
              listUnsubscribe: {
                mailto: "unsubscribe@mail.example.com",
                url: "https://example.com/unsubscribe",
                oneClick: true,
              },
              tracking: { opens: true, clicks: true, unsubscribe: false },
            },
      };
    case "sms":
      return {
        ...common,
        channel,
        settings: minimal
          ? { provider: "twilio", senderNumber: "+33612345678" }
          : {
              provider: "twilio",
              senderNumber: "+33612345678",
              messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
            },
      };
    case "push":
      return { ...common, channel, settings: { appId: "app", platform: "ios" } };
    case "webhook":
      return {
        ...common,
        channel,
        settings: { url: "https://example.com/hook", method: "POST", headers: { a: "b" } },
      };
  }
}

/** A custom role; `minimal` leaves out the optional fields. */
export function role(id: string, minimal = false): Role {
  return minimal
    ? { id, name: `Role ${id}`, permissions: [] }
    : {
        id,
        name: `Role ${id}`,
        description: "Reads reports",
        permissions: ["campaign.read", "campaign-report.read"],
      };
}

/** An approval policy, active with every condition set; `minimal` is inactive with no optional field. */
export function policy(id: string, minimal = false): ApprovalPolicy {
  return minimal
    ? {
        id,
        name: `Policy ${id}`,
        status: "inactive",
        conditions: {},
        approvers: { users: ["ana"], roles: [] },
        blockSelfApproval: false,
      }
    : {
        id,
        name: `Policy ${id}`,
        status: "active",
        activatedAt: at(4),
        conditions: {
          types: ["scheduled"],
          categories: ["marketing"],
          channels: ["email", "sms"],
          tags: [],
          requesters: ["ana", "carl"],
          requesterGroups: ["emea"],
        },
        approvers: { users: ["ana", "ben"], roles: ["campaign-approver"] },
        blockSelfApproval: true,
      };
}

/** An approval request of `campaignId`, decided; `minimal` is pending with no optional field. */
export function approvalRequest(
  id: string,
  campaignId: string,
  requestedAt: Date,
  minimal = false,
): ApprovalRequest {
  return minimal
    ? { id, campaignId, campaignVersion: 1, status: "pending", requestedBy: "ana", requestedAt }
    : {
        id,
        campaignId,
        campaignVersion: 3,
        policyId: "p1",
        status: "changes-requested",
        requestedBy: "ana",
        requestedAt,
        decidedBy: "ben",
        decidedAt: at(90),
        comment: "Fix the subject",
      };
}

/**
 * An execution of `campaignId` for `requestId`; `minimal` leaves out the optional fields. The full one mixes
 * what no real execution has together (an audience and named recipients), to round-trip every field at once.
 */
export function execution(id: string, campaignId: string, requestId: string, minimal = false): Execution {
  const base: Execution = {
    id,
    campaignId,
    requestId,
    kind: "audience",
    status: "scheduled",
    targetedProfileCount: 0,
    streamed: false,
    createdAt: at(),
  };
  if (minimal) return base;
  return {
    ...base,
    audienceId: "newsletter",
    context: { resetLink: "https://example.com/r", nested: { list: [1, "two", null, true] } },
    recipients: [
      {
        profile: {
          id: "p-ana",
          identities: { email: "ana@example.com", ecid: "123" },
          addresses: { email: "ana+orders@example.com", sms: "+33612345678", push: "tok-1" },
          attributes: { person: { name: { firstName: "Ana" } }, loyalty: { points: 1200, gold: true } },
          consent: { email: true, sms: false },
          suppressedChannels: ["push"],
          timeZone: "Europe/Paris",
        },
        context: { orderId: "o-1", items: [{ sku: "A", qty: 2 }] },
        channelData: {
          emailAddress: "ana+orders@example.com",
          mobilePhoneNumber: "+33612345678",
          pushToken: "tok-1",
        },
      },
      {
        profile: {
          id: "phone:+33698765432",
          identities: { phone: "+33698765432" },
          addresses: {},
          attributes: {},
          consent: {},
          suppressedChannels: [],
          timeZone: "America/Sao_Paulo",
        },
        context: {},
        channelData: { mobilePhoneNumber: "+33698765432" },
      },
    ],
    streamed: true,
    claim: { owner: "host:1234:abc", until: at(91) },
    executeAt: at(30),
    targetedProfileCount: 3_000_000_001,
    resumeAt: at(90),
    // Above 2^31: adapters must keep it whole, like an audience's estimated size.
    audienceSize: 3_000_000_000,
    startedAt: at(31),
    finishedAt: at(32),
    error: "none",
  };
}

/** A ledger record; `overrides` set the outcome, reason, time... */
export function delivery(messageId: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    messageId,
    campaignId: "c1",
    executionId: "e1",
    recipientId: `r-${messageId}`,
    channel: "email",
    outcome: "sent",
    attempts: 1,
    at: at(),
    ...overrides,
  };
}

/** An audit entry; `minimal` leaves out the optional fields. */
export function auditEntry(id: string, overrides: Partial<AuditEntry> = {}, minimal = false): AuditEntry {
  const base: AuditEntry = {
    id,
    at: at(),
    actorId: "ana",
    action: "campaign.activate",
    objectType: "campaign",
    objectId: "c1",
    outcome: "allowed",
  };
  const full = minimal
    ? base
    : { ...base, fromStatus: "draft", toStatus: "live", errorCode: "NONE", detail: { reason: "go", n: 2 } };
  return { ...full, ...overrides };
}

/** What {@link missingFields} reads of a zod 4 schema's definition. */
interface SchemaDef {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
}

const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def as unknown as SchemaDef;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** Whether `value` has a property at `segments` (`["content", "html"]`; `name[]` looks into any item). */
function hasPath(value: unknown, segments: readonly string[]): boolean {
  if (segments.length === 0) return true;
  const [head, ...rest] = segments as [string, ...string[]];
  const key = head.endsWith("[]") ? head.slice(0, -2) : head;
  if (!isPlainObject(value) || !Object.hasOwn(value, key)) return false;
  const next = value[key];
  if (!head.endsWith("[]")) return hasPath(next, rest);
  return Array.isArray(next) && next.some((item) => hasPath(item, rest));
}

/** The member of a union `value` belongs to: by discriminator when there is one, else the first it parses as. */
function unionMember(def: SchemaDef, value: unknown): z.core.$ZodType | undefined {
  const options = def.options ?? [];
  const { discriminator } = def;
  if (discriminator === undefined) return options.find((option) => z.safeParse(option, value).success);
  if (!isPlainObject(value)) return undefined;
  return options.find((option) => {
    const field = defOf(option).shape?.[discriminator];
    return field !== undefined && z.safeParse(field, value[discriminator]).success;
  });
}

/**
 * The paths of the fields `schema` (a zod 4 object, or a union, intersection, array or wrapper of objects)
 * declares and `value` leaves out, recursively: nested objects, array items, and the union member `value`
 * belongs to. Records and other free-form values are not looked into. The suite's full fixtures must give `[]`,
 * so that a field added to the domain is round-tripped by the suite and can't be dropped by an adapter
 * unnoticed.
 *
 * @example
 * ```ts
 * expect(missingFields(executionSchema, execution("x1", "c1", "r1"))).toEqual([]);
 * ```
 */
export function missingFields(schema: z.core.$ZodType, value: unknown, path = "$"): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return def.innerType === undefined ? [] : missingFields(def.innerType, value, path);
    case "pipe":
      return def.in === undefined ? [] : missingFields(def.in, value, path);
    case "intersection":
      return [def.left, def.right].flatMap((side) =>
        side === undefined ? [] : missingFields(side, value, path),
      );
    case "union": {
      const member = unionMember(def, value);
      return member === undefined
        ? [`${path} (matches no member of the union)`]
        : missingFields(member, value, path);
    }
    case "object":
      if (!isPlainObject(value)) return [];
      return Object.entries(def.shape ?? {}).flatMap(([key, field]) =>
        Object.hasOwn(value, key) ? missingFields(field, value[key], `${path}.${key}`) : [`${path}.${key}`],
      );
    case "array": {
      // A field counts as set when some item sets it: items of a union (an email action and an SMS one, an
      // action with content and one with an experiment) can't each hold every member's fields.
      const { element } = def;
      if (!Array.isArray(value) || element === undefined) return [];
      const missing = new Set(value.flatMap((item) => missingFields(element, item, `${path}[]`)));
      const relative = (full: string) => full.slice(`${path}[]`.length).split(".").filter(Boolean);
      return [...missing].filter((full) => !value.some((item) => hasPath(item, relative(full))));
    }
    default:
      return [];
  }
}
