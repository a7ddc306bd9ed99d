import type { Pool } from "pg";
import { createDb, type Db, DEFAULT_SCHEMA, guard } from "./sql.js";

/** One schema change, applied once and recorded in `schema_migrations`. Never edit one that has shipped. */
interface Migration {
  version: number;
  name: string;
  sql: (db: Db) => string;
}

/*
 * Ids and text keys use COLLATE "C" so `ORDER BY id` is code-point order, as in memoryStorage: pages and
 * cursors must not depend on the database's locale.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial tables",
    sql: ({ table }) => `
      CREATE TABLE ${table("campaigns")} (
        id text COLLATE "C" PRIMARY KEY,
        type text NOT NULL,
        category text NOT NULL,
        status text NOT NULL,
        version integer NOT NULL,
        name text NOT NULL,
        description text,
        tags text[] NOT NULL,
        channels text[] NOT NULL,
        audience_id text,
        identity_namespace text NOT NULL,
        replaces_campaign_id text,
        create_new_profile boolean,
        body jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_by text NOT NULL,
        activated_at timestamptz
      );
      CREATE INDEX ON ${table("campaigns")} (status);
      CREATE INDEX ON ${table("campaigns")} USING gin (tags);
      CREATE INDEX ON ${table("campaigns")} USING gin (channels);
      CREATE INDEX ON ${table("campaigns")} (replaces_campaign_id) WHERE replaces_campaign_id IS NOT NULL;

      CREATE TABLE ${table("audiences")} (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        description text,
        status text NOT NULL,
        identity_namespace text NOT NULL,
        estimated_size bigint,
        evaluated_at timestamptz
      );

      CREATE TABLE ${table("channel_configurations")} (
        id text COLLATE "C" PRIMARY KEY,
        channel text NOT NULL,
        name text NOT NULL,
        purpose text NOT NULL,
        status text NOT NULL,
        settings jsonb NOT NULL,
        created_at timestamptz,
        updated_at timestamptz
      );
      CREATE INDEX ON ${table("channel_configurations")} (channel, id);

      CREATE TABLE ${table("roles")} (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        description text,
        permissions text[] NOT NULL
      );

      CREATE TABLE ${table("role_assignments")} (
        user_id text COLLATE "C" NOT NULL,
        role_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (user_id, role_id)
      );

      CREATE TABLE ${table("approval_policies")} (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        activated_at timestamptz,
        conditions jsonb NOT NULL,
        approver_users text[] NOT NULL,
        approver_roles text[] NOT NULL,
        block_self_approval boolean NOT NULL
      );

      CREATE TABLE ${table("approval_requests")} (
        id text COLLATE "C" PRIMARY KEY,
        campaign_id text NOT NULL,
        campaign_version integer NOT NULL,
        policy_id text,
        status text NOT NULL,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL,
        decided_by text,
        decided_at timestamptz,
        comment text
      );
      CREATE INDEX ON ${table("approval_requests")} (campaign_id, requested_at);

      CREATE TABLE ${table("executions")} (
        id text COLLATE "C" PRIMARY KEY,
        campaign_id text NOT NULL,
        request_id text NOT NULL,
        kind text NOT NULL,
        status text NOT NULL,
        audience_id text,
        context jsonb,
        execute_at timestamptz,
        targeted_profile_count bigint NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        error text,
        UNIQUE (campaign_id, request_id)
      );
      CREATE INDEX ON ${table("executions")} (status);

      CREATE TABLE ${table("leases")} (
        key text PRIMARY KEY,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL
      );

      CREATE TABLE ${table("audit_log")} (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        at timestamptz NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        object_type text NOT NULL,
        object_id text NOT NULL,
        outcome text NOT NULL,
        from_status text,
        to_status text,
        error_code text,
        detail jsonb
      );
      CREATE INDEX ON ${table("audit_log")} (object_id, seq);
      CREATE INDEX ON ${table("audit_log")} (actor_id, seq);

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
    name: "execution recipients, resume and audience size",
    // All nullable, so rows written by version 1 stay valid: absent fields, as before.
    // audience_size is bigint like audiences.estimated_size: an audience may hold more than 2^31 profiles.
    sql: ({ table }) => `
      ALTER TABLE ${table("executions")}
        ADD COLUMN recipients jsonb,
        ADD COLUMN resume_at timestamptz,
        ADD COLUMN audience_size bigint;
    `,
  },
];

/** The latest schema version {@link migrate} brings a database to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Options for {@link migrate}. */
export interface MigrateOptions {
  /** The host's pool; one client is borrowed for the duration. */
  pool: Pool;
  /** The PostgreSQL schema holding campaign-kit's tables, created if absent. Default `campaign_kit`. */
  schema?: string;
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
