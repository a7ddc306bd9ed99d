import { createHash, randomUUID } from "node:crypto";
import {
  type ApprovalPolicy,
  type ApprovalRequest,
  approvalPolicySchema,
  approvalRequestSchema,
} from "../model/approval.js";
import { type Audience, audienceSchema } from "../model/audience.js";
import { type AuditEntry, auditEntrySchema } from "../model/audit.js";
import { type Campaign, campaignSchema } from "../model/campaign.js";
import { type ChannelConfiguration, channelConfigurationSchema } from "../model/channel-configuration.js";
import {
  type Execution,
  type ExecutionSlice,
  executionSchema,
  executionSliceSchema,
} from "../model/execution.js";
import {
  type FeedbackDocument,
  feedbackDocumentSchema,
  type Suppression,
  suppressionSchema,
} from "../model/feedback.js";
import { type Role, type RoleAssignment, roleAssignmentSchema, roleSchema } from "../model/roles.js";
import type { DocumentKeys, Store } from "../ports/storage.js";
import { DocumentCollection } from "./collection.js";
import type { ReadCache } from "./read-cache.js";

export { DocumentCollection, type Versioned } from "./collection.js";

/** Keys only for the values that are set: a store never sees an `undefined` key. */
function keys(values: Record<string, DocumentKeys[string] | undefined>): DocumentKeys {
  const present: Record<string, DocumentKeys[string]> = {};
  for (const [name, value] of Object.entries(values)) if (value !== undefined) present[name] = value;
  return present;
}

/** Joins parts into one id no two different part lists share: each part but the last carries its length. */
function compositeId(...parts: string[]): string {
  const last = parts.pop() ?? "";
  return `${parts.map((part) => `${part.length}:${part}`).join(":")}:${last}`;
}

/**
 * The id of the execution of (`campaignId`, `requestId`): derived, not drawn, so that storing the execution
 * is its own idempotency check (the same request again finds the id taken). Opaque and URL-safe.
 */
export function executionIdFor(campaignId: string, requestId: string): string {
  const digest = createHash("sha256").update(compositeId(campaignId, requestId)).digest("base64url");
  return `x-${digest.slice(0, 26)}`;
}

/**
 * An audit entry's id: its time first, so that listing the log by id lists it oldest first, then a random
 * part so that two entries of one millisecond never collide.
 */
export function auditIdFor(at: Date): string {
  return `${at.toISOString()}-${randomUUID().slice(0, 13)}`;
}

/**
 * The kit's typed repositories, one per collection of the {@link Store}: each encodes its domain objects as
 * documents with the index keys the kit filters on, and turns the store's results into the kit's errors.
 * With a `cache`, the collections it keeps serve `getCached` and `everyCached` from it.
 */
