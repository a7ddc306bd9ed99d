import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { CampaignKitError, isCampaignKitError } from "../errors.js";
import { type CampaignKit, type CampaignKitOptions, createCampaignKit } from "../kit/create-campaign-kit.js";
import { idSchema } from "../model/common.js";
import type { CampaignKitConfig, PostgresPool } from "./config.js";
import { EXIT_CODES, exitCodeOf } from "./exit-codes.js";

/** The file names looked for in the working directory, in this order. */
export const CONFIG_FILES = [
  "campaign-kit.config.ts",
  "campaign-kit.config.mts",
  "campaign-kit.config.cts",
  "campaign-kit.config.js",
  "campaign-kit.config.mjs",
  "campaign-kit.config.cjs",
] as const;

const TYPESCRIPT = new Set([".ts", ".mts", ".cts"]);

function configError(path: string, message: string, cause?: unknown, issues?: z.core.$ZodIssue[]) {
  return new CampaignKitError("CONFIG_INVALID", message, {
    ...(cause === undefined ? {} : { cause }),
    details: {
      path,
      ...(issues
        ? { issues: issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })) }
        : {}),
    },
  });
}

/** The config's path: `--config` resolved against `cwd`, or the first of {@link CONFIG_FILES} found there. */
export function findConfig(cwd: string, given: string | undefined): string {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw configError(path, `No config file at ${path}: check the path given to --config.`);
    }
    return path;
  }
  for (const name of CONFIG_FILES) {
    const path = join(cwd, name);
    if (existsSync(path)) return path;
  }
  throw configError(
    cwd,
    `No campaign-kit config in ${cwd}: create campaign-kit.config.ts (or .mts, .js, .mjs...) default-exporting ` +
      "`defineConfig({ kit, actor })` from campaign-kit/cli, or pass --config <path>.",
  );
}

/**
 * Loads a TypeScript module through jiti, the optional peer dependency: a small loader with no dependency of
 * its own (ESLint loads `eslint.config.ts` the same way). Resolved next to campaign-kit first, then from the
 * working directory, for a CLI installed elsewhere than the project (`npx`, a global install).
 */
async function jitiImport(path: string, cwd: string): Promise<{ found: boolean; module?: unknown }> {
  type Jiti = { createJiti(from: string): { import(id: string): Promise<unknown> } };
  let jiti: Jiti | undefined;
  try {
    jiti = (await import("jiti")) as Jiti;
  } catch {
    try {
      const resolved = createRequire(join(cwd, "package.json")).resolve("jiti");
      jiti = (await import(pathToFileURL(resolved).href)) as Jiti;
    } catch {
      return { found: false };
    }
  }
  return { found: true, module: await jiti.createJiti(pathToFileURL(path).href).import(path) };
}

/**
 * Imports the config module. JavaScript loads natively; TypeScript through jiti when it is installed, else
 * natively too, which works on a Node that strips types (22.18 and later) or under a loader (`tsx`).
 */
