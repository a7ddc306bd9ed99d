import type { Condition, Store, StoredDocument, Where } from "../../ports/storage.js";
import { pageLimit } from "../../ports/storage.js";
import { type Db, guard } from "./sql.js";

interface Row {
  id: string;
  version: number;
  keys: StoredDocument["keys"];
  value: StoredDocument["value"];
}

const toDocument = (row: Row): StoredDocument => ({
  id: row.id,
  version: row.version,
  keys: row.keys,
  value: row.value,
});

/** Builds SQL conditions, numbering parameters as it goes. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * One condition of {@link Where} in SQL. Equality and containment are `keys @> {...}`, which the GIN index on
 * `keys` serves; ranges compare the key's text in code-point order, or its number, and only hold for a key
 * of that type.
 */
function conditionSql(name: string, condition: Condition, params: Params): string {
  const contains = (value: unknown) => `keys @> ${params.add(JSON.stringify({ [name]: value }))}::jsonb`;
  // Nested, `@>` matches a scalar only against a scalar: a list key holding the value is the second test.
  if (typeof condition !== "object") return `(${contains(condition)} OR ${contains([condition])})`;
  if ("in" in condition) {
    if (condition.in.length === 0) return "false";
    return `(${condition.in.map((value) => contains(value)).join(" OR ")})`;
  }
  if ("all" in condition) return contains(condition.all);
  const key = params.add(name);
  const bounds: string[] = [];
  for (const [operator, bound] of [
    [">=", condition.gte],
    ["<=", condition.lte],
  ] as const) {
    if (bound === undefined) continue;
    bounds.push(
      typeof bound === "number"
        ? `jsonb_typeof(keys -> ${key}) = 'number' AND (keys ->> ${key})::numeric ${operator} ${params.add(bound)}`
        : `jsonb_typeof(keys -> ${key}) = 'string' AND (keys ->> ${key}) COLLATE "C" ${operator} ${params.add(bound)}`,
    );
  }
  return bounds.length === 0 ? `jsonb_typeof(keys -> ${key}) IN ('string', 'number')` : bounds.join(" AND ");
}

function whereSql(where: Where | undefined, params: Params): string {
  return Object.entries(where ?? {})
    .map(([name, condition]) => ` AND ${conditionSql(name, condition, params)}`)
    .join("");
}

/**
 * The documents of {@link postgresStorage}: one table keyed by (collection, id). Every operation is one
 * statement, so compare-and-set needs no transaction: `replace` and `delete` name the version they expect in
 * their `WHERE`, and PostgreSQL checks it on the locked row.
 */
export function documentStore(db: Db): Store {
  const documents = db.table("documents");
  return {
    insert: ({ collection, document }) =>
      guard(`insert into ${collection}`, async () => {
        const result = await db.pool.query(
          `INSERT INTO ${documents} (collection, id, version, keys, value)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) ON CONFLICT (collection, id) DO NOTHING`,
          [
            collection,
            document.id,
            document.version,
            JSON.stringify(document.keys),
            JSON.stringify(document.value),
          ],
        );
        return result.rowCount === 1 ? "ok" : "exists";
      }),

    get: ({ collection, id }) =>
      guard(`read ${collection}`, async () => {
        const result = await db.pool.query<Row>(
          `SELECT id, version, keys, value FROM ${documents} WHERE collection = $1 AND id = $2`,
          [collection, id],
        );
        const row = result.rows[0];
        return row && toDocument(row);
      }),

    replace: ({ collection, document, ifVersion }) =>
      guard(`update ${collection}`, async () => {
        // One statement: the update, and when it updated nothing, whether the row exists at all.
        const result = await db.pool.query<{ updated: boolean }>(
          `WITH updated AS (
             UPDATE ${documents} SET version = $3, keys = $4::jsonb, value = $5::jsonb
             WHERE collection = $1 AND id = $2 AND version = $6 RETURNING 1)
           SELECT EXISTS (SELECT 1 FROM updated) AS updated,
                  EXISTS (SELECT 1 FROM ${documents} WHERE collection = $1 AND id = $2) AS present`,
          [
            collection,
            document.id,
            document.version,
            JSON.stringify(document.keys),
            JSON.stringify(document.value),
            ifVersion,
          ],
        );
        const row = result.rows[0] as { updated: boolean; present: boolean } | undefined;
        return row?.updated ? "ok" : row?.present ? "conflict" : "missing";
      }),

    delete: ({ collection, id, ifVersion }) =>
      guard(`delete from ${collection}`, async () => {
        const result = await db.pool.query<{ deleted: boolean; present: boolean }>(
          `WITH deleted AS (
             DELETE FROM ${documents} WHERE collection = $1 AND id = $2 AND ($3::integer IS NULL OR version = $3)
             RETURNING 1)
           SELECT EXISTS (SELECT 1 FROM deleted) AS deleted,
                  EXISTS (SELECT 1 FROM ${documents} WHERE collection = $1 AND id = $2) AS present`,
          [collection, id, ifVersion ?? null],
        );
        const row = result.rows[0];
        return row?.deleted ? "ok" : row?.present ? "conflict" : "missing";
      }),

    list: ({ collection, where, cursor, ...paging }) =>
      guard(`list ${collection}`, async () => {
        const limit = pageLimit(paging);
        const params = new Params();
        const sql = `SELECT id, version, keys, value FROM ${documents}
           WHERE collection = ${params.add(collection)}
           ${cursor === undefined ? "" : `AND id > ${params.add(cursor)}`}${whereSql(where, params)}
           ORDER BY id LIMIT ${params.add(limit + 1)}`;
        const result = await db.pool.query<Row>(sql, params.values);
        // The extra row only says another page exists, which spares a count.
        const items = result.rows.slice(0, limit).map(toDocument);
        const last = items[items.length - 1];
        return result.rows.length > limit && last !== undefined ? { items, nextCursor: last.id } : { items };
      }),
  };
}
