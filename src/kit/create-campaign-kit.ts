import { hostname } from "node:os";
import type { EventEmitter } from "eventemitter3";
import { createDispatcher, type Dispatcher } from "../dispatch/dispatcher.js";
import { sharedRateGate } from "../dispatch/shared-rate.js";
import type { DispatcherOptions, InDoubtPolicy } from "../dispatch/types.js";
import { memoryStorage } from "../drivers/memory/storage.js";
import { createRunner } from "../executions/runner.js";
import { createScheduler, type Scheduler } from "../executions/scheduler.js";
import type { AuditEntry } from "../model/audit.js";
import type { KitEvents } from "../observe/events.js";
import { createObserver } from "../observe/observer.js";
import type { AudienceSource } from "../ports/audience-source.js";
import type { ChannelAdapter } from "../ports/channel.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Page, PageParams, Storage, Where } from "../ports/storage.js";
import type { Telemetry } from "../ports/telemetry.js";
import type { WorkQueue } from "../ports/work-queue.js";
import { createContext } from "../repositories/context.js";
import { type ActivationApi, activationApi } from "./activation.js";
import { type ApprovalPoliciesApi, approvalPoliciesApi } from "./approval-policies.js";
import { type AudiencesApi, audiencesApi } from "./audiences.js";
import { type CampaignsApi, campaignsApi } from "./campaigns.js";
import { type ConfigurationsApi, configurationsApi } from "./configurations.js";
import { type ActorRef, audit, type KitContext, operate } from "./context.js";
import { type ExecutionsApi, executionsApi } from "./executions.js";
import { type FeedbackApi, feedbackApi, type SuppressionsApi, suppressionsApi } from "./feedback/api.js";
import { storedSuppressionList } from "./feedback/suppression-list.js";
import { applyTracking, type TrackingOptions } from "./feedback/tracking.js";
import { checkInvitationOptions, createInviter, type InvitationOptions } from "./invitations.js";
import { type LifecycleApi, lifecycleApi } from "./lifecycle.js";
import { checkKitOptions } from "./options.js";
import { type ReportsApi, reportsApi } from "./reports.js";
import { type RolesApi, rolesApi } from "./roles.js";
import { type KitWorkerParts, WORKER_PARTS } from "./worker.js";

/** Filters for {@link CampaignKit.audit}; every given filter must hold. */
export interface AuditFilter {
  /** Entries about the object with this id. */
  objectId?: string;
  /** Entries about objects of this type (`campaign`, `audience`...). */
  objectType?: AuditEntry["objectType"];
  /** Entries of actions by this user. */
  actorId?: string;
}

/** Options for {@link createCampaignKit}. */
export interface CampaignKitOptions {
  /** Where everything is kept; defaults to {@link memoryStorage} (embedded, lost on exit). */
  storage?: Storage;
  /** One adapter per channel the campaigns send on. */
  channels?: readonly ChannelAdapter[];
  /** Streams audience members and finds profiles for API triggers. */
  audiences?: AudienceSource;
  /** Time; defaults to the system clock. Inject a virtual one in tests. */
  clock?: Clock;
  /** Makes ids for new objects; defaults to `crypto.randomUUID`. */
  newId?: () => string;
  /**
   * Users made campaign administrators when the kit starts, so someone can assign the other roles. Assigning
   * is idempotent; audited as done by `system`.
   */
  administrators?: readonly string[];
  /** Dispatcher tuning: concurrency, the transactional lane, retries, batch size, progress interval. */
  dispatcher?: Omit<
    DispatcherOptions,
    "channels" | "ledger" | "clock" | "logger" | "telemetry" | "suppressions" | "prepareMessage"
  >;
  /**
   * How long this process's claim on a running execution lasts, in ms (a positive number, default 60000):
   * after a crash, another process (or this one restarted) resumes the execution once the claim expires. The
   * claim is renewed every third of it (at most every second) on the kit's clock.
   */
  claimMs?: number;
  /**
   * Whether to keep what every call reads (campaigns, channel configurations, audiences, roles and role
   * assignments) in memory, dropped as soon as the store reports a change made by any process; default
   * `true`. Takes effect only with a store that can report changes (`Store.watch`: `memoryStorage()` and
   * `postgresStorage()` can, through `LISTEN`/`NOTIFY`); with any other store every call reads. Another
   * process's change is seen once its report arrives: on PostgreSQL, milliseconds after its commit.
   */
  readCache?: boolean;
  /**
   * Hands sends to workers (`runWorker`) in any number of processes instead of sending them in this one:
   * unitary executions go to the queue's transactional lane, audience sends are cut into chunks of
   * `chunkSize` members (a source with `ranges` is needed; campaigns with waves still send from one
   * process). See the "Scaling out" guide.
   */
  workQueue?: WorkQueue;
  /** Members per chunk handed to a worker (a positive whole number, default 500). */
  chunkSize?: number;
  /**
   * What a worker does with a message a dead worker left in doubt (claimed, maybe sent, never recorded):
   * default `resend-if-idempotent`, which resends it to adapters that honour idempotency keys and records it
   * `failed` with reason `in-doubt` elsewhere. See {@link InDoubtPolicy}.
   */
  inDoubt?: InDoubtPolicy;
  /**
   * A pino-compatible logger (`{ debug, info, warn, error, child? }`, called as `(fields, message)`); silent
   * by default. The kit logs executions starting, finishing and failing, campaign status changes and
   * approvals (`info`), provider throttling and retries used up (`warn`), failures and storage trouble
   * (`error`), and each scheduler tick (`debug`): ids, counts, durations and error codes, never message
   * content, addresses or profile attributes. See docs/observability.md.
   */
  logger?: Logger;
  /**
   * Traces triggers, executions and batches and counts messages sent, failed and excluded: pass
   * `openTelemetry()` from `campaign-kit/otel` (which needs `@opentelemetry/api`), or your own
   * {@link Telemetry}. Off by default.
   */
  telemetry?: Telemetry;
  /** When the scheduler completes and purges campaigns by itself; see {@link LifecycleOptions}. */
  lifecycle?: LifecycleOptions;
  /**
   * Invites users to the roles they are assigned: a message with a link to your instance, sent through a
   * transactional channel configuration by the kit's own dispatcher; see {@link InvitationOptions}.
   */
  invitations?: InvitationOptions;
  /**
   * Click, open and one-click unsubscribe tracking for the channel configurations that opt in
   * (`settings.tracking`): the secret links are signed with and the public URL of the feedback handler
   * (`feedbackEndpoints` of `campaign-kit/http`). Without it nothing is tracked. See docs/tracking.md.
   */
  tracking?: TrackingOptions;
}

