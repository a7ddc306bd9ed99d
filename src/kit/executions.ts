import { CampaignKitError, isCampaignKitError } from "../errors.js";
import {
  type AudienceExecutionRequest,
  audienceExecutionRequestSchema,
  type ExecutionAccepted,
  type ExecutionStatusView,
  type UnitaryExecutionRequest,
  type UnitaryRecipient,
  unitaryExecutionRequestSchema,
} from "../executions/payloads.js";
import { payloadRecipients, resolveUnitaryRecipients } from "../executions/recipients.js";
import type { Runner } from "../executions/runner.js";
import type { Campaign } from "../model/campaign.js";
import type { ReadonlyDeep } from "../model/common.js";
import type { Execution, ExecutionRecipient, ExecutionStatus } from "../model/execution.js";
import { validationFailed } from "../model/input-guard.js";
import { parseWith } from "../model/parse.js";
import type { AudienceSource } from "../ports/audience-source.js";
import type { Page, PageParams, Where } from "../ports/storage.js";
import type { TelemetrySpan } from "../ports/telemetry.js";
import { readCampaign } from "../repositories/campaigns.js";
import { executionIdFor } from "../repositories/index.js";
import {
  type ActorRef,
  type KitContext,
  type OperationOutcome,
  operate,
  type ResolvedActor,
  targetsOf,
  type WriteOutcome,
} from "./context.js";
import { assertPrerequisites } from "./prerequisites/check.js";
import { prerequisiteInputs } from "./prerequisites/inputs.js";

/** Filters for {@link ExecutionsApi.list}; every given filter must hold. */
export interface ExecutionFilter {
  /** Executions of this campaign. */
  campaignId?: string;
  /** The execution of this request id (with `campaignId`, at most one). */
  requestId?: string;
  /** Executions in any of these statuses. */
  status?: readonly ExecutionStatus[];
  /** Executions of this kind (`occurrence`, `unitary` or `audience`). */
  kind?: Execution["kind"];
}

/**
 * API-triggered executions, accepting the reference execution API's payloads verbatim. Triggering needs
 * `campaign.publish`; reading needs `campaign.read`. Both triggers answer at once while sending goes on, and
 * the same `requestId` again answers with the same execution and sends nothing more.
 */
export interface ExecutionsApi {
  /** `POST /im/executions/unitary`: a transactional send to 1-20 named recipients. */
  triggerUnitary(params: {
    actor: ActorRef;
    request: ReadonlyDeep<UnitaryExecutionRequest>;
  }): Promise<ExecutionAccepted>;
  /** `POST /im/executions/audience`: a marketing send to the campaign's audience, now or at `executeAt`. */
  triggerAudience(params: {
    actor: ActorRef;
    request: ReadonlyDeep<AudienceExecutionRequest>;
  }): Promise<ExecutionAccepted>;
  /** `GET /im/executions/audience/{id}`, in the reference shape. */
  status(params: { actor: ActorRef; id: string }): Promise<ExecutionStatusView>;
  /** The stored execution. */
  get(params: { actor: ActorRef; id: string }): Promise<Execution>;
  /** Executions matching `filter`, by id, paged. */
  list(params: { actor: ActorRef; filter?: ExecutionFilter } & PageParams): Promise<Page<Execution>>;
  /** Cancels an execution scheduled for later (`executeAt`) before it fires. */
  cancel(params: { actor: ActorRef; id: string }): Promise<Execution>;
  /** Resolves when this process has finished sending the execution (or at once when it isn't sending it). */
  wait(params: { id: string }): Promise<void>;
}

const REFERENCE_STATUS: Record<Execution["status"], ExecutionStatusView["status"]> = {
  scheduled: "Scheduled",
  "in-progress": "InProgress",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
};

/**
 * The recipients of a unitary call to a high-throughput campaign: its payload, refusing `profile` attributes,
 * which such a campaign never reads (the values belong in `context`).
 */
