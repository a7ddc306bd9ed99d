import type { Collection, Condition, Store, StoredDocument, Where } from "../../ports/storage.js";
import { pageLimit } from "../../ports/storage.js";
import { groupCommit } from "./group-commit.js";
import { type Db, guard } from "./sql.js";
import { watchChanges } from "./watch.js";

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

interface Insert {
  collection: Collection;
  document: StoredDocument;
}

interface Replace extends Insert {
  ifVersion: number;
}

const rowKey = (item: Insert) => `${item.collection} ${item.document.id}`;

/**
 * The documents of {@link postgresStorage}: one table keyed by (collection, id). Every operation is one
 * statement, so compare-and-set needs no transaction: `replace` and `delete` name the version they expect in
 * their `WHERE`, and PostgreSQL checks it on the locked row. Concurrent inserts and replaces are committed
 * together ({@link groupCommit}): under load, many calls share one statement and one WAL flush.
 */
export function documentStore(db: Db): Store {
  const documents = db.table("documents");
  // A batch travels as ONE JSON parameter that PostgreSQL unpacks (`jsonb_to_recordset`): one native
  // `JSON.stringify`, where a parameter per column would have pg escape every element of every array.
  const rows = (items: readonly Insert[], ifVersions?: readonly number[]) =>
    JSON.stringify(
      items.map((item, n) => ({
        n,
        collection: item.collection,
        id: item.document.id,
        version: item.document.version,
        keys: item.document.keys,
        value: item.document.value,
        if_version: ifVersions?.[n],
      })),
    );
  const recordset = `jsonb_to_recordset($1::jsonb)
    AS t(n integer, collection text, id text, version integer, keys jsonb, value jsonb, if_version integer)`;

  const insert = groupCommit<Insert, "ok" | "exists">({
    ...db.groupCommit,
    keysOf: (item) => [rowKey(item)],
    flush: async (items) => {
      const result = await db.pool.query<{ collection: string; id: string }>(
        `INSERT INTO ${documents} (collection, id, version, keys, value)
         SELECT collection, id, version, keys, value FROM ${recordset}
         ON CONFLICT (collection, id) DO NOTHING RETURNING collection, id`,
        [rows(items)],
      );
      const inserted = new Set(result.rows.map((row) => `${row.collection} ${row.id}`));
      return items.map((item) => (inserted.has(rowKey(item)) ? "ok" : "exists"));
    },
  });

  const replace = groupCommit<Replace, "ok" | "conflict" | "missing">({
    ...db.groupCommit,
    keysOf: (item) => [rowKey(item)],
    flush: async (items) => {
      // One statement: the updates, and for each one that updated nothing, whether its row exists at all.
      const result = await db.pool.query<{ n: string; updated: boolean; present: boolean }>(
        `WITH input AS (SELECT * FROM ${recordset}),
         updated AS (
           UPDATE ${documents} d SET version = i.version, keys = i.keys, value = i.value FROM input i
           WHERE d.collection = i.collection AND d.id = i.id AND d.version = i.if_version RETURNING i.n)
         SELECT i.n, EXISTS (SELECT 1 FROM updated u WHERE u.n = i.n) AS updated,
                EXISTS (SELECT 1 FROM ${documents} d WHERE d.collection = i.collection AND d.id = i.id) AS present
         FROM input i`,
        [
          rows(
            items,
            items.map((item) => item.ifVersion),
          ),
        ],
      );
      const byN = new Map(result.rows.map((row) => [Number(row.n), row]));
      return items.map((_, i) => {
        const row = byN.get(i);
        return row?.updated ? "ok" : row?.present ? "conflict" : "missing";
      });
    },
  });

  return {
    insert: (params) => guard(`insert into ${params.collection}`, () => insert(params)),

    get: ({ collection, id }) =>
      guard(`read ${collection}`, async () => {
        const result = await db.pool.query<Row>(
          `SELECT id, version, keys, value FROM ${documents} WHERE collection = $1 AND id = $2`,
          [collection, id],
        );
        const row = result.rows[0];
        return row && toDocument(row);
      }),

    replace: (params) => guard(`update ${params.collection}`, () => replace(params)),

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

    watch: (params) => watchChanges(db, params),
  };
}