export function createRepositories(store: Store, cache?: ReadCache) {
  return {
    campaigns: new DocumentCollection<Campaign>(
      store,
      {
        name: "campaigns",
        what: "campaign",
        schema: campaignSchema,
        idOf: (c) => c.id,
        keysOf: (c) =>
          keys({
            status: c.status,
            type: c.type,
            category: c.category,
            channels: c.actions.map((action) => action.channel),
            configurations: c.actions.map((action) => action.channelConfigurationId),
            tags: c.tags,
            replacesCampaignId: c.replacesCampaignId,
            // The scheduler finds the archived campaigns due for purging by a range on it.
            archivedAt: c.archivedAt?.toISOString(),
          }),
      },
      cache,
    ),
    audiences: new DocumentCollection<Audience>(
      store,
      {
        name: "audiences",
        what: "audience",
        schema: audienceSchema,
        idOf: (a) => a.id,
        keysOf: (a) => keys({ status: a.status }),
      },
      cache,
    ),
    configurations: new DocumentCollection<ChannelConfiguration>(
      store,
      {
        name: "channel-configurations",
        what: "channel configuration",
        schema: channelConfigurationSchema,
        idOf: (c) => c.id,
        keysOf: (c) => keys({ channel: c.channel, status: c.status }),
      },
      cache,
    ),
    roles: new DocumentCollection<Role>(
      store,
      {
        name: "roles",
        what: "role",
        schema: roleSchema,
        idOf: (r) => r.id,
        keysOf: () => ({}),
      },
      cache,
    ),
    assignments: new DocumentCollection<RoleAssignment>(
      store,
      {
        name: "role-assignments",
        what: "role assignment",
        schema: roleAssignmentSchema,
        idOf: (a) => compositeId(a.userId, a.roleId),
        keysOf: (a) => keys({ userId: a.userId, roleId: a.roleId }),
      },
      cache,
    ),
    policies: new DocumentCollection<ApprovalPolicy>(
      store,
      {
        name: "approval-policies",
        what: "approval policy",
        schema: approvalPolicySchema,
        idOf: (p) => p.id,
        keysOf: (p) => keys({ status: p.status }),
      },
      cache,
    ),
    requests: new DocumentCollection<ApprovalRequest>(
      store,
      {
        name: "approval-requests",
        what: "approval request",
        schema: approvalRequestSchema,
        idOf: (r) => r.id,
        keysOf: (r) => keys({ campaignId: r.campaignId, status: r.status }),
      },
      cache,
    ),
    executions: new DocumentCollection<Execution>(
      store,
      {
        name: "executions",
        what: "execution",
        schema: executionSchema,
        idOf: (e) => e.id,
        // `claimUntil` is "" when no process runs it: a range up to now finds the executions free to take.
        keysOf: (e) =>
          keys({
            campaignId: e.campaignId,
            status: e.status,
            kind: e.kind,
            claimUntil: e.claim?.until.toISOString() ?? "",
          }),
      },
      cache,
    ),
    slices: new DocumentCollection<ExecutionSlice>(
      store,
      {
        name: "execution-slices",
        what: "execution slice",
        schema: executionSliceSchema,
        idOf: (s) => s.id,
        keysOf: (s) => keys({ executionId: s.executionId, dueAt: s.dueAt.toISOString() }),
      },
      cache,
    ),
    audit: new DocumentCollection<AuditEntry>(
      store,
      {
        name: "audit",
        what: "audit entry",
        schema: auditEntrySchema,
        idOf: (e) => e.id,
        keysOf: (e) => keys({ objectId: e.objectId, objectType: e.objectType, actorId: e.actorId }),
      },
      cache,
    ),
    feedback: new DocumentCollection<FeedbackDocument>(
      store,
      {
        name: "feedback",
        what: "feedback",
        schema: feedbackDocumentSchema,
        idOf: (f) => feedbackIdFor(f.messageId, f.type),
        // The contract with experiment reports: they count documents by campaign, type and treatment.
        keysOf: (f) =>
          keys({
            campaignId: f.campaignId,
            executionId: f.executionId,
            type: f.type,
            treatmentId: f.treatmentId,
          }),
      },
      cache,
    ),
    suppressions: new DocumentCollection<Suppression>(
      store,
      {
        name: "suppressions",
        what: "suppression",
        schema: suppressionSchema,
        idOf: (s) => s.id,
        keysOf: (s) =>
          keys({
            channel: s.channel,
            subject: suppressionSubject(s),
            active: s.active,
          }),
      },
      cache,
    ),
  };
}

/** Ids no longer than a store keeps (200): a longer one is replaced by a digest of it, marked `h:`. */
function boundedId(id: string): string {
  return id.length <= 200 ? id : `h:${createHash("sha256").update(id).digest("base64url")}`;
}

/**
 * The id of one message's feedback of one type: `${messageId}|${type}`, or, when that is longer than the 200
 * characters a store keeps, `h:` and a digest of it.
 */
export function feedbackIdFor(messageId: string, type: string): string {
  return boundedId(`${messageId}|${type}`);
}

/** What a suppression is about: `address:<address>` or `profile:<recipient id>`. */
export function suppressionSubject(s: { address?: string | undefined; recipientId?: string | undefined }) {
  return s.address !== undefined ? `address:${s.address}` : `profile:${s.recipientId ?? ""}`;
}

/** The id of a channel's suppression of `subject` (see {@link suppressionSubject}). */
export function suppressionIdFor(channel: string, subject: string): string {
  return boundedId(`${channel}|${subject}`);
}

/** The kit's repositories; see {@link createRepositories}. */
export type Repositories = ReturnType<typeof createRepositories>;
