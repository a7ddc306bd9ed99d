/*
 * Rows to domain objects and back. Reads must deep-equal what was written: nullable columns become absent
 * fields (never `null`), bigint counts become numbers, and Dates nested in JSONB (a schedule's start and end)
 * are revived, since JSON keeps them as ISO strings.
 */
import type { ApprovalPolicy, ApprovalRequest } from "../../model/approval.js";
import type { Audience } from "../../model/audience.js";
import type { AuditEntry } from "../../model/audit.js";
import type { Campaign } from "../../model/campaign.js";
import type { ChannelConfiguration } from "../../model/channel-configuration.js";
import type { Execution } from "../../model/execution.js";
import type { Role } from "../../model/roles.js";
import type { Schedule } from "../../model/schedule.js";

/** A row as pg returns it: column name to value. */
export type Row = Record<string, unknown>;

/** Copies `row[column]` to `target[key]` unless it is null, converting it with `map`. */
function optional<T extends object>(
  target: T,
  key: string,
  value: unknown,
  map: (value: never) => unknown = (v) => v,
): void {
  if (value !== null && value !== undefined) (target as Record<string, unknown>)[key] = map(value as never);
}

const toNumber = (value: string | number) => Number(value);
const toDate = (value: string | Date) => (value instanceof Date ? value : new Date(value));

function reviveSchedule(schedule: Schedule & Record<string, unknown>): Schedule {
  const revived = { ...schedule };
  if (typeof schedule.startAt === "string") revived.startAt = new Date(schedule.startAt);
  if (typeof schedule.endAt === "string") revived.endAt = new Date(schedule.endAt);
  return revived;
}

/** The JSONB body of a campaign: what no column holds. */
export function campaignBody(campaign: Campaign): Record<string, unknown> {
  const body: Record<string, unknown> = {
    actions: campaign.actions,
    deliveryControls: campaign.deliveryControls,
  };
  if (campaign.schedule !== undefined) body.schedule = campaign.schedule;
  if (campaign.openVersionId !== undefined) body.openVersionId = campaign.openVersionId;
  return body;
}

/** The column values of a campaign, in {@link CAMPAIGN_COLUMNS} order. */
export function campaignValues(campaign: Campaign): unknown[] {
  return [
    campaign.id,
    campaign.type,
    campaign.category,
    campaign.status,
    campaign.version,
    campaign.name,
    campaign.description ?? null,
    campaign.tags,
    campaign.actions.map((action) => action.channel),
    campaign.audienceId ?? null,
    campaign.identityNamespace,
    campaign.replacesCampaignId ?? null,
    campaign.type === "api-triggered" ? campaign.apiTrigger.createNewProfile : null,
    JSON.stringify(campaignBody(campaign)),
    campaign.createdAt,
    campaign.updatedAt,
    campaign.createdBy,
    campaign.updatedBy,
    campaign.activatedAt ?? null,
  ];
}

/** The campaign columns, in the order {@link campaignValues} gives their values. */
export const CAMPAIGN_COLUMNS = [
  "id",
  "type",
  "category",
  "status",
  "version",
  "name",
  "description",
  "tags",
  "channels",
  "audience_id",
  "identity_namespace",
  "replaces_campaign_id",
  "create_new_profile",
  "body",
  "created_at",
  "updated_at",
  "created_by",
  "updated_by",
  "activated_at",
] as const;

/** A campaign row to a campaign. */
export function campaignFromRow(row: Row): Campaign {
  const body = row.body as {
    actions: Campaign["actions"];
    deliveryControls: Campaign["deliveryControls"];
  } & {
    schedule?: Schedule & Record<string, unknown>;
    openVersionId?: string;
  };
  const campaign: Record<string, unknown> = {
    id: row.id,
    type: row.type,
    category: row.category,
    status: row.status,
    version: row.version,
    name: row.name,
    tags: row.tags,
    actions: body.actions,
    identityNamespace: row.identity_namespace,
    deliveryControls: body.deliveryControls,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
  optional(campaign, "description", row.description);
  optional(campaign, "audienceId", row.audience_id);
  optional(campaign, "replacesCampaignId", row.replaces_campaign_id);
  optional(campaign, "activatedAt", row.activated_at);
  if (body.schedule !== undefined) campaign.schedule = reviveSchedule(body.schedule);
  optional(campaign, "openVersionId", body.openVersionId);
  if (row.type === "api-triggered")
    campaign.apiTrigger = { createNewProfile: row.create_new_profile === true };
  return campaign as Campaign;
}

/** An audience row to an audience. */
export function audienceFromRow(row: Row): Audience {
  const audience: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    status: row.status,
    identityNamespace: row.identity_namespace,
  };
  optional(audience, "description", row.description);
  optional(audience, "estimatedSize", row.estimated_size, toNumber);
  optional(audience, "evaluatedAt", row.evaluated_at, toDate);
  return audience as Audience;
}