async function importConfig(path: string, cwd: string): Promise<unknown> {
  try {
    if (TYPESCRIPT.has(extname(path))) {
      const viaJiti = await jitiImport(path, cwd);
      if (viaJiti.found) return viaJiti.module;
    }
    return await import(pathToFileURL(path).href);
  } catch (error) {
    if (isCampaignKitError(error) || exitCodeOf(error) !== EXIT_CODES.UNEXPECTED) throw error;
    if ((error as { code?: unknown }).code === "ERR_UNKNOWN_FILE_EXTENSION") {
      throw configError(
        path,
        `Node ${process.versions.node} can't load the TypeScript config ${path} by itself: install jiti ` +
          "(`npm install --save-dev jiti`), run the CLI under a loader (`tsx`), or write the config as " +
          "campaign-kit.config.mjs.",
        error,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw configError(path, `The config ${path} failed to load: ${reason}`, error);
  }
}

const fn = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === "function",
  "Expected a function",
);

const configSchema = z.strictObject(
  {
    kit: z.union([fn, z.looseObject({})], {
      error: (issue) =>
        issue.input === undefined
          ? "Required: the kit's options, a kit, or a function returning either"
          : "Expected the kit's options, a kit, or a function returning either",
    }),
    actor: idSchema.optional(),
    postgres: z
      .strictObject({
        pool: z.custom<PostgresPool>(
          (value) =>
            typeof value === "object" &&
            value !== null &&
            typeof (value as PostgresPool).connect === "function" &&
            typeof (value as PostgresPool).end === "function",
          "Expected a pg Pool (`new pg.Pool(...)`)",
        ),
        schema: z.string().min(1).max(63).optional(),
      })
      .optional(),
    close: fn.optional(),
  },
  {
    error: (issue) =>
      issue.code === "invalid_type"
        ? "Expected an object: `export default defineConfig({ kit, actor })`"
        : undefined,
  },
);

/** Loads and checks the config module at `path`: its default export, called when it is a function. */
export async function loadConfig(path: string, cwd: string): Promise<CampaignKitConfig> {
  const module = (await importConfig(path, cwd)) as { default?: unknown } | undefined;
  let exported = module?.default;
  // A CommonJS config loaded natively, or by jiti, may come wrapped once more.
  if (exported && typeof exported === "object" && "default" in exported && !("kit" in exported)) {
    exported = (exported as { default: unknown }).default;
  }
  if (exported === undefined) {
    throw configError(
      path,
      `The config ${path} has no default export: \`export default defineConfig({ kit, actor })\` (campaign-kit/cli).`,
    );
  }
  const config =
    typeof exported === "function"
      ? await called(path, "default export", exported as () => unknown)
      : exported;
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .map((i) => `  - ${i.path.map(String).join(".") || "(default export)"}: ${i.message}`)
      .join("\n");
    throw configError(path, `The config ${path} is not valid:\n${lines}`, parsed.error, parsed.error.issues);
  }
  return config as CampaignKitConfig;
}

/** Calls a function of the config, turning what it throws into `CONFIG_INVALID` unless it says more. */
async function called(path: string, what: string, fn: () => unknown): Promise<unknown> {
  try {
    return await fn();
  } catch (error) {
    if (isCampaignKitError(error) || exitCodeOf(error) !== EXIT_CODES.UNEXPECTED) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw configError(path, `The config's ${what} (${path}) threw: ${reason}`, error);
  }
}

function isKit(value: object): value is CampaignKit {
  const kit = value as Partial<CampaignKit>;
  return (
    typeof kit.close === "function" &&
    typeof kit.scheduler === "object" &&
    typeof kit.executions === "object" &&
    typeof kit.reports === "object"
  );
}

/**
 * Builds the kit the config describes. Options missing `storage` store on PostgreSQL when the config has
 * `postgres`; invalid options are `CONFIG_INVALID` with the issues `createCampaignKit` found.
 */
export async function buildKit(
  config: CampaignKitConfig,
  path: string,
  tune: (options: CampaignKitOptions) => CampaignKitOptions,
): Promise<CampaignKit> {
  const source =
    typeof config.kit === "function" ? await called(path, "`kit` function", config.kit) : config.kit;
  if (typeof source !== "object" || source === null) {
    throw configError(
      path,
      `The config's \`kit\` (${path}) gave ${String(source)}: return a kit or its options.`,
    );
  }
  if (isKit(source)) return source;
  let options = source as CampaignKitOptions;
  if (options.storage === undefined && config.postgres) {
    const { postgresStorage } = await import("../drivers/postgres/index.js");
    const { pool, schema } = config.postgres;
    options = {
      ...options,
      storage: postgresStorage({
        pool: pool as never,
        ...(schema === undefined ? {} : { schema }),
      }),
    };
  }
  try {
    return await createCampaignKit(tune(options));
  } catch (error) {
    if (isCampaignKitError(error, "VALIDATION_FAILED")) {
      throw new CampaignKitError(
        "CONFIG_INVALID",
        `The config's \`kit\` options (${path}) are not valid:\n${error.details.issues
          .map((i) => `  - kit.${i.path || "(root)"}: ${i.message}`)
          .join("\n")}`,
        { cause: error, details: { path, issues: error.details.issues } },
      );
    }
    throw error;
  }
}
