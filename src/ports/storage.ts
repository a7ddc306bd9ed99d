/**
 * Everything campaign-kit keeps: campaigns and their versions, audiences, channel configurations, roles,
 * approval policies and requests, executions, scheduler leases, the delivery ledger and the audit log.
 *
 * Why it looks like this: the kit enforces every rule (permissions, the status machine, prerequisites) and
 * asks storage only for what a database does well: keyed reads, paged filtered lists, and a few atomic
 * operations it could not do safely itself. Those are spelled out on each method:
 * - campaign writes are optimistic: `expectedVersion` must match or the write fails with `CONFLICT`;
 * - `createExecution` is create-if-absent on (campaign, request id): the idempotency of API triggers;
 * - `acquireLease` is compare-and-set on a key: two schedulers never run one occurrence at once;
 * - the ledger's `record` keeps the first `sent` for a message id: a message is never sent twice.
 * Nothing else needs a transaction, so any database (or a Map) can implement it.
 *
 * The reference implementation is `memoryStorage()`; `postgresStorage({ pool })` is the durable one. Both pass
 * `runStorageSuite` from `campaign-kit/testing`: run it on your own implementation too.
 */
import type { ApprovalPolicy, ApprovalRequest } from "../model/approval.js";
import type { Audience } from "../model/audience.js";
import type { AuditEntry } from "../model/audit.js";
import type { Campaign } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { Category, Channel } from "../model/common.js";
import type { Execution, ExecutionStatus } from "../model/execution.js";
import type { Role, RoleAssignment } from "../model/roles.js";
import type { CampaignStatus } from "../model/status-machine.js";
import type { DeliveryLedger } from "./ledger.js";

/** A page of a list: at most `limit` items ordered by id, and the cursor of the next page when there is one. */
export interface Page<T> {
  /** This page's items, in the list's order; empty when nothing (more) matches. */
  items: T[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
}

/** Paging parameters: `limit` defaults to 50 (at most 500); `cursor` comes from the previous {@link Page}. */
export interface PageParams {
  /** The most items to return: a whole number, default 50, clamped to 1..500. */
  limit?: number;
  /** The previous page's `nextCursor`, to continue after it; absent for the first page. Opaque. */
  cursor?: string;
}

/** Filters for {@link Storage.listCampaigns}; every given filter must hold. */
export interface CampaignFilter {
  /** Campaigns in any of these statuses. */
  status?: readonly CampaignStatus[];
  /** Campaigns of this type (`scheduled` or `api-triggered`). */
  type?: Campaign["type"];
  /** Campaigns of this category (`marketing` or `transactional`). */
  category?: Category;
  /** Campaigns with an action on this channel. */
  channel?: Channel;
  /** Campaigns with all of these tags. */
  tags?: readonly string[];
  /** Case-insensitive substring of the name. */
  text?: string;
  /** New versions of this (live) campaign. */
  replacesCampaignId?: string;
}

/** Filters for {@link Storage.listExecutions}; every given filter must hold. */
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

/** Filters for {@link Storage.listAudit}; every given filter must hold. */
export interface AuditFilter {
  /** Entries about the object with this id. */
  objectId?: string;
  /** Entries about objects of this type (`campaign`, `audience`...). */
  objectType?: AuditEntry["objectType"];
  /** Entries of actions by this user. */
  actorId?: string;
}

/** Where campaign-kit keeps everything. Implement it to use your own database. */
export interface Storage extends DeliveryLedger {
  /** Stores a new campaign. Atomic. Throws `ALREADY_EXISTS` when the id is taken. */
  createCampaign(params: { campaign: Campaign }): Promise<void>;
  /** The campaign, or `undefined`. */
  getCampaign(params: { id: string }): Promise<Campaign | undefined>;
  /**
   * Replaces a campaign whose stored version is `expectedVersion`; the caller passes the new version
   * (`expectedVersion + 1`) in `campaign.version`. Atomic compare-and-set: of two writers of one version,
   * exactly one wins and the other gets `CONFLICT`. Throws `NOT_FOUND` when absent.
   */
  updateCampaign(params: { campaign: Campaign; expectedVersion: number }): Promise<void>;
  /** Deletes a campaign at `expectedVersion`. Atomic; `CONFLICT` on a stale version, `NOT_FOUND` when absent. */
  deleteCampaign(params: { id: string; expectedVersion: number }): Promise<void>;
  /** Campaigns matching `filter`, ordered by id, paged. */
  listCampaigns(params: { filter?: CampaignFilter } & PageParams): Promise<Page<Campaign>>;

  /** Creates or replaces an audience. Atomic per audience. */
  putAudience(params: { audience: Audience }): Promise<void>;
  /** The audience, or `undefined`. */
  getAudience(params: { id: string }): Promise<Audience | undefined>;
  /** Audiences ordered by id, paged. */
  listAudiences(params: PageParams): Promise<Page<Audience>>;

