import type { Pool, PoolClient } from "pg";
import { CampaignKitError } from "../../errors.js";
import { createDb, type Db, DEFAULT_SCHEMA, guard, quoteIdent } from "./sql.js";
import { changesChannel, REPORTED_COLLECTIONS } from "./watch.js";

/** One schema change, applied once and recorded in `schema_migrations`. Never edit one that has shipped. */
interface Migration {
  version: number;
  name: string;
  sql: (db: Db) => string;
}

/*
 * Ids use COLLATE "C" so `ORDER BY id` is code-point order, as the Store contract says: pages and cursors must
 * not depend on the database's locale.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "documents and the delivery ledger",
    sql: ({ table }) => `
      CREATE TABLE ${table("documents")} (
        collection text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        version integer NOT NULL,
        keys jsonb NOT NULL,
        value jsonb NOT NULL,
        PRIMARY KEY (collection, id)
      );
      CREATE INDEX ON ${table("documents")} USING gin (keys jsonb_path_ops);

      CREATE TABLE ${table("delivery_ledger")} (
        message_id text PRIMARY KEY,
        campaign_id text NOT NULL,
        execution_id text NOT NULL,
        recipient_id text NOT NULL,
        channel text NOT NULL,
        outcome text NOT NULL,
        reason text,
        attempts integer NOT NULL,
        provider_message_id text,
        at timestamptz NOT NULL
      );
      CREATE INDEX ON ${table("delivery_ledger")} (campaign_id, execution_id);
      CREATE INDEX ON ${table("delivery_ledger")} (recipient_id, channel, at) WHERE outcome = 'sent';
    `,
  },
  {
    version: 2,
    name: "notify changes to the documents every call reads",
    // Row triggers, filtered by collection in WHEN so executions and audit entries never pay for them. The
    // notification is sent at commit, to every session listening on the schema's channel.
    sql: ({ table, schema, schemaName }) => {
      // As shipped: migration 5 widens the list.
      const collections = [
        "campaigns",
        "audiences",
        "channel-configurations",
        "roles",
        "role-assignments",
        "approval-policies",
        "approval-requests",
      ]
        .map((c) => `'${c}'`)
        .join(", ");
      const notify = `${schema}.${quoteIdent("notify_document_change")}`;
      return `
      CREATE FUNCTION ${notify}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('${changesChannel(schemaName)}', OLD.collection || ' ' || OLD.id);
        ELSE
          PERFORM pg_notify('${changesChannel(schemaName)}', NEW.collection || ' ' || NEW.id);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER document_written AFTER INSERT OR UPDATE ON ${table("documents")}
        FOR EACH ROW WHEN (NEW.collection IN (${collections})) EXECUTE FUNCTION ${notify}();
      CREATE TRIGGER document_deleted AFTER DELETE ON ${table("documents")}
        FOR EACH ROW WHEN (OLD.collection IN (${collections})) EXECUTE FUNCTION ${notify}();
    `;
    },
  },
  {
    version: 3,
    name: "the content experiment treatment of each message",
    // Nullable, without a default: adding it is a catalog change only, however large the ledger.
    sql: ({ table }) => `
      ALTER TABLE ${table("delivery_ledger")} ADD COLUMN treatment_id text;
    `,
  },
  {
    version: 4,
    name: "find ledger records by the provider's message id",
    // Delivery feedback names messages by the provider's id: without this index, each webhook scans the ledger.
    sql: ({ table }) => `
      CREATE INDEX delivery_ledger_provider_message_id_idx ON ${table("delivery_ledger")} (provider_message_id)
        WHERE provider_message_id IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: "notify changes to the suppression list too",
    // The kit caches whether a channel has any suppression, so a send with none skips its lookup.
    sql: ({ table, schema }) => {
      // Today's list of reported collections; a later change to it needs a migration of its own.
      const collections = REPORTED_COLLECTIONS.map((c) => `'${c}'`).join(", ");
      const notify = `${schema}.${quoteIdent("notify_document_change")}`;
      return `
      DROP TRIGGER document_written ON ${table("documents")};
      DROP TRIGGER document_deleted ON ${table("documents")};
      CREATE TRIGGER document_written AFTER INSERT OR UPDATE ON ${table("documents")}
        FOR EACH ROW WHEN (NEW.collection IN (${collections})) EXECUTE FUNCTION ${notify}();
      CREATE TRIGGER document_deleted AFTER DELETE ON ${table("documents")}
        FOR EACH ROW WHEN (OLD.collection IN (${collections})) EXECUTE FUNCTION ${notify}();
    `;
    },
  },
  {
    version: 6,
    name: "pending claims in the delivery ledger, and shared rate budgets",
    // A `pending` row is a message a worker claimed before sending; `claimed_by` names the worker. The rate
    // budget is one GCRA row per key (a campaign): its theoretical arrival time, in ms since the epoch.
    sql: ({ table }) => `
      ALTER TABLE ${table("delivery_ledger")} ADD COLUMN claimed_by text;
      CREATE TABLE ${table("rate_budgets")} (
        key text COLLATE "C" PRIMARY KEY,
        tat double precision NOT NULL
      );
    `,
  },
];

/**
 * The SQL of every migration, in order, for `schema`: for hosts whose migrations run through their own tool
 * (drizzle-kit, Prisma migrate, Atlas, Flyway). Apply each once, in order; {@link migrate} does exactly this
 * and records what it applied in `schema_migrations`.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { migrationSql } from "campaign-kit/postgres";
 *
 * for (const m of migrationSql({ schema: "campaign_kit" })) writeFileSync(`migrations/ck_${m.version}.sql`, m.sql);
 * ```
 */
