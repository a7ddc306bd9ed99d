import { migrate, migrationSql, SCHEMA_VERSION } from "../../drivers/postgres/migrations.js";
import type { Command } from "../context.js";
import { EXIT_CODES } from "../exit-codes.js";
import { writeJson } from "../output.js";

const DEFAULT_SCHEMA = "campaign_kit";

/**
 * `campaign-kit migrate`: creates or upgrades campaign-kit's tables on the config's `postgres` pool, or prints
 * their SQL for a host's own migration tool. Never builds the kit: the kit's first writes need the tables.
 */
export const migrateCommand: Command = {
  summary: "Create or upgrade the PostgreSQL tables (nothing to do on memory storage)",
  usage: "",
  options: { "print-sql": { type: "boolean" } },
  help: { "print-sql": "print the migrations' SQL instead of applying it (for your own migration tool)" },
  positionals: [0, 0],
  async run({ values, output, config: loadConfig }) {
    const { config } = await loadConfig();
    const schema = config.postgres?.schema ?? DEFAULT_SCHEMA;
    if (values["print-sql"] === true) {
      const migrations = migrationSql({ schema });
      if (output.json) writeJson(output, { schema, version: SCHEMA_VERSION, migrations });
      else for (const m of migrations) output.out(`-- ${m.version}: ${m.name}\n${m.sql}\n`);
      return EXIT_CODES.OK;
    }
    if (!config.postgres) {
      if (output.json) writeJson(output, { storage: "no-postgres", applied: [] });
      else {
        output.out(
          "Nothing to migrate: the config has no `postgres`, and memory storage (or your own) needs no migrations.\n",
        );
      }
      return EXIT_CODES.OK;
    }
    const { applied } = await migrate({ pool: config.postgres.pool as never, schema });
    if (output.json) writeJson(output, { storage: "postgres", schema, applied, version: SCHEMA_VERSION });
    else if (applied.length === 0)
      output.out(`Schema ${schema} is up to date (version ${SCHEMA_VERSION}).\n`);
    else {
      output.out(
        `Applied migration${applied.length === 1 ? "" : "s"} ${applied.join(", ")} to schema ${schema}: now at version ${SCHEMA_VERSION}.\n`,
      );
    }
    return EXIT_CODES.OK;
  },
};
