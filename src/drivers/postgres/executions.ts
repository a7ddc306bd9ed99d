import { CampaignKitError } from "../../errors.js";
import type { Storage } from "../../ports/storage.js";
import { auditFromRow, auditValues, EXECUTION_COLUMNS, executionFromRow, executionValues } from "./rows.js";
import { type Db, guard, pageLimit, toPage, Where } from "./sql.js";

type ExecutionMethods = Pick<
  Storage,
  | "createExecution"
  | "getExecution"
  | "updateExecution"
  | "listExecutions"
  | "acquireLease"
  | "releaseLease"
  | "appendAudit"
  | "listAudit"
>;

const executionPlaceholders = EXECUTION_COLUMNS.map((_, index) => `$${index + 1}`).join(", ");
const executionAssignments = EXECUTION_COLUMNS.map((column, index) => `${column} = $${index + 1}`)
  .slice(1)
  .join(", ");

/** Executions, scheduler leases and the audit log of {@link postgresStorage}. */
export function executionMethods(db: Db): ExecutionMethods {
  const executions = db.table("executions");
  const leases = db.table("leases");
  const audit = db.table("audit_log");

  return {
    createExecution: ({ execution }) =>
      guard(`create execution '${execution.id}'`, async () => {
        // ON CONFLICT on the request key makes concurrent triggers wait for the first and then do nothing; the
        // read that follows, a new statement, sees the winner's committed row.
        const inserted = await db.pool.query(
          `INSERT INTO ${executions} (${EXECUTION_COLUMNS.join(", ")}) VALUES (${executionPlaceholders})
           ON CONFLICT (campaign_id, request_id) DO NOTHING RETURNING *`,
          executionValues(execution),
        );
        if (inserted.rows[0] !== undefined)
          return { execution: executionFromRow(inserted.rows[0]), created: true };
        const existing = await db.pool.query(
          `SELECT * FROM ${executions} WHERE campaign_id = $1 AND request_id = $2`,
          [execution.campaignId, execution.requestId],
        );
        if (existing.rows[0] === undefined) {
          // Only when the winner was deleted in between, which the kit never does.
          throw new CampaignKitError(
            "STORAGE_FAILED",
            "The execution of this request vanished; retry the call.",
          );
        }
        return { execution: executionFromRow(existing.rows[0]), created: false };
      }),

    getExecution: ({ id }) =>
      guard(`read execution '${id}'`, async () => {
        const result = await db.pool.query(`SELECT * FROM ${executions} WHERE id = $1`, [id]);
        return result.rows[0] === undefined ? undefined : executionFromRow(result.rows[0]);
      }),

    updateExecution: ({ execution }) =>
      guard(`update execution '${execution.id}'`, async () => {
        const result = await db.pool.query(
          `UPDATE ${executions} SET ${executionAssignments} WHERE id = $1`,
          executionValues(execution),
        );
        if (result.rowCount === 0) {
          throw new CampaignKitError(
            "NOT_FOUND",
            `Can't update execution '${execution.id}': it does not exist.`,
            {
              details: { id: execution.id },
            },
          );
        }
      }),

    listExecutions: ({ filter = {}, ...paging }) =>
      guard("list executions", async () => {
        const limit = pageLimit(paging);
        const where = new Where();
        if (paging.cursor !== undefined) where.add("id > $", paging.cursor);
        if (filter.campaignId !== undefined) where.add("campaign_id = $", filter.campaignId);
        if (filter.requestId !== undefined) where.add("request_id = $", filter.requestId);
        if (filter.status !== undefined) where.add("status = ANY($::text[])", filter.status);
        if (filter.kind !== undefined) where.add("kind = $", filter.kind);
        const result = await db.pool.query(
          `SELECT * FROM ${executions} ${where} ORDER BY id LIMIT ${where.param(limit + 1)}`,
          where.values,
        );
        return toPage(result.rows.map(executionFromRow), limit, (execution) => execution.id);
      }),

    acquireLease: ({ key, owner, ttlMs, now }) =>
      guard(`acquire lease '${key}'`, async () => {
        const until = new Date(now.getTime() + ttlMs);
        // One upsert: the WHERE of DO UPDATE is evaluated on the locked, latest row, so of concurrent callers
        // only those allowed (same owner, or expired lease) take it, and the first of those changes the owner.
        const result = await db.pool.query(
          `INSERT INTO ${leases} (key, owner, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE ${leases}.owner = excluded.owner OR ${leases}.expires_at <= $4
           RETURNING owner`,
          [key, owner, until, now],
        );
        return result.rows.length > 0;
      }),

    releaseLease: ({ key, owner }) =>
      guard(`release lease '${key}'`, async () => {
        await db.pool.query(`DELETE FROM ${leases} WHERE key = $1 AND owner = $2`, [key, owner]);
      }),

    appendAudit: ({ entry }) =>
      guard(`append audit entry '${entry.id}'`, async () => {
        await db.pool.query(
          `INSERT INTO ${audit} (id, at, actor_id, action, object_type, object_id, outcome, from_status, to_status,
             error_code, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          auditValues(entry),
        );
      }),

    listAudit: ({ filter = {}, ...paging }) =>
      guard("list the audit log", async () => {
        const limit = pageLimit(paging);
        const where = new Where();
        // The cursor is the insertion sequence number, opaque to callers.
        if (paging.cursor !== undefined) {
          if (!/^\d{1,18}$/.test(paging.cursor)) {
            throw new CampaignKitError(
              "VALIDATION_FAILED",
              `'${paging.cursor}' is not a cursor listAudit returned.`,
            );
          }
          where.add("seq > $::bigint", paging.cursor);
        }
        if (filter.objectId !== undefined) where.add("object_id = $", filter.objectId);
        if (filter.objectType !== undefined) where.add("object_type = $", filter.objectType);
        if (filter.actorId !== undefined) where.add("actor_id = $", filter.actorId);
        const result = await db.pool.query(
          `SELECT * FROM ${audit} ${where} ORDER BY seq LIMIT ${where.param(limit + 1)}`,
          where.values,
        );
        const page = toPage(result.rows, limit, (row) => String(row.seq));
        return { ...page, items: page.items.map(auditFromRow) };
      }),
  };
}
