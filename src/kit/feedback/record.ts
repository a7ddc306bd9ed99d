import { createHash } from "node:crypto";
import pLimit from "p-limit";
import { CampaignKitError } from "../../errors.js";
import type { DeliveryRecord } from "../../model/execution.js";
import {
  FEEDBACK_EVENT_IDS_KEPT,
  FEEDBACK_URLS_KEPT,
  type FeedbackDocument,
  type FeedbackEvent,
  type FeedbackEventInput,
  feedbackEventSchema,
  normalizeAddress,
  type Suppression,
  type SuppressionReason,
} from "../../model/feedback.js";
import { parseWith } from "../../model/parse.js";
import type { DocumentCollection } from "../../repositories/collection.js";
import { feedbackIdFor, suppressionIdFor, suppressionSubject } from "../../repositories/index.js";
import type { KitContext } from "../context.js";

/** The most events one `record` call takes: a provider's largest webhook batch (SendGrid's) fits. */
export const MAX_FEEDBACK_EVENTS = 5_000;

/** What `kit.feedback.record` did with a batch of events. */
export interface FeedbackRecordResult {
  /** Events counted for the first time. */
  recorded: number;
  /** Events already counted (the same provider event delivered again): ignored. */
  duplicates: number;
  /**
   * Events about no message the ledger knows, by their position in the batch: not recorded. A provider's
   * event can outrun the ledger write of a send that just returned; a later retry of the webhook finds it.
   */
  unmatched: { index: number; messageId?: string; providerMessageId?: string }[];
  /** Suppression entries made or renewed by hard bounces, complaints and unsubscriptions. */
  suppressed: number;
}

/** The id that makes an event count once: the provider's, else a digest of what identifies it. */
function eventIdOf(event: FeedbackEvent): string {
  if (event.eventId !== undefined) return event.eventId;
  const parts = [
    event.type,
    event.messageId ?? "",
    event.providerMessageId ?? "",
    event.at.toISOString(),
    event.bounce ?? "",
    event.url ?? "",
  ];
  return `d:${createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 32)}`;
}

/** Sorted, distinct, at most `max`: a set whose value never depends on the order things arrived in. */
function sortedSet(values: Iterable<string>, max: number, keepLast = false): string[] {
  const sorted = [...new Set(values)].sort();
  return keepLast ? sorted.slice(-max) : sorted.slice(0, max);
}

const earlier = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);
const later = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

/**
 * Merges events into a message's document of their type. Every field is a commutative fold (min, max, set
 * union, "hard wins"), so any order or repetition of the same events gives the same document.
 */
function mergeFeedback(
  current: FeedbackDocument | undefined,
  record: DeliveryRecord,
  events: readonly { event: FeedbackEvent; id: string }[],
): { next: FeedbackDocument; fresh: number } | undefined {
  const seen = new Set(current?.eventIds ?? []);
  const fresh = events.filter(({ id }, i) => !seen.has(id) && events.findIndex((e) => e.id === id) === i);
  if (fresh.length === 0) return undefined;
  const first = fresh[0] as { event: FeedbackEvent };
  let firstAt = current?.firstAt ?? first.event.at;
  let lastAt = current?.lastAt ?? first.event.at;
  let bounce = current?.bounce;
  const urls = new Set(current?.urls ?? []);
  for (const { event } of fresh) {
    firstAt = earlier(firstAt, event.at);
    lastAt = later(lastAt, event.at);
    if (event.type === "bounced") bounce = bounce === "hard" || event.bounce !== "soft" ? "hard" : "soft";
    if (event.url !== undefined) urls.add(event.url);
  }
  const next: FeedbackDocument = {
    messageId: record.messageId,
    campaignId: record.campaignId,
    executionId: record.executionId,
    channel: record.channel,
    recipientId: record.recipientId,
    type: first.event.type,
    firstAt,
    lastAt,
    count: (current?.count ?? 0) + fresh.length,
    eventIds: sortedSet([...seen, ...fresh.map((e) => e.id)], FEEDBACK_EVENT_IDS_KEPT, true),
  };
  if (record.treatmentId !== undefined) next.treatmentId = record.treatmentId;
  if (bounce !== undefined) next.bounce = bounce;
  if (urls.size > 0) next.urls = sortedSet(urls, FEEDBACK_URLS_KEPT);
  return { next, fresh: fresh.length };
}