function fromPayload(request: { recipients: readonly UnitaryRecipient[] }): ExecutionRecipient[] {
  const issues = request.recipients.flatMap((recipient, index) =>
    recipient.profile === undefined
      ? []
      : [
          {
            path: `recipients.${index}.profile`,
            message:
              "This campaign is high-throughput: it sends from `context` and `channelData` only; move these values to `context`",
          },
        ],
  );
  if (issues.length > 0) throw validationFailed("unitary execution request", issues);
  return payloadRecipients(request.recipients);
}

/** Builds the executions API. */
export function executionsApi(
  ctx: KitContext,
  runner: Runner,
  audiences: AudienceSource | undefined,
): ExecutionsApi {
  const target = targetsOf("execution");
  const find = async (id: string) => (await ctx.repos.executions.find(id)).value;

  /** The checks every trigger makes: campaign type and category, live, inside its window, content ready. */
  async function triggerable(
    actor: ResolvedActor,
    campaignId: string,
    category: Campaign["category"],
  ): Promise<Campaign> {
    const campaign = await readCampaign(ctx, campaignId);
    if (campaign.type !== "api-triggered" || campaign.category !== category) {
      throw new CampaignKitError(
        "WRONG_CAMPAIGN_TYPE",
        `Campaign '${campaignId}' is ${campaign.type} ${campaign.category}; this call needs an API-triggered ` +
          `${category} campaign (${category === "transactional" ? "unitary" : "audience"} executions).`,
        { details: { type: campaign.type, category: campaign.category } },
      );
    }
    if (campaign.status !== "live") {
      throw new CampaignKitError(
        "CAMPAIGN_NOT_LIVE",
        `Campaign '${campaignId}' is ${campaign.status}; activate it before triggering it.`,
        { details: { status: campaign.status } },
      );
    }
    requireInWindow(campaign, ctx.now(), "it is");
    assertPrerequisites(await prerequisiteInputs(ctx, actor, "trigger", campaign));
    return campaign;
  }

  /**
   * Throws `OUTSIDE_WINDOW` unless `at` falls in the campaign's window, `[startAt, endAt)`: the same bounds
   * the schedule maths uses.
   */
  function requireInWindow(campaign: Campaign, at: Date, what: string): void {
    const { startAt, endAt } = campaign.schedule ?? {};
    if ((startAt && at < startAt) || (endAt && at >= endAt)) {
      throw new CampaignKitError(
        "OUTSIDE_WINDOW",
        `Campaign '${campaign.id}' accepts sends from ${startAt?.toISOString() ?? "its activation"} until ` +
          `${endAt?.toISOString() ?? "it is stopped"}; ${what} ${at.toISOString()}.`,
        { details: { startAt, endAt, at } },
      );
    }
  }

  /**
   * Runs `prepare`, the checks of a trigger, which hands back the write that accepts the call; when it
   * refuses, answers with the execution an earlier call with this request id created, if any: a retried call
   * gets it back even when the campaign has since closed or a recipient left, since nothing more will be
   * sent. Only refusals pay for that read; a first call never does.
   */
  async function orEarlier(
    parsed: { campaignId: string; requestId?: string | undefined },
    prepare: () => Promise<() => Promise<ExecutionAccepted>>,
  ): Promise<OperationOutcome<ExecutionAccepted> | WriteOutcome<ExecutionAccepted>> {
    try {
      return { write: await prepare(), detail: { campaignId: parsed.campaignId } };
    } catch (error) {
      if (!isCampaignKitError(error) || error.code === "STORAGE_FAILED" || parsed.requestId === undefined) {
        throw error;
      }
      const found = await ctx.repos.executions.get(executionIdFor(parsed.campaignId, parsed.requestId));
      if (found === undefined) throw error;
      return {
        result: answer(found.value, false),
        detail: { campaignId: parsed.campaignId, created: false },
      };
    }
  }

  function answer(execution: Execution, created: boolean): ExecutionAccepted {
    return {
      executionId: execution.id,
      requestId: execution.requestId,
      createdAt: execution.createdAt.toISOString(),
      created,
    };
  }

  /**
   * Stores the execution, its id derived from its request id: when the id is taken, a concurrent call with
   * the same request id got there first, and its execution is the answer. Sending starts at once unless the
   * execution waits for its `executeAt`.
   */
  async function accept(
    execution: Execution,
    campaign: Campaign,
    span: TelemetrySpan | undefined,
  ): Promise<ExecutionAccepted> {
    const submitted = await runner.submit(execution, campaign, span);
    return answer(submitted.execution, submitted.created);
  }

  /**
   * Runs a trigger call in a `campaign-kit.trigger` span, when the kit traces: the execution it starts is
   * traced as the span's child, and what the call does to storage nests under it.
   */
  async function traced(
    kind: "unitary" | "audience",
    call: (span: TelemetrySpan | undefined) => Promise<ExecutionAccepted>,
  ): Promise<ExecutionAccepted> {
    const { telemetry } = ctx.observe;
    if (!telemetry) return call(undefined);
    const span = telemetry.startSpan("campaign-kit.trigger", {
      attributes: { "campaign_kit.trigger.kind": kind },
    });
    try {
      const accepted = await (telemetry.withSpan ? telemetry.withSpan(span, () => call(span)) : call(span));
      span.setAttributes({
        "campaign_kit.execution.id": accepted.executionId,
        "campaign_kit.request.id": accepted.requestId,
        "campaign_kit.execution.created": accepted.created,
      });
      return accepted;
    } catch (error) {
      span.setAttributes(isCampaignKitError(error) ? { "campaign_kit.error.code": error.code } : {});
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  function unitaryExecution(
    campaign: Campaign,
    requestId: string,
    recipients: ExecutionRecipient[],
  ): Execution {
    return {
      id: executionIdFor(campaign.id, requestId),
      campaignId: campaign.id,
      requestId,
      kind: "unitary",
      status: "in-progress",
      recipients,
      targetedProfileCount: recipients.length,
      streamed: false,
      createdAt: ctx.now(),
    };
  }

  return {
    triggerUnitary: ({ actor, request }) =>
      traced("unitary", (span) =>
        operate(
          ctx,
          actor,
          "campaign.publish",
          target("execution.trigger-unitary", request?.requestId, false, { idPath: "requestId" }),
          async (a) => {
            const parsed = parseWith(unitaryExecutionRequestSchema, request, "unitary execution request");
            return orEarlier(parsed, async () => {
              const campaign = await triggerable(a, parsed.campaignId, "transactional");
              span?.setAttributes({
                "campaign_kit.campaign.id": campaign.id,
                "campaign_kit.trigger.recipients": parsed.recipients.length,
              });
              if (campaign.type === "api-triggered" && campaign.apiTrigger.highThroughput) {
                // The payload is all there is: no look-up, no profile created, no audience source needed.
                return () =>
                  accept(unitaryExecution(campaign, parsed.requestId, fromPayload(parsed)), campaign, span);
              }
              if (!audiences) {
                throw new CampaignKitError(
                  "AUDIENCE_SOURCE_MISSING",
                  "The kit has no `audiences` source to find profiles in.",
                );
              }
              const { recipients, created, unknown } = await resolveUnitaryRecipients(
                audiences,
                campaign,
                parsed.recipients,
              );
              if (unknown.length > 0) {
                throw new CampaignKitError(
                  "UNKNOWN_RECIPIENT",
                  `No profile matches ${unknown.map((u) => `'${u}'`).join(", ")}, and campaign '${campaign.id}' does not ` +
                    'create new profiles: set `apiTrigger.createNewProfile` or send `type: "external"` recipients.',
                  { details: { userIds: unknown } },
                );
              }
              for (const profile of created) await audiences.saveProfile({ profile });
              return () => accept(unitaryExecution(campaign, parsed.requestId, recipients), campaign, span);
            });
          },
        ),
      ),
    triggerAudience: ({ actor, request }) =>
      traced("audience", (span) =>
        operate(
          ctx,
          actor,
          "campaign.publish",
          target("execution.trigger-audience", request?.requestId ?? "(new)", false, { idPath: "requestId" }),
          async (a) => {
            const parsed = parseWith(audienceExecutionRequestSchema, request, "audience execution request");
            return orEarlier(parsed, async () => {
              const campaign = await triggerable(a, parsed.campaignId, "marketing");
              if (parsed.audience && parsed.audience.id !== campaign.audienceId) {
                throw new CampaignKitError(
                  "VALIDATION_FAILED",
                  `Campaign '${campaign.id}' sends to audience '${campaign.audienceId}', not '${parsed.audience.id}'.`,
                  {
                    details: {
                      issues: [{ path: "audience.id", message: `Expected '${campaign.audienceId}'` }],
                    },
                  },
                );
              }
              const executeAt = parsed.schedule?.executeAt;
              if (executeAt) requireInWindow(campaign, executeAt, "`schedule.executeAt` is");
              const deferred = executeAt !== undefined && executeAt.getTime() > ctx.clock.now();
              const requestId = parsed.requestId ?? ctx.newId();
              const execution: Execution = {
                id: executionIdFor(campaign.id, requestId),
                campaignId: campaign.id,
                requestId,
                kind: "audience",
                status: deferred ? "scheduled" : "in-progress",
                targetedProfileCount: 0,
                streamed: false,
                createdAt: ctx.now(),
              };
              if (campaign.audienceId) execution.audienceId = campaign.audienceId;
              if (parsed.context) execution.context = parsed.context;
              if (executeAt) execution.executeAt = executeAt;
              span?.setAttributes({ "campaign_kit.campaign.id": campaign.id });
              return () => accept(execution, campaign, span);
            });
          },
        ),
      ),
    status: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("execution.read", id, true), async () => {
        const e = await find(id);
        const view: ExecutionStatusView = {
          executionId: e.id,
          campaignId: e.campaignId,
          status: REFERENCE_STATUS[e.status],
          targetedProfileCount: e.targetedProfileCount,
          createdAt: e.createdAt.toISOString(),
        };
        if (e.audienceId) view.audienceId = e.audienceId;
        if (e.executeAt) view.executeAt = e.executeAt.toISOString();
        return { result: view };
      }),
    get: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("execution.read", id, true), async () => ({
        result: await find(id),
      })),
    list: ({ actor, filter = {}, ...page }) =>
      operate(ctx, actor, "campaign.read", target("execution.list", "*", true), async () => {
        const where: Record<string, Where[string]> = {};
        if (filter.campaignId) where.campaignId = filter.campaignId;
        if (filter.status) where.status = { in: filter.status };
        if (filter.kind) where.kind = filter.kind;
        if (filter.requestId !== undefined) {
          // A request id names at most one execution of a campaign: read it by its derived id.
          if (!filter.campaignId) {
            throw new CampaignKitError(
              "VALIDATION_FAILED",
              "Filter by `requestId` together with `campaignId`.",
              {
                details: {
                  issues: [{ path: "filter.campaignId", message: "Required with `filter.requestId`" }],
                },
              },
            );
          }
          const found = (await ctx.repos.executions.get(executionIdFor(filter.campaignId, filter.requestId)))
            ?.value;
          const matches =
            found !== undefined &&
            (filter.status === undefined || filter.status.includes(found.status)) &&
            (filter.kind === undefined || found.kind === filter.kind);
          return { result: { items: matches ? [found] : [] } };
        }
        return { result: await ctx.repos.executions.list(where, page) };
      }),
    cancel: ({ actor, id }) =>
      operate(ctx, actor, "campaign.publish", target("execution.cancel", id), async () => {
        const current = await ctx.repos.executions.find(id);
        const execution = current.value;
        if (execution.status !== "scheduled") {
          throw new CampaignKitError(
            "INVALID_TRANSITION",
            `Execution '${id}' is ${execution.status}; only scheduled executions can be cancelled (stop the campaign to halt sends).`,
            { details: { status: execution.status } },
          );
        }
        const cancelled: Execution = { ...execution, status: "cancelled", finishedAt: ctx.now() };
        await ctx.repos.executions.replace(current, cancelled);
        return { result: cancelled, fromStatus: execution.status, toStatus: "cancelled" };
      }),
    wait: ({ id }) => runner.wait(id),
  };
}
