/*
 * Valid domain objects for the storage suite. Each has every optional field set unless its name says
 * `minimal`, so a round trip proves both that fields survive and that absent ones stay absent.
 */
import { expect } from "vitest";
import type { Audience } from "../domain/audience.js";
import type { AuditEntry } from "../domain/audit.js";
import type { Campaign } from "../domain/campaign.js";
import type { ChannelConfiguration } from "../domain/channel-configuration.js";
import type { DeliveryRecord, Execution } from "../domain/execution.js";
import type { CampaignKitError, ErrorCode } from "../errors.js";

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
      { channel: "sms", channelConfigurationId: "sms-marketing", content: { body: "Sale today" } },
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
    createdAt: at(),
    updatedAt: at(1),
    createdBy: "ana",
    updatedBy: "ben",
    activatedAt: at(2),
    ...overrides,
  } as Campaign;
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
    apiTrigger: { createNewProfile: true },
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

/** An active configuration on `channel`. */
export function configuration(id: string, channel: ChannelConfiguration["channel"]): ChannelConfiguration {
  const common = { id, name: `Config ${id}`, purpose: "marketing" as const, status: "active" as const };
  switch (channel) {
    case "email":
      return {
        ...common,
        channel,
        createdAt: at(),
        updatedAt: at(3),
        settings: {
          fromName: "Shop",
          fromAddress: "news@mail.example.com",
          subdomain: "mail.example.com",
          listUnsubscribe: { url: "https://example.com/unsubscribe", oneClick: true },
        },
      };
    case "sms":
      return { ...common, channel, settings: { provider: "twilio", senderNumber: "+33612345678" } };
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

/** An execution of `campaignId` for `requestId`; `minimal` leaves out the optional fields. */
export function execution(id: string, campaignId: string, requestId: string, minimal = false): Execution {
  const base: Execution = {
    id,
    campaignId,
    requestId,
    kind: "audience",
    status: "scheduled",
    targetedProfileCount: 0,
    createdAt: at(),
  };
  if (minimal) return base;
  return {
    ...base,
    audienceId: "newsletter",
    context: { resetLink: "https://example.com/r", nested: { list: [1, "two", null, true] } },
    executeAt: at(30),
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

/** Whether `error` is a CampaignKitError-shaped error with `code` (duck-typed: the host may bundle its own copy). */
export function hasCode(error: unknown, code: ErrorCode): error is CampaignKitError {
  return (error as { code?: unknown } | null)?.code === code && error instanceof Error;
}

/** Settles every promise; returns the values of those that fulfilled and the errors of those that failed. */
export async function settle<T>(promises: Promise<T>[]): Promise<{ values: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  const values: T[] = [];
  const errors: unknown[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") values.push(result.value);
    else errors.push(result.reason);
  }
  return { values, errors };
}

/** Asserts that `promise` rejects with a CampaignKitError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const outcome = await promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
  expect(
    hasCode(outcome, code),
    `expected a CampaignKitError with code ${code}, got ${String(outcome)}`,
  ).toBe(true);
}

/** The items sorted by id: for lists whose order the contract leaves open. */
export const sortById = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
