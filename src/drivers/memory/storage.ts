import { CampaignKitError } from "../../errors.js";
import type { ApprovalPolicy, ApprovalRequest } from "../../model/approval.js";
import type { Audience } from "../../model/audience.js";
import type { AuditEntry } from "../../model/audit.js";
import type { Campaign } from "../../model/campaign.js";
import type { ChannelConfiguration } from "../../model/channel-configuration.js";
import type { Execution } from "../../model/execution.js";
import type { Role } from "../../model/roles.js";
import type { Page, PageParams, Storage } from "../../ports/storage.js";
import { memoryLedger } from "./ledger.js";

/*
 * Every method does its check and its write with no `await` in between, so each runs to completion before
 * another starts: that is what makes the compare-and-set operations atomic in one process.
 */

const copy = structuredClone;

/** The page size `params` asks for: 50 by default, truncated and clamped to 1..500. */
function pageLimit(params: PageParams): number {
  return Math.min(
    Math.max(Math.trunc(Number.isFinite(params.limit) ? (params.limit as number) : 50), 1),
    500,
  );
}

/** The items after `cursor`, at most {@link pageLimit} of them. */
function page<T>(sorted: readonly T[], params: PageParams, keyOf: (item: T) => string): Page<T> {
  const limit = pageLimit(params);
  const { cursor } = params;
  const start = cursor === undefined ? 0 : sorted.findIndex((item) => keyOf(item) > cursor);
  const rest = start === -1 ? [] : sorted.slice(start);
  const items = rest.slice(0, limit).map((item) => copy(item));
  const last = items[items.length - 1];
  return rest.length > limit && last !== undefined ? { items, nextCursor: keyOf(last) } : { items };
}