/** A configuration row to a configuration. */
export function configurationFromRow(row: Row): ChannelConfiguration {
  const configuration: Record<string, unknown> = {
    id: row.id,
    channel: row.channel,
    name: row.name,
    purpose: row.purpose,
    status: row.status,
    settings: row.settings,
  };
  optional(configuration, "createdAt", row.created_at);
  optional(configuration, "updatedAt", row.updated_at);
  return configuration as ChannelConfiguration;
}

/** A role row to a role. */
export function roleFromRow(row: Row): Role {
  const role: Record<string, unknown> = { id: row.id, name: row.name, permissions: row.permissions };
  optional(role, "description", row.description);
  return role as Role;
}

/** A policy row to a policy. */
export function policyFromRow(row: Row): ApprovalPolicy {
  const policy: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    status: row.status,
    conditions: row.conditions,
    approvers: { users: row.approver_users, roles: row.approver_roles },
    blockSelfApproval: row.block_self_approval,
  };
  optional(policy, "activatedAt", row.activated_at);
  return policy as ApprovalPolicy;
}

/** An approval request row to a request. */
export function approvalRequestFromRow(row: Row): ApprovalRequest {
  const request: Record<string, unknown> = {
    id: row.id,
    campaignId: row.campaign_id,
    campaignVersion: row.campaign_version,
    status: row.status,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
  };
  optional(request, "policyId", row.policy_id);
  optional(request, "decidedBy", row.decided_by);
  optional(request, "decidedAt", row.decided_at);
  optional(request, "comment", row.comment);
  return request as ApprovalRequest;
}

/** The execution columns, in the order {@link executionValues} gives their values. */
export const EXECUTION_COLUMNS = [
  "id",
  "campaign_id",
  "request_id",
  "kind",
  "status",
  "audience_id",
  "context",
  "recipients",
  "execute_at",
  "targeted_profile_count",
  "resume_at",
  "audience_size",
  "created_at",
  "started_at",
  "finished_at",
  "error",
] as const;

/** The column values of an execution. */
export function executionValues(execution: Execution): unknown[] {
  return [
    execution.id,
    execution.campaignId,
    execution.requestId,
    execution.kind,
    execution.status,
    execution.audienceId ?? null,
    execution.context === undefined ? null : JSON.stringify(execution.context),
    execution.recipients === undefined ? null : JSON.stringify(execution.recipients),
    execution.executeAt ?? null,
    execution.targetedProfileCount,
    execution.resumeAt ?? null,
    execution.audienceSize ?? null,
    execution.createdAt,
    execution.startedAt ?? null,
    execution.finishedAt ?? null,
    execution.error ?? null,
  ];
}

/** An execution row to an execution. */
export function executionFromRow(row: Row): Execution {
  const execution: Record<string, unknown> = {
    id: row.id,
    campaignId: row.campaign_id,
    requestId: row.request_id,
    kind: row.kind,
    status: row.status,
    targetedProfileCount: Number(row.targeted_profile_count),
    createdAt: row.created_at,
  };
  optional(execution, "audienceId", row.audience_id);
  optional(execution, "context", row.context);
  optional(execution, "recipients", row.recipients);
  optional(execution, "executeAt", row.execute_at, toDate);
  optional(execution, "resumeAt", row.resume_at, toDate);
  optional(execution, "audienceSize", row.audience_size, toNumber);
  optional(execution, "startedAt", row.started_at, toDate);
  optional(execution, "finishedAt", row.finished_at, toDate);
  optional(execution, "error", row.error);
  return execution as Execution;
}

/** The column values of an audit entry (without `seq`, which PostgreSQL assigns). */
export function auditValues(entry: AuditEntry): unknown[] {
  return [
    entry.id,
    entry.at,
    entry.actorId,
    entry.action,
    entry.objectType,
    entry.objectId,
    entry.outcome,
    entry.fromStatus ?? null,
    entry.toStatus ?? null,
    entry.errorCode ?? null,
    entry.detail === undefined ? null : JSON.stringify(entry.detail),
  ];
}

/** An audit row to an entry. */
export function auditFromRow(row: Row): AuditEntry {
  const entry: Record<string, unknown> = {
    id: row.id,
    at: row.at,
    actorId: row.actor_id,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    outcome: row.outcome,
  };
  optional(entry, "fromStatus", row.from_status);
  optional(entry, "toStatus", row.to_status);
  optional(entry, "errorCode", row.error_code);
  optional(entry, "detail", row.detail);
  return entry as AuditEntry;
}