/** The reason an event suppresses its address, if it does: hard bounces, complaints and unsubscriptions. */
function suppressionReason(event: FeedbackEvent): SuppressionReason | undefined {
  if (event.type === "bounced") return event.bounce === "soft" ? undefined : "bounced";
  if (event.type === "complained" || event.type === "unsubscribed") return event.type;
  return undefined;
}

/** One suppressing event, with the message it is about. */
interface Suppressing {
  event: FeedbackEvent;
  record: DeliveryRecord;
  reason: SuppressionReason;
}

/**
 * Folds events into a suppression entry, order-independently: reasons unite, times take their min and max,
 * the earliest event (ties broken by message id) names the message. An event no newer than the last lift
 * (a provider's late retry) changes nothing.
 */
export function mergeSuppression(
  current: Suppression | undefined,
  base: Omit<Suppression, "reasons" | "firstAt" | "lastAt" | "active">,
  additions: readonly { reason: SuppressionReason; at: Date; messageId?: string; detail?: string }[],
): Suppression | undefined {
  const lift = current?.liftedAt?.getTime();
  const counted = additions.filter((a) => lift === undefined || a.at.getTime() > lift);
  if (counted.length === 0) return undefined;
  const reasons = new Set(current?.reasons ?? []);
  for (const addition of counted) reasons.add(addition.reason);
  // The earliest addition, ties broken by message id: the same whatever order they came in.
  const rank = (a: { at: Date; messageId?: string | undefined }) =>
    [a.at.getTime(), a.messageId ?? ""] as const;
  const before = (a: readonly [number, string], b: readonly [number, string]) =>
    a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  let earliest = counted[0] as (typeof counted)[number];
  for (const addition of counted) if (before(rank(addition), rank(earliest))) earliest = addition;
  const next: Suppression = current
    ? { ...current }
    : { ...base, reasons: [], firstAt: earliest.at, lastAt: earliest.at, active: true };
  if (
    current === undefined ||
    before(rank(earliest), rank({ at: current.firstAt, messageId: current.messageId }))
  ) {
    if (earliest.messageId !== undefined) next.messageId = earliest.messageId;
    else delete next.messageId;
    if (earliest.detail !== undefined) next.detail = earliest.detail;
    else delete next.detail;
  }
  for (const addition of counted) {
    next.firstAt = earlier(next.firstAt, addition.at);
    next.lastAt = later(next.lastAt, addition.at);
  }
  next.reasons = [...reasons].sort();
  next.active = next.liftedAt === undefined || next.lastAt.getTime() > next.liftedAt.getTime();
  if (current !== undefined && JSON.stringify(current) === JSON.stringify(next)) return undefined;
  return next;
}

/** How many times an upsert reads again after losing a compare-and-set to a concurrent writer. */
const UPSERT_ATTEMPTS = 20;

/**
 * Reads `id`, folds with `merge` and writes by insert or compare-and-set, again on a lost race: a
 * concurrent webhook about the same message merges into what the other wrote. `merge` returns `undefined`
 * to write nothing.
 */
export async function upsert<T, R>(
  collection: DocumentCollection<T>,
  id: string,
  merge: (current: T | undefined) => { next: T; result: R } | undefined,
  unchanged: R,
): Promise<R> {
  for (let attempt = 1; attempt <= UPSERT_ATTEMPTS; attempt++) {
    const current = await collection.get(id);
    const merged = merge(current?.value);
    if (merged === undefined) return unchanged;
    if (current === undefined) {
      if (await collection.insert(merged.next)) return merged.result;
      continue;
    }
    try {
      await collection.replace(current, merged.next);
      return merged.result;
    } catch (error) {
      if (!(error instanceof CampaignKitError && (error.code === "CONFLICT" || error.code === "NOT_FOUND")))
        throw error;
    }
  }
  throw new CampaignKitError(
    "CONFLICT",
    `Feedback document '${id}' kept changing under ${UPSERT_ATTEMPTS} attempts to update it; retry the call.`,
    { details: { id } },
  );
}

