/**
 * The `campaign-kit` command line's config: `campaign-kit/cli`. A `campaign-kit.config.ts` imports
 * {@link defineConfig} from here, as a drizzle-kit config imports drizzle-kit's; scripts may read
 * {@link EXIT_CODES} to tell the CLI's outcomes apart. The CLI itself is the package's `bin`:
 * `npx campaign-kit migrate | tick | trigger | status | report`. See the CLI guide for every command.
 *
 * @packageDocumentation
 * @module campaign-kit/cli
 */

export {
  type CampaignKitConfig,
  type CampaignKitConfigExport,
  defineConfig,
  type KitSource,
  type PostgresPool,
} from "./config.js";
export { EXIT_CODES, type ExitCode } from "./exit-codes.js";
