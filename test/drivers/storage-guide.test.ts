/**
 * docs/storage.md, "Write your own storage", kept true: its TypeScript compiles under the project's own
 * compiler settings, its SQL is the driver's migration, and its Drizzle recipe passes the storage suite on
 * PostgreSQL exactly as printed (extracted from the page, not copied into a test).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrationSql } from "../../src/drivers/postgres/index.js";
import { databaseUrl } from "../support/database.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const guide = readFileSync(join(root, "docs/storage.md"), "utf8");

/**
 * Fenced blocks as `{ info, code }`, dedented (a block may sit in a list item). ```` ```ts ```` blocks are
 * checked; ```` ```ts prisma ```` and ```` ```ts mongodb ```` are not, because they import a generated Prisma
 * client or the `mongodb` driver, which campaign-kit doesn't install: each says so on the page.
 */
function blocks(markdown: string): { info: string; code: string }[] {
  return [...markdown.matchAll(/^( *)```([^\n]*)\n([\s\S]*?)^\1```/gm)].map((match) => {
    const indent = (match[1] as string).length;
    const code = (match[3] as string)
      .split("\n")
      .map((line) => line.slice(indent))
      .join("\n");
    return { info: (match[2] as string).trim(), code };
  });
}
const UNCHECKED = new Set(["ts prisma", "ts mongodb"]);

/** The page's TypeScript as files: a block opening with `// path.ts` belongs to that file, in page order. */
function guideFiles(): Map<string, string> {
  const files = new Map<string, string>();
  blocks(guide)
    .filter((block) => block.info === "ts")
    .forEach((block, i) => {
      const name = /^\/\/ ([\w./-]+\.ts)\b/.exec(block.code)?.[1] ?? `snippet-${i}.ts`;
      files.set(name, `${files.get(name) ?? ""}${block.code}\n`);
    });
  return files;
}

// The published names, pointed at the sources.
const ENTRIES: Record<string, string> = {
  "campaign-kit": "src/index.js",
  "campaign-kit/postgres": "src/drivers/postgres/index.js",
  "campaign-kit/testing": "src/testing/index.js",
};
const toSources = (code: string) =>
  code.replaceAll(/from "(campaign-kit(?:\/\w+)?)"/g, (whole, name: string) =>
    ENTRIES[name] ? `from ${JSON.stringify(join(root, ENTRIES[name]))}` : whole,
  );

/** Writes the page's files into a fresh folder under node_modules (so their imports resolve); its path. */
function writeGuide(rewrite: (name: string, code: string) => string = (_, code) => code): string {
  const folder = mkdtempSync(join(root, "node_modules", ".storage-guide-"));
  for (const [name, code] of guideFiles()) {
    mkdirSync(dirname(join(folder, name)), { recursive: true });
    writeFileSync(join(folder, name), rewrite(name, toSources(code)));
  }
  return folder;
}

const words = (sql: string) => sql.split(/\s+/).filter(Boolean).join(" ");

describe("docs/storage.md", () => {
  it("marks every unchecked block with a reason the test knows", () => {
    const infos = blocks(guide).map((block) => block.info);
    for (const info of infos.filter((info) => info.startsWith("ts ")))
      expect(UNCHECKED, info).toContain(info);
    expect(infos.filter((info) => info === "ts").length).toBeGreaterThanOrEqual(8);
  });

  it("shows the driver's migration SQL as it is", () => {
    const sql = blocks(guide).filter((block) => block.info === "sql");
    expect(sql.map((block) => words(block.code))).toContain(words(migrationSql()[0]?.sql ?? ""));
  });

  it("holds TypeScript that compiles under the project's settings", { timeout: 120_000 }, async () => {
    const folder = writeGuide();
    try {
      const files = [...guideFiles().keys()];
      expect(files).toEqual(
        expect.arrayContaining([
          "storage/ledger-helpers.ts",
          "storage/drizzle-schema.ts",
          "storage/drizzle-storage.ts",
          "storage/drizzle-storage.test.ts",
        ]),
      );
      writeFileSync(
        join(folder, "tsconfig.json"),
        JSON.stringify({ extends: join(root, "tsconfig.json"), include: [], files }),
      );
      const tsc = join(root, "node_modules/typescript/bin/tsc");
      const result = await promisify(execFile)(process.execPath, [tsc, "-p", folder], { cwd: folder }).then(
        () => "",
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect(result).toBe("");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

// The Drizzle recipe, run as printed on a schema of its own (the page's `campaign_kit`, renamed).
const url = databaseUrl("the Drizzle recipe of docs/storage.md");
if (url !== undefined) {
  const schema = `ck_drizzle_${process.pid}_${Date.now().toString(36)}`;
  const folder = writeGuide((name, code) =>
    name === "storage/drizzle-schema.ts"
      ? code.replace('pgSchema("campaign_kit")', `pgSchema("${schema}")`)
      : code,
  );
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(folder, { recursive: true, force: true });
  });
  const file = (name: string) => pathToFileURL(join(folder, name)).href;
  // Registers the page's runStorageSuite here.
  await import(file("storage/drizzle-storage.test.ts"));

  describe("the Drizzle tables of docs/storage.md", () => {
    it("are the tables migrationSql creates: columns, types, collations, keys and indexes", async () => {
      const tables = (await import(file("storage/drizzle-schema.ts"))) as Record<string, PgTable>;
      const catalog = `ck_catalog_${process.pid}_${Date.now().toString(36)}`;
      try {
        for (const migration of migrationSql({ schema: catalog })) await admin.query(migration.sql);
        for (const table of [tables.documents, tables.deliveryLedger] as PgTable[]) {
          const config = getTableConfig(table);
          const declared = config.columns.map((column) => ({
            name: column.name,
            type: column.getSQLType().replace(' COLLATE "C"', ""),
            collation: column.getSQLType().includes('COLLATE "C"') ? "C" : null,
            notNull: column.notNull,
          }));
          const columns = await admin.query(
            `SELECT column_name AS name, data_type AS type, collation_name AS collation,
               is_nullable = 'NO' AS "notNull"
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
            [catalog, config.name],
          );
          expect(declared, config.name).toEqual(expect.arrayContaining(columns.rows));
          expect(declared).toHaveLength(columns.rowCount ?? 0);

          const keys = await admin.query(
            `SELECT a.attname AS name FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indrelid = $1::regclass AND i.indisprimary`,
            [`"${catalog}"."${config.name}"`],
          );
          const primary = [
            ...config.columns.filter((column) => column.primary).map((column) => column.name),
            ...config.primaryKeys.flatMap((key) => key.columns.map((column) => column.name)),
          ];
          expect(primary.sort()).toEqual(keys.rows.map((row) => row.name).sort());

          const indexes = await admin.query(
            `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%_pkey'`,
            [catalog, config.name],
          );
          expect(config.indexes.map((index) => index.config.name).sort()).toEqual(
            indexes.rows.map((row) => row.indexname).sort(),
          );
        }
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS "${catalog}" CASCADE`);
      }
    });
  });
}
