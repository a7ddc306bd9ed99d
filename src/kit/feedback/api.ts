import { CampaignKitError } from "../../errors.js";
import { type Channel, channelSchema } from "../../model/common.js";
import type { FeedbackEventInput, Suppression } from "../../model/feedback.js";
import { normalizeAddress } from "../../model/feedback.js";
import { parseWith } from "../../model/parse.js";
import type { Page, PageParams, Where } from "../../ports/storage.js";
import { suppressionIdFor, suppressionSubject } from "../../repositories/index.js";
import { type ActorRef, type KitContext, operate, targetsOf } from "../context.js";
import { type FeedbackRecordResult, mergeSuppression, recordFeedback, upsert } from "./record.js";
import { readTrackingToken, type TrackingOptions, type TrackingTarget } from "./tracking.js";

/**
 * Delivery feedback: what providers (and the kit's tracking) say happened to messages after they were sent.
 * The provider webhooks of `campaign-kit/http` call it; call it yourself for a provider of your own.
 */
export interface FeedbackApi {
  /**
   * Records provider events, each about a message named by `messageId` or `providerMessageId`. Idempotent:
   * an event whose `eventId` (or, without one, whose type, message, time, bounce kind and URL) was recorded
   * already counts once. Order doesn't matter: a `delivered` after a hard `bounced` leaves the message
   * bounced in reports, whatever came first. Hard bounces, complaints and unsubscriptions suppress the
   * address on the message's channel. Events about messages the ledger doesn't hold are returned as
   * `unmatched`, not recorded. Not audited (there is no actor: providers call it), and it needs no
   * permission: guard the route that calls it (the webhooks verify their providers' signatures).
   *
   * @throws CampaignKitError `VALIDATION_FAILED` naming each bad event's path; nothing is recorded then.
   * @example
   * ```ts
   * await kit.feedback.record({
   *   events: [{ type: "bounced", bounce: "hard", providerMessageId: "0100018c...", at: new Date(), address: "ana@example.com" }],
   * });
   * ```
   */
  record(params: { events: readonly FeedbackEventInput[] }): Promise<FeedbackRecordResult>;
  /**
   * Records what a tracking link says (the feedback handler of `campaign-kit/http` calls it): an open for the
   * pixel, a click for a redirect (answering the link's URL, the only place it may redirect to), an
   * unsubscription (with suppression) for the one-click URL. A `HEAD` request records nothing; a known link
   * scanner's or prefetcher's request counts once per message and link, and repeated clicks within a minute
   * count once, so security gateways that follow every link don't inflate the figures.
   *
   * @throws CampaignKitError `TRACKING_TOKEN_INVALID` when the token isn't one the kit signed (or the kit has
   * no `tracking` options).
   */
  track(params: {
    kind: TrackingTarget["kind"];
    token: string;
    method?: string;
    userAgent?: string | null;
  }): Promise<{ url?: string; recorded: boolean }>;
}

/** User agents of link scanners and prefetchers (mail security gateways, link previews, crawlers). */
const SCANNER =
  /bot\b|crawler|spider|preview|scanner|barracuda|mimecast|proofpoint|safelinks|microsoft office|python-requests|curl\/|wget|headless/i;

/** Who a suppression is about: an address on a channel, or, when events named none, a profile. */
export type SuppressionTarget =
  | { channel: Channel; address: string; recipientId?: never }
  | { channel: Channel; recipientId: string; address?: never };

/**
 * The suppression list: addresses (or profiles) a channel no longer sends to, fed by hard bounces,
 * complaints and unsubscriptions. Every send honours it, marketing and transactional alike, counting the
 * recipient as excluded `suppressed`. Reading and changing it needs `audience.manage` (administrators): it
 * holds people's addresses. Every call is audited, reads refused included.
 */
export interface SuppressionsApi {
  /** Entries by id, paged; only active ones unless `active: false` (lifted ones) or `"all"`. */
  list(
    params: { actor: ActorRef; channel?: Channel; active?: boolean | "all" } & PageParams,
  ): Promise<Page<Suppression>>;
  /** The entry for an address or profile on a channel, or `undefined` when there has never been one. */
  get(params: { actor: ActorRef } & SuppressionTarget): Promise<Suppression | undefined>;
  /** Suppresses an address (or profile) by hand, reason `manual`. */
  add(params: { actor: ActorRef; detail?: string } & SuppressionTarget): Promise<Suppression>;
  /**
   * Lifts a suppression: sends go to the address again. The entry stays, with `liftedAt` and `liftedBy`;
   * a provider's late retry of an event older than the lift doesn't suppress again, a newer event does.
   * `NOT_FOUND` when there is no active entry.
   */
  lift(params: { actor: ActorRef } & SuppressionTarget): Promise<Suppression>;
}