/** When the scheduler moves a campaign on by itself, as the reference product does. */
export interface LifecycleOptions {
  /**
   * Days a one-shot scheduled campaign stays live after its send ends before the scheduler completes it
   * (default 3, as the reference product); 0 completes it on the first tick after its send. A recurring
   * campaign completes at its end date (or once its `maxOccurrences` are sent); an API-triggered one at its
   * end date. A failed send fails the campaign at once.
   */
  completeAfterDays?: number;
  /**
   * Days an archived campaign is kept before the scheduler purges it (default 30, as the reference
   * product); `false` keeps archived campaigns for ever. Purging removes the campaign, its executions and
   * their slices, and its approval requests; the audit log and the delivery ledger keep their records.
   */
  archiveRetentionDays?: number | false;
}

/**
 * The object a host app holds: every operation takes the acting user, checks the permission the reference
 * product gives it, applies the status machine and audits the attempt.
 */
export interface CampaignKit {
  /** Assigning and revoking roles, custom roles, a user's permissions. */
  roles: RolesApi;
  /** Registering audiences and recording their evaluation status. */
  audiences: AudiencesApi;
  /** Channel configurations: register, update, activate, deactivate. */
  configurations: ConfigurationsApi;
  /** Authoring plus the lifecycle: activate, stop, approvals, archive, tags, the calendar. */
  campaigns: CampaignsApi & ActivationApi & LifecycleApi;
  /** Approval policies: who must approve which campaigns. */
  approvalPolicies: ApprovalPoliciesApi;
  /** API-triggered executions: unitary (transactional) and audience (marketing) calls, and their status. */
  executions: ExecutionsApi;
  /** Delivery reports by campaign and by execution. */
  reports: ReportsApi;
  /** Delivery feedback: providers' events (delivered, bounced, opened...) about sent messages. */
  feedback: FeedbackApi;
  /** The suppression list that hard bounces, complaints and unsubscriptions feed: list, add, lift. */
  suppressions: SuppressionsApi;
  /** Runs scheduled campaigns, deferred executions and waves: drive it with `tick()` or `start()`. */
  scheduler: Scheduler;
  /** The dispatcher: subscribe to its per-message events (`sent`, `failed`, `excluded`, `retry`...). */
  dispatcher: Dispatcher;
  /**
   * The kit's lifecycle events ({@link KitEvents}): executions started, progressing (with a total and a
   * percentage where known), finished or failed, campaigns changing status, approvals requested and decided.
   * Emitted by the process that does the work, in that process only.
   *
   * @example
   * ```ts
   * kit.events.on("execution-progress", ({ campaignId, processed, total, percentage }) =>
   *   console.log(`${campaignId}: ${processed}/${total ?? "?"} (${percentage ?? "?"} %)`),
   * );
   * kit.events.once("campaign-status-changed", ({ campaignId, to }) => console.log(campaignId, to));
   * ```
   */
  events: EventEmitter<KitEvents>;
  /** Resolves once every send this process started is done. */
  idle(): Promise<void>;
  /** Stops the scheduler and aborts sends in flight (recorded; resumed later from the ledger), then waits. */
  close(): Promise<void>;
  /** The audit log, oldest first. Needs `campaign-report.read`. */
  audit(params: { actor: ActorRef; filter?: AuditFilter } & PageParams): Promise<Page<AuditEntry>>;
  /** The storage the kit writes to. */
  readonly storage: Storage;
}

