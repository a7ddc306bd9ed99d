/**
 * The PostgreSQL {@link Storage}, and an audience source over the host's own tables
 * ({@link postgresAudiences}): `campaign-kit/postgres`. Needs the optional peer dependency `pg`.
 *
 * @packageDocumentation
 * @module campaign-kit/postgres
 */
import type { Pool } from "pg";
import type { Storage } from "../../ports/storage.js";
import { ledgerMethods } from "./ledger.js";
import { postgresRateBudget } from "./rate-budget.js";
import { createDb, DEFAULT_SCHEMA } from "./sql.js";
import { documentStore } from "./store.js";

export { type MigrateOptions, migrate, migrationSql, SCHEMA_VERSION } from "./migrations.js";

/** Options for {@link postgresStorage}. */
export interface PostgresStorageOptions {
  /**
   * The host's pool. campaign-kit never creates or ends it: size it for your load (each storage call borrows
   * one client for one statement) and end it on shutdown.
   */
  pool: Pool;
  /** The PostgreSQL schema holding campaign-kit's tables, as given to {@link migrate}. Default `campaign_kit`. */
  schema?: string;
}

/**
 * A durable {@link Storage} on PostgreSQL 13 or later, using the `pg` pool the host passes in. Run
 * {@link migrate} once before using it (at deploy or start-up); it creates two tables in `schema`:
 * `documents`, every document of every collection as JSONB keyed by (collection, id) with its index keys
 * under a GIN index, and `delivery_ledger`, one row per message.
 *
 * Every operation is one SQL statement: `insert` is `INSERT ... ON CONFLICT DO NOTHING`, `replace` and
 * `delete` are compare-and-set through `WHERE version = $n`, and the ledger's `record` is one batched
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE outcome <> 'sent'`. So it is safe with many processes sharing
 * one database, and needs no isolation above PostgreSQL's default. Values are JSONB: a `Date` inside them
 * comes back as its ISO string, which the kit parses back. Anything PostgreSQL refuses is `STORAGE_FAILED`,
 * with the pg error as `cause`.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createCampaignKit } from "campaign-kit";
 * import { migrate, postgresStorage } from "campaign-kit/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate({ pool });
 * const kit = await createCampaignKit({ storage: postgresStorage({ pool }) });
 * ```
 */
export function postgresStorage(options: PostgresStorageOptions): Storage {
  const db = createDb(options.pool, options.schema ?? DEFAULT_SCHEMA);
  return { ...documentStore(db), ...ledgerMethods(db), rateBudget: postgresRateBudget(db) };
}

export {
  type PostgresAudience,
  type PostgresAudiencesOptions,
  type PostgresProfileColumns,
  type PostgresTableName,
  postgresAudiences,
} from "./audiences.js";