export function migrationSql(
  options: { schema?: string } = {},
): { version: number; name: string; sql: string }[] {
  const db = createDb(undefined as unknown as Pool, options.schema ?? DEFAULT_SCHEMA);
  return MIGRATIONS.map((m) => ({
    version: m.version,
    name: m.name,
    sql: `CREATE SCHEMA IF NOT EXISTS ${db.schema};\n${m.sql(db).trim()}\n`,
  }));
}

/** The latest schema version {@link migrate} brings a database to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** The host's pool; one client is borrowed for the duration. */
  pool: Pool;
  /** The PostgreSQL schema holding campaign-kit's tables, created if absent. Default `campaign_kit`. */
  schema?: string;
}

/**
 * Tables of campaign-kit's pre-release layout (one table per object, before the document store): nothing was
 * released with them, so there is no data migration, and migrating over them would mix two layouts.
 */
async function refusePreReleaseTables(
  client: PoolClient,
  db: Db,
  applied: ReadonlySet<number>,
): Promise<void> {
  if (applied.size === 0) return;
  const documents = await client.query("SELECT to_regclass($1) AS name", [db.table("documents")]);
  if ((documents.rows[0] as { name: string | null }).name !== null) return;
  throw new CampaignKitError(
    "STORAGE_FAILED",
    `Schema ${db.schema} holds campaign-kit's pre-release tables, which this version replaces with a document ` +
      `store. Nothing released used them: drop the schema (DROP SCHEMA ${db.schema} CASCADE) and run migrate again.`,
  );
}

/** Arbitrary, fixed: the first half of the advisory lock key, so our lock never collides with the host's. */
const LOCK_CLASS = 0x63_6b_69_74; // "ckit"

/**
 * Creates or upgrades campaign-kit's tables in `schema`. Idempotent and safe to run from several processes at
 * once: a session advisory lock serializes concurrent runs, each migration is applied inside its own
 * transaction, and `schema_migrations` records which ones ran, so each runs exactly once. Run it at deploy or
 * start-up, before {@link postgresStorage} is used.
 *
 * @returns the versions applied by this call (empty when the schema was up to date).
 * @throws CampaignKitError `STORAGE_FAILED` when PostgreSQL refuses (permissions, connection...).
 * @example
 * ```ts
 * import pg from "pg";
 * import { migrate, postgresStorage } from "campaign-kit/postgres";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate({ pool });
 * const storage = postgresStorage({ pool });
 * ```
 */
export async function migrate(options: MigrateOptions): Promise<{ applied: number[] }> {
  const db = createDb(options.pool, options.schema ?? DEFAULT_SCHEMA);
  const name = options.schema ?? DEFAULT_SCHEMA;
  return guard("migrate the campaign-kit schema", async () => {
    const client = await options.pool.connect();
    let failure: Error | undefined;
    try {
      // A session lock (not a transaction one) so it spans the several transactions below.
      await client.query("SELECT pg_advisory_lock($1::int, hashtext($2))", [LOCK_CLASS, name]);
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${db.table("schema_migrations")} (
             version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const done = await client.query<{ version: number }>(
          `SELECT version FROM ${db.table("schema_migrations")}`,
        );
        const appliedBefore = new Set(done.rows.map((row) => row.version));
        await refusePreReleaseTables(client, db, appliedBefore);
        const applied: number[] = [];
        for (const migration of MIGRATIONS) {
          if (appliedBefore.has(migration.version)) continue;
          try {
            await client.query("BEGIN");
            await client.query(migration.sql(db));
            await client.query(
              `INSERT INTO ${db.table("schema_migrations")} (version, name) VALUES ($1, $2)`,
              [migration.version, migration.name],
            );
            await client.query("COMMIT");
          } catch (error) {
            await client.query("ROLLBACK").catch(() => {});
            throw error;
          }
          applied.push(migration.version);
        }
        return { applied };
      } finally {
        await client.query("SELECT pg_advisory_unlock($1::int, hashtext($2))", [LOCK_CLASS, name]);
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A failed client may hold a broken connection (or the lock, if unlocking failed): destroy it, as
      // closing the session is what releases a session lock for sure.
      client.release(failure);
    }
  });
}