/** The values of `map` ordered by id, in code-point order (as PostgreSQL's `COLLATE "C"`). */
function byId<T extends { id: string }>(
  map: ReadonlyMap<string, T>,
  keep: (item: T) => boolean = () => true,
): T[] {
  return [...map.values()].filter(keep).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function notFound(what: string, id: string): CampaignKitError {
  return new CampaignKitError("NOT_FOUND", `Can't find ${what} '${id}'; check the id.`, { details: { id } });
}

/**
 * The embedded {@link Storage}: everything in `Map`s, gone when the process exits. The default of
 * `createCampaignKit`, and the reference the conformance suite is written against; use it for tests, demos
 * and single-process hosts that keep nothing, and `postgresStorage` from `campaign-kit/postgres` otherwise.
 *
 * Values are deep-copied (`structuredClone`) on the way in and out, so mutating an object after storing it,
 * or one read back, never changes what is stored. Its ledger is a {@link memoryLedger}, which copies the
 * records' values into its own columns.
 *
 * @example
 * ```ts
 * import { createCampaignKit, memoryStorage } from "campaign-kit";
 *
 * const storage = memoryStorage();
 * const kit = await createCampaignKit({ storage });
 * await storage.getCampaign({ id: "spring-sale" }); // undefined until the kit creates it
 * ```
 */
export function memoryStorage(): Storage {
  const ledger = memoryLedger();
  const campaigns = new Map<string, Campaign>();
  const audiences = new Map<string, Audience>();
  const configurations = new Map<string, ChannelConfiguration>();
  const roles = new Map<string, Role>();
  const userRoles = new Map<string, Set<string>>();
  const policies = new Map<string, ApprovalPolicy>();
  const requests = new Map<string, ApprovalRequest>();
  const executions = new Map<string, Execution>();
  // campaignId \0 requestId -> execution id: the idempotency key of triggers.
  const executionsByRequest = new Map<string, string>();
  const leases = new Map<string, { owner: string; expiresAt: number }>();
  const audit: AuditEntry[] = [];
  const auditIds = new Set<string>();

  /** Throws `NOT_FOUND` or `CONFLICT` unless the campaign is stored at `expectedVersion`. */
  function checkVersion(id: string, expectedVersion: number, verb: string): void {
    const stored = campaigns.get(id);
    if (stored === undefined) throw notFound("campaign", id);
    if (stored.version !== expectedVersion) {
      throw new CampaignKitError(
        "CONFLICT",
        `Can't ${verb} campaign '${id}' at version ${expectedVersion}: it is at version ${stored.version}. Read it again and retry.`,
        { details: { id, expectedVersion, actualVersion: stored.version } },
      );
    }
  }

  const storage: Storage = {
    findSent: (params) => ledger.findSent(params),
    findRecorded: (params) => ledger.findRecorded(params),
    // The ledger copies each record's values into its own columns: no clone needed.
    record: (params) => ledger.record(params),
    countSentSince: (params) => ledger.countSentSince(params),
    summarize: async (params) => copy(await ledger.summarize(params)),

    async createCampaign({ campaign }) {
      if (campaigns.has(campaign.id)) {
        throw new CampaignKitError(
          "ALREADY_EXISTS",
          `Can't create campaign '${campaign.id}': the id is taken.`,
          {
            details: { id: campaign.id },
          },
        );
      }
      campaigns.set(campaign.id, copy(campaign));
    },
    getCampaign: async ({ id }) => copy(campaigns.get(id)),
    async updateCampaign({ campaign, expectedVersion }) {
      checkVersion(campaign.id, expectedVersion, "update");
      campaigns.set(campaign.id, copy(campaign));
    },
    async deleteCampaign({ id, expectedVersion }) {
      checkVersion(id, expectedVersion, "delete");
      campaigns.delete(id);
    },
    async listCampaigns({ filter = {}, ...paging }) {
      const text = filter.text?.toLowerCase();
      const matches = (c: Campaign) =>
        (filter.status === undefined || filter.status.includes(c.status)) &&
        (filter.type === undefined || c.type === filter.type) &&
        (filter.category === undefined || c.category === filter.category) &&
        (filter.channel === undefined || c.actions.some((action) => action.channel === filter.channel)) &&
        (filter.tags === undefined || filter.tags.every((tag) => c.tags.includes(tag))) &&
        (text === undefined || c.name.toLowerCase().includes(text)) &&
        (filter.replacesCampaignId === undefined || c.replacesCampaignId === filter.replacesCampaignId);
      return page(byId(campaigns, matches), paging, (c) => c.id);
    },

    async putAudience({ audience }) {
      audiences.set(audience.id, copy(audience));
    },
    getAudience: async ({ id }) => copy(audiences.get(id)),
    listAudiences: async (paging) => page(byId(audiences), paging, (a) => a.id),

    async putChannelConfiguration({ configuration }) {
      configurations.set(configuration.id, copy(configuration));
    },
    getChannelConfiguration: async ({ id }) => copy(configurations.get(id)),
    listChannelConfigurations: async ({ channel, ...paging }) =>
      page(
        byId(configurations, (c) => channel === undefined || c.channel === channel),
        paging,
        (c) => c.id,
      ),

    async putRole({ role }) {
      roles.set(role.id, copy(role));
    },
    listRoles: async () => copy(byId(roles)),
    async assignRole({ assignment }) {
      const held = userRoles.get(assignment.userId) ?? new Set<string>();
      held.add(assignment.roleId);
      userRoles.set(assignment.userId, held);
    },
    revokeRole: async ({ assignment }) =>
      userRoles.get(assignment.userId)?.delete(assignment.roleId) ?? false,
    listUserRoles: async ({ userId }) => [...(userRoles.get(userId) ?? [])].sort(),

    async putApprovalPolicy({ policy }) {
      policies.set(policy.id, copy(policy));
    },
    listApprovalPolicies: async () => copy(byId(policies)),
    async putApprovalRequest({ request, ifStatus }) {
      if (ifStatus !== undefined && requests.get(request.id)?.status !== ifStatus) return false;
      requests.set(request.id, copy(request));
      return true;
    },
    getApprovalRequest: async ({ id }) => copy(requests.get(id)),
    listApprovalRequests: async ({ campaignId }) =>
      copy(
        byId(requests, (r) => r.campaignId === campaignId).sort(
          (a, b) => a.requestedAt.getTime() - b.requestedAt.getTime(),
        ),
      ),

    async createExecution({ execution }) {
      const key = `${execution.campaignId}\u0000${execution.requestId}`;
      const existingId = executionsByRequest.get(key);
      const existing = existingId === undefined ? undefined : executions.get(existingId);
      if (existing !== undefined) return { execution: copy(existing), created: false };
      if (executions.has(execution.id)) {
        throw new CampaignKitError(
          "ALREADY_EXISTS",
          `Can't create execution '${execution.id}': the id is taken by another request.`,
          { details: { id: execution.id } },
        );
      }
      executions.set(execution.id, copy(execution));
      executionsByRequest.set(key, execution.id);
      return { execution: copy(execution), created: true };
    },
    getExecution: async ({ id }) => copy(executions.get(id)),
    async updateExecution({ execution }) {
      const stored = executions.get(execution.id);
      if (stored === undefined) throw notFound("execution", execution.id);
      executionsByRequest.delete(`${stored.campaignId}\u0000${stored.requestId}`);
      executionsByRequest.set(`${execution.campaignId}\u0000${execution.requestId}`, execution.id);
      executions.set(execution.id, copy(execution));
    },
    async listExecutions({ filter = {}, ...paging }) {
      // An API trigger looks its request id up on every call: answer from the index, not a scan.
      if (filter.campaignId !== undefined && filter.requestId !== undefined) {
        const id = executionsByRequest.get(`${filter.campaignId}\u0000${filter.requestId}`);
        const found = id === undefined ? undefined : executions.get(id);
        const wanted =
          found !== undefined &&
          (filter.status === undefined || filter.status.includes(found.status)) &&
          (filter.kind === undefined || found.kind === filter.kind);
        return page(wanted ? [found] : [], paging, (e) => e.id);
      }
      const matches = (e: Execution) =>
        (filter.campaignId === undefined || e.campaignId === filter.campaignId) &&
        (filter.requestId === undefined || e.requestId === filter.requestId) &&
        (filter.status === undefined || filter.status.includes(e.status)) &&
        (filter.kind === undefined || e.kind === filter.kind);
      return page(byId(executions, matches), paging, (e) => e.id);
    },

    async acquireLease({ key, owner, ttlMs, now }) {
      const lease = leases.get(key);
      if (lease !== undefined && lease.owner !== owner && lease.expiresAt > now.getTime()) return false;
      leases.set(key, { owner, expiresAt: now.getTime() + ttlMs });
      return true;
    },
    async releaseLease({ key, owner }) {
      if (leases.get(key)?.owner === owner) leases.delete(key);
    },

    async appendAudit({ entry }) {
      if (auditIds.has(entry.id)) {
        throw new CampaignKitError(
          "ALREADY_EXISTS",
          `Can't append audit entry '${entry.id}': the id is taken.`,
          {
            details: { id: entry.id },
          },
        );
      }
      auditIds.add(entry.id);
      audit.push(copy(entry));
    },
    async listAudit({ filter = {}, ...paging }) {
      // The cursor is a position in the log, which only grows: stable while entries are appended.
      const limit = pageLimit(paging);
      const items: AuditEntry[] = [];
      let index = paging.cursor === undefined ? 0 : Number(paging.cursor);
      if (!Number.isSafeInteger(index) || index < 0) {
        throw new CampaignKitError(
          "VALIDATION_FAILED",
          `'${paging.cursor}' is not a cursor listAudit returned.`,
        );
      }
      for (; index < audit.length; index++) {
        const entry = audit[index] as AuditEntry;
        if (filter.objectId !== undefined && entry.objectId !== filter.objectId) continue;
        if (filter.objectType !== undefined && entry.objectType !== filter.objectType) continue;
        if (filter.actorId !== undefined && entry.actorId !== filter.actorId) continue;
        if (items.length === limit) return { items, nextCursor: String(index) };
        items.push(copy(entry));
      }
      return { items };
    },
  };
  return storage;
}
