import type { Pool, PoolClient } from "pg";
import { CampaignKitError } from "../../errors.js";
import type { Page, PageParams } from "../../ports/storage.js";

/** What every query module needs: the host's pool and the schema-qualified name of each table. */
export interface Db {
  pool: Pool;
  /** The schema, quoted for SQL. */
  schema: string;
  /** `table("campaigns")` is `"campaign_kit"."campaigns"`. */
  table(name: TableName): string;
}

/** Every table the adapter owns. */
export type TableName =
  | "schema_migrations"
  | "campaigns"
  | "audiences"
  | "channel_configurations"
  | "roles"
  | "role_assignments"
  | "approval_policies"
  | "approval_requests"
  | "executions"
  | "leases"
  | "audit_log"
  | "delivery_ledger";

/** The schema used when the host names none: its own, so our `campaigns` never meets the host's. */
export const DEFAULT_SCHEMA = "campaign_kit";

/** Quotes an SQL identifier; the schema name comes from configuration, never from end users, but still. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `A PostgreSQL schema name is 1 to 63 bytes; got '${name}'.`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** The query context for `schema`. */
export function createDb(pool: Pool, schema: string): Db {
  const quoted = quoteIdent(schema);
  return { pool, schema: quoted, table: (name) => `${quoted}.${quoteIdent(name)}` };
}

const UNIQUE_VIOLATION = "23505";
const UNDEFINED_TABLE = "42P01";
const INVALID_SCHEMA = "3F000";

/**
 * Turns a pg error into a {@link CampaignKitError}: unique violations are `ALREADY_EXISTS` (the kit's code for
 * a taken id), everything else `STORAGE_FAILED` with the pg error as `cause`.
 */
export function toStorageError(error: unknown, what: string): CampaignKitError {
  if (error instanceof CampaignKitError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === UNIQUE_VIOLATION) {
    return new CampaignKitError("ALREADY_EXISTS", `Can't ${what}: an object with this id already exists.`, {
      cause: error,
    });
  }
  const hint =
    code === UNDEFINED_TABLE || code === INVALID_SCHEMA
      ? " The tables are missing: run `migrate({ pool, schema })` from campaign-kit/postgres first."
      : "";
  const message = error instanceof Error ? error.message : String(error);
  return new CampaignKitError("STORAGE_FAILED", `Can't ${what}: PostgreSQL said "${message}".${hint}`, {
    cause: error,
  });
}

/** Runs `fn`, wrapping whatever pg throws; `what` completes "Can't ..." in the message. */
export async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toStorageError(error, what);
  }
}

/** Runs `fn` inside a transaction on one client of the pool. */
export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The row limit of a page: 50 by default, between 1 and 500. */
export function pageLimit(params: PageParams): number {
  const limit = params.limit ?? 50;
  return Math.min(Math.max(Math.trunc(Number.isFinite(limit) ? limit : 50), 1), 500);
}

/**
 * Cuts the `limit + 1` rows a page query fetched into a page: the extra row only says another page exists,
 * which spares a count query.
 */
export function toPage<T>(items: T[], limit: number, cursorOf: (item: T) => string): Page<T> {
  if (items.length <= limit) return { items };
  const kept = items.slice(0, limit);
  return { items: kept, nextCursor: cursorOf(kept[kept.length - 1] as T) };
}

/**
 * Builds a WHERE clause from conditions, numbering parameters as it goes: `where.add("status = ANY($)", v)`
 * replaces `$` with the next `$n`.
 */
export class Where {
  readonly values: unknown[] = [];
  private readonly conditions: string[] = [];

  add(condition: string, value: unknown): this {
    this.values.push(value);
    this.conditions.push(condition.replace("$", `$${this.values.length}`));
    return this;
  }

  /** The next parameter placeholder, for LIMIT and the like. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  toString(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(" AND ")}` : "";
  }
}
