import type { Pool } from "pg";
import { CampaignKitError } from "../../errors.js";

/** What every query module needs: the host's pool and the schema-qualified name of each table. */
export interface Db {
  pool: Pool;
  /** The schema, quoted for SQL. */
  schema: string;
  /** `table("documents")` is `"campaign_kit"."documents"`. */
  table(name: TableName): string;
  /** The schema's name as given (unquoted). */
  schemaName: string;
  /** How writes are grouped into statements ({@link groupCommit}): sized from the pool. */
  groupCommit: { maxInFlight: number; maxItems: number };
}

/** Every table the driver owns. */
export type TableName = "schema_migrations" | "documents" | "delivery_ledger" | "rate_budgets";

/** The schema used when the host names none: its own, so our tables never meet the host's. */
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
  // A quarter of the pool per kind of write (documents inserted, replaced, ledger records) leaves the rest
  // for reads; each statement waits for its commit, so more in flight would only queue inside PostgreSQL.
  const poolSize = pool?.options?.max ?? 10;
  return {
    pool,
    schema: quoted,
    schemaName: schema,
    table: (name) => `${quoted}.${quoteIdent(name)}`,
    groupCommit: { maxInFlight: Math.max(1, Math.floor(poolSize / 4)), maxItems: 500 },
  };
}

const UNDEFINED_TABLE = "42P01";
const INVALID_SCHEMA = "3F000";

/**
 * Runs `fn`, turning what pg throws into `STORAGE_FAILED` with the pg error as `cause`; `what` completes
 * "Can't ..." in the message. The kit never puts that message in an HTTP answer.
 */
export async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CampaignKitError) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      code === UNDEFINED_TABLE || code === INVALID_SCHEMA
        ? " The tables are missing: run `migrate({ pool, schema })` from campaign-kit/postgres first."
        : "";
    const message = error instanceof Error ? error.message : String(error);
    throw new CampaignKitError("STORAGE_FAILED", `Can't ${what}: PostgreSQL said "${message}".${hint}`, {
      cause: error,
    });
  }
}