/** Records events: see `kit.feedback.record`. */
export async function recordFeedback(
  ctx: KitContext,
  input: readonly FeedbackEventInput[],
): Promise<FeedbackRecordResult> {
  if (!Array.isArray(input)) {
    throw new CampaignKitError("VALIDATION_FAILED", "Pass `events` as an array of feedback events.", {
      details: { issues: [{ path: "events", message: "Expected an array" }] },
    });
  }
  if (input.length > MAX_FEEDBACK_EVENTS) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `One call records at most ${MAX_FEEDBACK_EVENTS} events; split the ${input.length} into several calls.`,
      { details: { issues: [{ path: "events", message: `At most ${MAX_FEEDBACK_EVENTS} events` }] } },
    );
  }
  const events = input.map((event, i) => parseWith(feedbackEventSchema, event, `feedback event ${i}`));
  const result: FeedbackRecordResult = { recorded: 0, duplicates: 0, unmatched: [], suppressed: 0 };
  if (events.length === 0) return result;

  const messageIds = new Set<string>();
  const providerIds = new Set<string>();
  for (const event of events) {
    if (event.messageId !== undefined) messageIds.add(event.messageId);
    if (event.providerMessageId !== undefined) providerIds.add(event.providerMessageId);
  }
  const found = await ctx.storage.find({ messageIds: [...messageIds], providerMessageIds: [...providerIds] });
  const byId = new Map(found.map((record) => [record.messageId, record]));
  const byProvider = new Map<string, DeliveryRecord>();
  for (const record of found)
    if (record.providerMessageId !== undefined) byProvider.set(record.providerMessageId, record);

  const groups = new Map<
    string,
    { record: DeliveryRecord; events: { event: FeedbackEvent; id: string }[] }
  >();
  const suppressing = new Map<string, Suppressing[]>();
  events.forEach((event, index) => {
    const record =
      (event.messageId !== undefined ? byId.get(event.messageId) : undefined) ??
      (event.providerMessageId !== undefined ? byProvider.get(event.providerMessageId) : undefined);
    if (record === undefined) {
      const miss: FeedbackRecordResult["unmatched"][number] = { index };
      if (event.messageId !== undefined) miss.messageId = event.messageId;
      if (event.providerMessageId !== undefined) miss.providerMessageId = event.providerMessageId;
      result.unmatched.push(miss);
      return;
    }
    const key = feedbackIdFor(record.messageId, event.type);
    const group = groups.get(key) ?? { record, events: [] };
    group.events.push({ event, id: eventIdOf(event) });
    groups.set(key, group);
    const reason = suppressionReason(event);
    if (reason !== undefined) {
      const address = event.address === undefined ? undefined : normalizeAddress(event.address);
      const subject = suppressionSubject({ address, recipientId: record.recipientId });
      const id = suppressionIdFor(record.channel, subject);
      suppressing.set(id, [...(suppressing.get(id) ?? []), { event, record, reason }]);
    }
  });

  // A few documents at a time: each is a read and a write, and one batch may name thousands of messages.
  const limit = pLimit(8);
  await Promise.all(
    [...groups].map(([id, group]) =>
      limit(async () => {
        const fresh = await upsert(
          ctx.repos.feedback,
          id,
          (current) => {
            const merged = mergeFeedback(current, group.record, group.events);
            return merged && { next: merged.next, result: merged.fresh };
          },
          0,
        );
        // Repeats within the batch are duplicates too, whether or not the document was new.
        result.recorded += fresh;
        result.duplicates += group.events.length - fresh;
      }),
    ),
  );
  await Promise.all(
    [...suppressing].map(([id, list]) =>
      limit(async () => {
        const { record, event } = list[0] as Suppressing;
        const address = event.address === undefined ? undefined : normalizeAddress(event.address);
        const base: Omit<Suppression, "reasons" | "firstAt" | "lastAt" | "active"> = {
          id,
          channel: record.channel,
          ...(address === undefined ? { recipientId: record.recipientId } : { address }),
        };
        const additions = list.map((s) => ({
          reason: s.reason,
          at: s.event.at,
          messageId: s.record.messageId,
          ...(s.event.detail === undefined ? {} : { detail: s.event.detail }),
        }));
        const changed = await upsert(
          ctx.repos.suppressions,
          id,
          (current) => {
            const next = mergeSuppression(current, base, additions);
            return next && { next, result: 1 };
          },
          0,
        );
        result.suppressed += changed;
      }),
    ),
  );
  return result;
}
