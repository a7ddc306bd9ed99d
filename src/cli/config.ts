import type { CampaignKit, CampaignKitOptions } from "../kit/create-campaign-kit.js";

/**
 * A `pg` pool, typed by the few members the CLI uses so `campaign-kit/cli` needs no `@types/pg`: a
 * `new pg.Pool(...)` fits it.
 */
export interface PostgresPool {
  /** Borrows a client (what `migrate` does, for its advisory lock and transactions). */
  connect(): Promise<unknown>;
  /** Runs one statement on any client. */
  query(...args: never[]): unknown;
  /** Closes every client; the CLI calls it once the command is done, unless the config has `close`. */
  end(): Promise<void>;
}

/** The kit, as a config gives it: its options, a kit already built, or a function (sync or async) making either. */
export type KitSource =
  | CampaignKitOptions
  | CampaignKit
  | (() => CampaignKitOptions | CampaignKit | Promise<CampaignKitOptions | CampaignKit>);

/**
 * What a `campaign-kit.config.ts` default-exports: how to build the kit, who acts, and where PostgreSQL
 * migrations go. Wrap it in {@link defineConfig} for types.
 *
 * @example
 * ```ts
 * // campaign-kit.config.ts
 * import pg from "pg";
 * import { memoryAudiences } from "campaign-kit";
 * import { defineConfig } from "campaign-kit/cli";
 * import { smtpChannel } from "campaign-kit/smtp";
 * import { transporter } from "./src/mail.js";
 * import { audiences } from "./src/audiences.js";
 *
 * export default defineConfig({
 *   actor: "ops-cli",
 *   postgres: { pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }), schema: "campaign_kit" },
 *   kit: { channels: [smtpChannel({ transporter })], audiences }, // storage: postgresStorage on that pool
 * });
 * ```
 */
export interface CampaignKitConfig {
  /**
   * The kit: the options of `createCampaignKit` (the CLI builds it, and when `postgres` is set and the options
   * have no `storage`, stores on `postgresStorage` with that pool and schema), a kit already built, or a
   * function returning either. A function is called only by the commands that need a kit, so `migrate` runs
   * before the tables the kit needs exist. The CLI closes the kit when the command is done.
   */
  kit: KitSource;
  /**
   * The user the CLI acts as: every operation checks this user's permissions and audits in its name.
   * `--actor` and the `CAMPAIGN_KIT_ACTOR` environment variable override it. `tick` needs none (the scheduler
   * acts as `system:scheduler`); `trigger` needs `campaign.publish`, `status` `campaign.read`, `report`
   * `campaign-report.read`.
   */
  actor?: string;
  /**
   * Where campaign-kit's tables live on PostgreSQL: `migrate` creates or upgrades them there (without one,
   * `migrate` has nothing to do, as on memory storage), and the kit's default storage uses it.
   */
  postgres?: {
    /** The pool; the CLI ends it once the command is done, unless the config has its own `close`. */
    pool: PostgresPool;
    /** The schema holding the tables; default `campaign_kit`, as `migrate` and `postgresStorage` default. */
    schema?: string;
  };
  /**
   * Called once the command is done, after the kit is closed: end pools, close transporters. Without it the
   * CLI ends `postgres.pool`.
   */
  close?: () => unknown;
}

/**
 * A config module's default export: a {@link CampaignKitConfig}, or a function (sync or async) returning one,
 * for a config that reads secrets or opens connections only when a command runs.
 */
export type CampaignKitConfigExport =
  | CampaignKitConfig
  | (() => CampaignKitConfig | Promise<CampaignKitConfig>);

/**
 * Types a `campaign-kit.config.{ts,mts,cts,js,mjs,cjs}` for the `campaign-kit` command line, as drizzle-kit's
 * `defineConfig` does: it returns its argument unchanged.
 *
 * @example
 * ```ts
 * import { createCampaignKit, memoryChannel } from "campaign-kit";
 * import { defineConfig } from "campaign-kit/cli";
 *
 * export default defineConfig({
 *   actor: "ops",
 *   kit: async () => createCampaignKit({ channels: [memoryChannel({ channel: "email" })], administrators: ["ops"] }),
 * });
 * ```
 */
export function defineConfig<const T extends CampaignKitConfigExport>(config: T): T {
  return config;
}