  /** Creates or replaces a channel configuration. Atomic per configuration. */
  putChannelConfiguration(params: { configuration: ChannelConfiguration }): Promise<void>;
  /** The configuration, or `undefined`. */
  getChannelConfiguration(params: { id: string }): Promise<ChannelConfiguration | undefined>;
  /** Configurations ordered by id, paged, optionally of one channel. */
  listChannelConfigurations(params: { channel?: Channel } & PageParams): Promise<Page<ChannelConfiguration>>;

  /** Creates or replaces a custom role. */
  putRole(params: { role: Role }): Promise<void>;
  /** Every custom role (built-in ones are not stored). */
  listRoles(): Promise<Role[]>;
  /** Gives a user a role; assigning it twice is a no-op. */
  assignRole(params: { assignment: RoleAssignment }): Promise<void>;
  /** Takes a role from a user; returns whether the user had it. */
  revokeRole(params: { assignment: RoleAssignment }): Promise<boolean>;
  /** A user's role ids (built-in and custom). */
  listUserRoles(params: { userId: string }): Promise<string[]>;

  /** Creates or replaces an approval policy. */
  putApprovalPolicy(params: { policy: ApprovalPolicy }): Promise<void>;
  /** Every approval policy. */
  listApprovalPolicies(): Promise<ApprovalPolicy[]>;
  /**
   * Creates or replaces an approval request. With `ifStatus` it is a compare-and-set: it writes only when a
   * request with that id is stored with that status, atomically, so of two approvers deciding one pending
   * request exactly one wins. Returns whether it wrote.
   */
  putApprovalRequest(params: {
    request: ApprovalRequest;
    ifStatus?: ApprovalRequest["status"];
  }): Promise<boolean>;
  /** The request, or `undefined`. */
  getApprovalRequest(params: { id: string }): Promise<ApprovalRequest | undefined>;
  /** A campaign's approval requests, oldest first. */
  listApprovalRequests(params: { campaignId: string }): Promise<ApprovalRequest[]>;

  /**
   * Creates an execution unless one with the same (`campaignId`, `requestId`) exists. Atomic: of concurrent
   * calls with one request id, exactly one creates. Returns the stored execution and whether it was created.
   * Throws `ALREADY_EXISTS` when the execution's id is taken by another (campaign, request id).
   */
  createExecution(params: { execution: Execution }): Promise<{ execution: Execution; created: boolean }>;
  /** The execution, or `undefined`. */
  getExecution(params: { id: string }): Promise<Execution | undefined>;
  /** Replaces an execution (status, counts, times). Throws `NOT_FOUND` when absent. */
  updateExecution(params: { execution: Execution }): Promise<void>;
  /** Executions matching `filter`, ordered by id, paged. */
  listExecutions(params: { filter?: ExecutionFilter } & PageParams): Promise<Page<Execution>>;

  /**
   * Takes or renews the lease on `key` for `owner` until `now + ttlMs`. Atomic compare-and-set: succeeds when
   * the key is free, expired at `now`, or already held by `owner`. Returns whether `owner` holds it.
   */
  acquireLease(params: { key: string; owner: string; ttlMs: number; now: Date }): Promise<boolean>;
  /** Gives up `owner`'s lease on `key`; a lease held by another owner is left alone. */
  releaseLease(params: { key: string; owner: string }): Promise<void>;

  /** Appends an audit entry. Throws `ALREADY_EXISTS` when its id is taken. */
  appendAudit(params: { entry: AuditEntry }): Promise<void>;
  /** Audit entries matching `filter`, oldest first, paged (the cursor follows insertion order). */
  listAudit(params: { filter?: AuditFilter } & PageParams): Promise<Page<AuditEntry>>;
}

/** Every method of {@link Storage}, for a run-time check that an object implements it. */
export const STORAGE_METHODS = [
  "findSent",
  "record",
  "countSentSince",
  "summarize",
  "createCampaign",
  "getCampaign",
  "updateCampaign",
  "deleteCampaign",
  "listCampaigns",
  "putAudience",
  "getAudience",
  "listAudiences",
  "putChannelConfiguration",
  "getChannelConfiguration",
  "listChannelConfigurations",
  "putRole",
  "listRoles",
  "assignRole",
  "revokeRole",
  "listUserRoles",
  "putApprovalPolicy",
  "listApprovalPolicies",
  "putApprovalRequest",
  "getApprovalRequest",
  "listApprovalRequests",
  "createExecution",
  "getExecution",
  "updateExecution",
  "listExecutions",
  "acquireLease",
  "releaseLease",
  "appendAudit",
  "listAudit",
] as const satisfies readonly (keyof Storage)[];