/** The dispatcher's message hook for `options`: tracking as each message's configuration opts in. */
function trackingFor(options: TrackingOptions) {
  return (message: Parameters<typeof applyTracking>[1]) => applyTracking(options, message);
}

/**
 * Creates the kit: wires storage, channel adapters, audience sources and the clock, and makes the given
 * users administrators.
 *
 * @example
 * ```ts
 * const kit = await createCampaignKit({
 *   channels: [memoryChannel({ channel: "email" })],
 *   audiences: memoryAudiences({ audiences: { vip: profiles } }),
 *   administrators: ["root"],
 * });
 * await kit.roles.assign({ actor: "root", userId: "ana", roleId: "campaign-manager" });
 * ```
 */
export async function createCampaignKit(options: CampaignKitOptions = {}): Promise<CampaignKit> {
  checkKitOptions(options);
  const observe = createObserver({ logger: options.logger, telemetry: options.telemetry });
  if (options.invitations !== undefined) checkInvitationOptions(options.invitations);
  const ctx: KitContext = {
    ...createContext({
      storage: options.storage ?? memoryStorage(),
      clock: options.clock ?? systemClock,
      newId: options.newId,
      observe,
    }),
    channels: new Set((options.channels ?? []).map((adapter) => adapter.channel)),
  };
  if (options.readCache !== false) await ctx.cache.start(ctx.storage);
  for (const userId of options.administrators ?? []) {
    // Assigning is idempotent: audited only when it made the user an administrator.
    if (await ctx.repos.assignments.insert({ userId, roleId: "campaign-administrator" })) {
      await audit(
        ctx,
        "system",
        { action: "role.assign", objectType: "role", objectId: "campaign-administrator" },
        "allowed",
        {
          detail: { userId },
        },
      );
    }
  }
  const dispatcher = createDispatcher({
    ...options.dispatcher,
    channels: options.channels ?? [],
    ledger: ctx.storage,
    clock: ctx.clock,
    logger: observe.log,
    ...(observe.telemetry ? { telemetry: observe.telemetry } : {}),
    suppressions: storedSuppressionList(ctx.repos),
    ...(options.tracking ? { prepareMessage: trackingFor(options.tracking) } : {}),
  });
  const runner = createRunner(ctx, {
    dispatcher,
    audiences: options.audiences,
    owner: `${hostname()}:${process.pid}:${ctx.newId()}`,
    claimMs: options.claimMs ?? 60_000,
    queue: options.workQueue,
    chunkSize: options.chunkSize ?? 500,
  });
  const DAY_MS = 86_400_000;
  const retention = options.lifecycle?.archiveRetentionDays ?? 30;
  const scheduler = createScheduler(ctx, runner, {
    completeAfterMs: (options.lifecycle?.completeAfterDays ?? 3) * DAY_MS,
    archiveRetentionMs: retention === false ? undefined : retention * DAY_MS,
  });
  const workerParts: KitWorkerParts = {
    ctx,
    dispatcher,
    audiences: options.audiences,
    queue: options.workQueue,
    inDoubt: options.inDoubt ?? "resend-if-idempotent",
    rateGate: ctx.storage.rateBudget
      ? (campaign) => sharedRateGate(ctx.storage.rateBudget!, campaign)
      : undefined,
    stopCheckMs: 250,
  };
  const kit: CampaignKit = {
    roles: rolesApi(ctx, createInviter(ctx, dispatcher, options.invitations)),
    audiences: audiencesApi(ctx),
    configurations: configurationsApi(ctx),
    campaigns: { ...campaignsApi(ctx), ...activationApi(ctx, runner), ...lifecycleApi(ctx, runner) },
    approvalPolicies: approvalPoliciesApi(ctx),
    audit: ({ actor, filter, ...page }) =>
      operate(
        ctx,
        actor,
        "campaign-report.read",
        {
          action: "audit.list",
          objectType: "campaign",
          objectId: filter?.objectId ?? "*",
          idPath: "filter.objectId",
          read: true,
        },
        async () => {
          const where: Record<string, Where[string]> = {};
          if (filter?.objectId !== undefined) where.objectId = filter.objectId;
          if (filter?.objectType !== undefined) where.objectType = filter.objectType;
          if (filter?.actorId !== undefined) where.actorId = filter.actorId;
          return { result: await ctx.repos.audit.list(where, page) };
        },
      ),
    executions: executionsApi(ctx, runner, options.audiences),
    reports: reportsApi(ctx),
    feedback: feedbackApi(ctx, options.tracking),
    suppressions: suppressionsApi(ctx),
    scheduler,
    dispatcher,
    events: observe.events,
    storage: ctx.storage,
    idle: () => runner.idle(),
    async close() {
      // A tick in progress may be waiting for its sends (`tick()` waits by default): abort them first, so
      // stopping the scheduler doesn't wait for a whole send; then abort whatever that tick launched after.
      const stopped = scheduler.stop();
      await runner.close();
      await stopped;
      await runner.close();
      await ctx.cache.close();
    },
  };
  Object.defineProperty(kit, WORKER_PARTS, { value: workerParts, enumerable: false });
  return kit;
}