function targetOf(params: { channel?: unknown; address?: unknown; recipientId?: unknown }): {
  channel: Channel;
  address?: string;
  recipientId?: string;
  id: string;
} {
  const channel = parseWith(channelSchema, params.channel, "suppression channel");
  const hasAddress = typeof params.address === "string" && params.address.trim().length > 0;
  const hasRecipient = typeof params.recipientId === "string" && params.recipientId.length > 0;
  if (hasAddress === hasRecipient) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "Name what is suppressed: give either `address` (an email address, a phone number) or `recipientId`.",
      {
        details: {
          issues: [{ path: "address", message: "Expected exactly one of address and recipientId" }],
        },
      },
    );
  }
  const subject = hasAddress
    ? { address: normalizeAddress(params.address as string) }
    : { recipientId: params.recipientId as string };
  return { channel, ...subject, id: suppressionIdFor(channel, suppressionSubject(subject)) };
}

/** Builds the feedback API. */
export function feedbackApi(ctx: KitContext, tracking?: TrackingOptions): FeedbackApi {
  const secrets = tracking ? [tracking.secret, ...(tracking.previousSecrets ?? [])] : [];
  return {
    record: ({ events }) => recordFeedback(ctx, events),
    async track({ kind, token, method = "GET", userAgent }) {
      if (secrets.length === 0) {
        throw new CampaignKitError(
          "TRACKING_TOKEN_INVALID",
          "This kit has no tracking options, so it signed no tracking link: pass `tracking` to createCampaignKit.",
          { details: { problem: "tracking is off" } },
        );
      }
      const target = readTrackingToken(secrets, kind, token);
      const url = target.kind === "click" ? target.url : undefined;
      const answer = (recorded: boolean) => (url === undefined ? { recorded } : { url, recorded });
      if (method.toUpperCase() === "HEAD") return answer(false);
      const now = ctx.now();
      const minute = Math.floor(now.getTime() / 60_000);
      const scanner = typeof userAgent === "string" && SCANNER.test(userAgent);
      const type = { open: "opened", click: "clicked", unsubscribe: "unsubscribed" }[target.kind];
      const eventId =
        target.kind === "unsubscribe"
          ? "tracking:unsubscribe"
          : `tracking:${target.kind}:${scanner ? "scanner" : minute}${url === undefined ? "" : `:${url}`}`;
      const event: FeedbackEventInput = {
        type: type as FeedbackEventInput["type"],
        messageId: target.messageId,
        eventId: eventId.slice(0, 500),
        at: now,
        provider: "tracking",
      };
      if (url !== undefined) event.url = url.slice(0, 2048);
      if (target.kind === "unsubscribe" && target.address !== undefined) event.address = target.address;
      const result = await recordFeedback(ctx, [event]);
      return answer(result.recorded > 0);
    },
  };
}

/** Builds the suppressions API. */
export function suppressionsApi(ctx: KitContext): SuppressionsApi {
  const target = targetsOf("suppression");
  const manage = "audience.manage" as const;
  const suppressions = ctx.repos.suppressions;
  return {
    list: ({ actor, channel, active = true, ...page }) =>
      operate(ctx, actor, manage, target("suppression.list", "*", true), async () => {
        const where: Record<string, Where[string]> = {};
        if (channel !== undefined) where.channel = parseWith(channelSchema, channel, "suppression channel");
        if (active !== "all") where.active = active;
        return { result: await suppressions.list(where, page) };
      }),
    get: ({ actor, ...params }) =>
      operate(ctx, actor, manage, target("suppression.read", "*", true), async () => {
        const { id } = targetOf(params);
        return { result: (await suppressions.get(id))?.value };
      }),
    add: ({ actor, detail, ...params }) =>
      operate(ctx, actor, manage, target("suppression.add", "*"), async () => {
        const { id, channel, address, recipientId } = targetOf(params);
        const now = ctx.now().getTime();
        const base = {
          id,
          channel,
          ...(address === undefined ? { recipientId: recipientId as string } : { address }),
        };
        await upsert(
          suppressions,
          id,
          (current) => {
            // After the lift, even within its millisecond: adding by hand always suppresses again.
            const at = new Date(Math.max(now, (current?.liftedAt?.getTime() ?? 0) + 1));
            const addition = { reason: "manual" as const, at, ...(detail === undefined ? {} : { detail }) };
            const next = mergeSuppression(current, base, [addition]);
            return next && { next, result: undefined };
          },
          undefined,
        );
        const stored = (await suppressions.find(id)).value;
        return { result: stored, detail: { suppressionId: id }, toStatus: "active" };
      }),
    lift: ({ actor, ...params }) =>
      operate(ctx, actor, manage, target("suppression.lift", "*"), async (resolved) => {
        const { id } = targetOf(params);
        const at = ctx.now();
        const current = await suppressions.get(id);
        if (current === undefined || !current.value.active) {
          throw new CampaignKitError(
            "NOT_FOUND",
            `Nothing to lift: ${params.address ?? params.recipientId} is not suppressed on ${params.channel}.`,
            { details: { id } },
          );
        }
        const next: Suppression = { ...current.value, liftedAt: at, liftedBy: resolved.id, active: false };
        await suppressions.replace(current, next);
        return { result: next, fromStatus: "active", toStatus: "lifted", detail: { suppressionId: id } };
      }),
  };
}
