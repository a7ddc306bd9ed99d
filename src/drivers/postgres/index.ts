/**
 * The PostgreSQL {@link Storage}: `campaign-kit/postgres`. Needs the optional peer dependency `pg`.
 *
 * @packageDocumentation
 */
import type { Pool } from "pg";
import type { Storage } from "../../ports/storage.js";
import { campaignMethods } from "./campaigns.js";
import { executionMethods } from "./executions.js";
import { ledgerMethods } from "./ledger.js";
import { objectMethods } from "./objects.js";
import { createDb, DEFAULT_SCHEMA } from "./sql.js";

export { type MigrateOptions, migrate, SCHEMA_VERSION } from "./migrations.js";

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
 * {@link migrate} once before using it (at deploy or start-up); it creates the tables in `schema`.
 *
 * Every atomic operation of the contract is one SQL statement: campaign writes are
 * `UPDATE ... WHERE id = $1 AND version = $2`, `createExecution` is `INSERT ... ON CONFLICT DO NOTHING` on
 * (campaign, request id), `acquireLease` is a conditional upsert, and the ledger's `record` is one batched
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE outcome <> 'sent'`. So it is safe with many processes sharing
 * one database, and needs no transaction isolation above PostgreSQL's default.
 *
 * Free-form values (execution `context` and `recipients`, audit `detail`, configuration settings) are stored
 * as JSONB: they must be JSON values, and a `Date` inside them comes back as an ISO string. Errors are
 * `CampaignKitError`s: `ALREADY_EXISTS` for a taken id, `STORAGE_FAILED` (with the pg error as `cause`)
 * for anything PostgreSQL refuses.
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
  return {
    ...campaignMethods(db),
    ...objectMethods(db),
    ...executionMethods(db),
    ...ledgerMethods(db),
  };
}
