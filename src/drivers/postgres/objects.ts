import type { Storage } from "../../ports/storage.js";
import {
  approvalRequestFromRow,
  audienceFromRow,
  configurationFromRow,
  policyFromRow,
  type Row,
  roleFromRow,
} from "./rows.js";
import { type Db, guard, pageLimit, toPage, Where } from "./sql.js";

type ObjectMethods = Pick<
  Storage,
  | "putAudience"
  | "getAudience"
  | "listAudiences"
  | "putChannelConfiguration"
  | "getChannelConfiguration"
  | "listChannelConfigurations"
  | "putRole"
  | "listRoles"
  | "assignRole"
  | "revokeRole"
  | "listUserRoles"
  | "putApprovalPolicy"
  | "listApprovalPolicies"
  | "putApprovalRequest"
  | "getApprovalRequest"
  | "listApprovalRequests"
>;

const REQUEST_COLUMNS = [
  "id",
  "campaign_id",
  "campaign_version",
  "policy_id",
  "status",
  "requested_by",
  "requested_at",
  "decided_by",
  "decided_at",
  "comment",
] as const;

/** `INSERT ... ON CONFLICT (id) DO UPDATE` of every column: a put is one atomic upsert. */
function upsert(table: string, columns: readonly string[]): string {
  const values = columns.map((_, index) => `$${index + 1}`).join(", ");
  const updates = columns
    .slice(1)
    .map((column) => `${column} = excluded.${column}`)
    .join(", ");
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${values}) ON CONFLICT (id) DO UPDATE SET ${updates}`;
}

/** The plain keyed objects of {@link postgresStorage}: audiences, configurations, roles, approvals. */
export function objectMethods(db: Db): ObjectMethods {
  const audiences = db.table("audiences");
  const configurations = db.table("channel_configurations");
  const roles = db.table("roles");
  const assignments = db.table("role_assignments");
  const policies = db.table("approval_policies");
  const requests = db.table("approval_requests");

  async function one<T>(sql: string, values: unknown[], map: (row: Row) => T): Promise<T | undefined> {
    const result = await db.pool.query(sql, values);
    return result.rows[0] === undefined ? undefined : map(result.rows[0]);
  }

  return {
    putAudience: ({ audience: a }) =>
      guard(`store audience '${a.id}'`, async () => {
        await db.pool.query(
          upsert(audiences, [
            "id",
            "name",
            "description",
            "status",
            "identity_namespace",
            "estimated_size",
            "evaluated_at",
          ]),
          [
            a.id,
            a.name,
            a.description ?? null,
            a.status,
            a.identityNamespace,
            a.estimatedSize ?? null,
            a.evaluatedAt ?? null,
          ],
        );
      }),
    getAudience: ({ id }) =>
      guard(`read audience '${id}'`, () =>
        one(`SELECT * FROM ${audiences} WHERE id = $1`, [id], audienceFromRow),
      ),
    listAudiences: (paging) =>
      guard("list audiences", async () => {
        const limit = pageLimit(paging);
        const where = new Where();
        if (paging.cursor !== undefined) where.add("id > $", paging.cursor);
        const result = await db.pool.query(
          `SELECT * FROM ${audiences} ${where} ORDER BY id LIMIT ${where.param(limit + 1)}`,
          where.values,
        );
        return toPage(result.rows.map(audienceFromRow), limit, (audience) => audience.id);
      }),

    putChannelConfiguration: ({ configuration: c }) =>
      guard(`store channel configuration '${c.id}'`, async () => {
        await db.pool.query(
          upsert(configurations, [
            "id",
            "channel",
            "name",
            "purpose",
            "status",
            "settings",
            "created_at",
            "updated_at",
          ]),
          [
            c.id,
            c.channel,
            c.name,
            c.purpose,
            c.status,
            JSON.stringify(c.settings),
            c.createdAt ?? null,
            c.updatedAt ?? null,
          ],
        );
      }),
    getChannelConfiguration: ({ id }) =>
      guard(`read channel configuration '${id}'`, () =>
        one(`SELECT * FROM ${configurations} WHERE id = $1`, [id], configurationFromRow),
      ),
    listChannelConfigurations: ({ channel, ...paging }) =>
      guard("list channel configurations", async () => {
        const limit = pageLimit(paging);
        const where = new Where();
        if (paging.cursor !== undefined) where.add("id > $", paging.cursor);
        if (channel !== undefined) where.add("channel = $", channel);
        const result = await db.pool.query(
          `SELECT * FROM ${configurations} ${where} ORDER BY id LIMIT ${where.param(limit + 1)}`,
          where.values,
        );
        return toPage(result.rows.map(configurationFromRow), limit, (configuration) => configuration.id);
      }),

    putRole: ({ role }) =>
      guard(`store role '${role.id}'`, async () => {
        await db.pool.query(upsert(roles, ["id", "name", "description", "permissions"]), [
          role.id,
          role.name,
          role.description ?? null,
          role.permissions,
        ]);
      }),
    listRoles: () =>
      guard("list roles", async () => {
        const result = await db.pool.query(`SELECT * FROM ${roles} ORDER BY id`);
        return result.rows.map(roleFromRow);
      }),
    assignRole: ({ assignment }) =>
      guard(`assign role '${assignment.roleId}'`, async () => {
        await db.pool.query(
          `INSERT INTO ${assignments} (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [assignment.userId, assignment.roleId],
        );
      }),
    revokeRole: ({ assignment }) =>
      guard(`revoke role '${assignment.roleId}'`, async () => {
        const result = await db.pool.query(`DELETE FROM ${assignments} WHERE user_id = $1 AND role_id = $2`, [
          assignment.userId,
          assignment.roleId,
        ]);
        return (result.rowCount ?? 0) > 0;
      }),
    listUserRoles: ({ userId }) =>
      guard(`list the roles of user '${userId}'`, async () => {
        const result = await db.pool.query<{ role_id: string }>(
          `SELECT role_id FROM ${assignments} WHERE user_id = $1 ORDER BY role_id`,
          [userId],
        );
        return result.rows.map((row) => row.role_id);
      }),

    putApprovalPolicy: ({ policy: p }) =>
      guard(`store approval policy '${p.id}'`, async () => {
        await db.pool.query(
          upsert(policies, [
            "id",
            "name",
            "status",
            "activated_at",
            "conditions",
            "approver_users",
            "approver_roles",
            "block_self_approval",
          ]),
          [
            p.id,
            p.name,
            p.status,
            p.activatedAt ?? null,
            JSON.stringify(p.conditions),
            p.approvers.users,
            p.approvers.roles,
            p.blockSelfApproval,
          ],
        );
      }),
    listApprovalPolicies: () =>
      guard("list approval policies", async () => {
        const result = await db.pool.query(`SELECT * FROM ${policies} ORDER BY id`);
        return result.rows.map(policyFromRow);
      }),
    putApprovalRequest: ({ request: r, ifStatus }) =>
      guard(`store approval request '${r.id}'`, async () => {
        const values = [
          r.id,
          r.campaignId,
          r.campaignVersion,
          r.policyId ?? null,
          r.status,
          r.requestedBy,
          r.requestedAt,
          r.decidedBy ?? null,
          r.decidedAt ?? null,
          r.comment ?? null,
        ];
        if (ifStatus === undefined) {
          await db.pool.query(upsert(requests, REQUEST_COLUMNS), values);
          return true;
        }
        // The compare-and-set is the UPDATE's own WHERE, checked on the locked row: one statement, atomic.
        const sets = REQUEST_COLUMNS.slice(1).map((column, index) => `${column} = $${index + 2}`);
        const result = await db.pool.query(
          `UPDATE ${requests} SET ${sets.join(", ")} WHERE id = $1 AND status = $${values.length + 1}`,
          [...values, ifStatus],
        );
        return result.rowCount === 1;
      }),
    getApprovalRequest: ({ id }) =>
      guard(`read approval request '${id}'`, () =>
        one(`SELECT * FROM ${requests} WHERE id = $1`, [id], approvalRequestFromRow),
      ),
    listApprovalRequests: ({ campaignId }) =>
      guard(`list the approval requests of campaign '${campaignId}'`, async () => {
        const result = await db.pool.query(
          `SELECT * FROM ${requests} WHERE campaign_id = $1 ORDER BY requested_at, id`,
          [campaignId],
        );
        return result.rows.map(approvalRequestFromRow);
      }),
  };
}
