import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { CampaignKitError } from "../../errors.js";
import type { Channel } from "../../model/common.js";
import type { Profile } from "../../model/profile.js";
import type { AudienceRange, AudienceSource } from "../../ports/audience-source.js";
import { guard, quoteIdent } from "./sql.js";

/** A table, by name (`"customers"`, on the connection's `search_path`) or schema-qualified. */
export type PostgresTableName = string | { schema: string; name: string };

/**
 * Where each part of a {@link Profile} is in a row. Every value is a column name, quoted when used (so any
 * spelling works, but `"firstName"` and `firstname` are different columns). A part given as one name is a
 * JSONB column holding the whole object; a part given as a record names one column per key.
 */
export interface PostgresProfileColumns {
  /** The member id (the profile's `id`): unique, ideally the primary key. Read as a string. */
  id: string;
  /**
   * Identities: a column per namespace (`{ email: "email", crmId: "crm_id" }`), each looked up by
   * `findProfiles` with `= ANY($1)` (index it), or one JSONB column of `{ namespace: value }` (index
   * `((identities ->> 'email'))` for each namespace you look up).
   */
  identities: Readonly<Record<string, string>> | string;
  /** Addresses per channel when not the identity (`{ sms: "mobile" }`), or a JSONB column. */
  addresses?: Readonly<Partial<Record<Channel, string>>> | string;
  /**
   * What templates see as `profile`: a JSONB column, or a column per attribute, keyed by its dotted path in
   * the profile (`{ "person.name.firstName": "first_name", tier: "tier" }`). A NULL column leaves the attribute
   * out.
   */
  attributes?: Readonly<Record<string, string>> | string;
  /** Marketing consent per channel, boolean columns (`{ email: "email_opt_in" }`; NULL is no answer), or JSONB. */
  consent?: Readonly<Partial<Record<Channel, string>>> | string;
  /** A `text[]` column of channels the profile is suppressed on. */
  suppressedChannels?: string;
  /** A text column holding the profile's IANA time zone. */
  timeZone?: string;
}

/**
 * An audience of {@link postgresAudiences}: the profile table filtered by a `where` condition (none: the whole
 * table), or any `query` returning the profile columns (joins, segments kept elsewhere). `where` and `query`
 * are SQL you write in your code, never text from end users; they reach values through `params`, as `$1`,
 * `$2`... A query that returns a member on several rows sends to it once, from its first row.
 */
export type PostgresAudience =
  | { where?: string; query?: never; params?: readonly unknown[] }
  | { query: string; where?: never; params?: readonly unknown[] };

/** Options for {@link postgresAudiences}. */
export interface PostgresAudiencesOptions {
  /** The host's pool; campaign-kit never creates or ends it. Each page or lookup borrows a client for one statement. */
  pool: Pool;
  /** The profile table: what `findProfiles` searches, `where` audiences filter and `saveProfile` writes. */
  table: PostgresTableName;
  /** Where each part of a profile is in a row ({@link PostgresProfileColumns}). */
  columns: PostgresProfileColumns;
  /**
   * Builds a profile from a row yourself, instead of the `columns` mapping (which still names the id and
   * identity columns the SQL needs). Rows are then read whole (`SELECT *`).
   */
  toProfile?: (row: Record<string, unknown>) => Profile;
  /** The audiences by id; members are read by keyset on the id column, never by OFFSET. */
  audiences: Readonly<Record<string, PostgresAudience>>;
  /**
   * The id column's type, so range bounds are compared as it is indexed. `"text"` (default): compared
   * `COLLATE "C"`, the code-point order of an audience range (declare the column `COLLATE "C"`, or index
   * `(id COLLATE "C")`); `"uuid"`: the same order; `"bigint"`: numeric order (bounds are still strings).
   */
  idType?: "text" | "uuid" | "bigint";
  /**
   * Whether `saveProfile` may write: `true` upserts the mapped columns (`INSERT ... ON CONFLICT (id) DO
   * UPDATE`, needing a unique index on the id; attributes outside the mapping are not kept), a function saves
   * your way. Default `false`: a table the kit only reads, so `saveProfile` (a transactional call with
   * `createNewProfile` for an unknown recipient) is refused with `UNKNOWN_RECIPIENT`.
   */
  save?: boolean | ((params: { pool: Pool; profile: Profile }) => Promise<void>);
  /** Members per page when the caller names none. Default 5,000. */
  pageSize?: number;
}

// Big pages: each costs a round trip and an executor start, so 5,000 rows read at about twice the rate of
// 1,000 on a busy 2-core machine; the dispatcher cuts them into batches anyway, and two pages (one being
// sent, one on its way) are a few MB.
const DEFAULT_PAGE_SIZE = 5000;
// A namespace or channel inlined as a JSONB key literal: it must match an expression index, which a
// parameter can't, so only plain names are accepted.
const PLAIN_KEY = /^[A-Za-z0-9_.:@-]{1,100}$/;

/** A prepared statement's name for `text`: the same text, the same name, on every connection. */
function statementName(text: string): string {
  return `ck_audience_${createHash("sha256").update(text).digest("base64url").slice(0, 22)}`;
}

function tableSql(table: PostgresTableName): string {
  return typeof table === "string"
    ? quoteIdent(table)
    : `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === "object" && next !== null && !Array.isArray(next))
      node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys.at(-1)!] = value;
}

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

type Part = Readonly<Record<string, string>> | string | undefined;

/** The columns a part reads, as [key, quoted column, result alias]. */
function partColumns(part: Part): { key: string | undefined; column: string }[] {
  if (part === undefined) return [];
  if (typeof part === "string") return [{ key: undefined, column: part }];
  return Object.entries(part).map(([key, column]) => ({ key, column }));
}

/** Reads one part from a row: a JSONB column as is, or the non-NULL columns as a record. */
function readPart(row: Record<string, unknown>, part: Part, nested = false): Record<string, unknown> {
  if (part === undefined) return {};
  if (typeof part === "string") {
    const value = row[part];
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const key in part) {
    const value = row[part[key]!];
    if (value === null || value === undefined) continue;
    if (nested && key.includes(".")) setPath(out, key, value);
    else out[key] = value;
  }
  return out;
}

/**
 * An {@link AudienceSource} over the host's own PostgreSQL table of people: audiences are the table filtered by
 * a `where`, or any `query`, streamed in pages by keyset on the id (`WHERE id > $last ORDER BY id LIMIT n`,
 * the next page requested while the current one is sent); `findProfiles` is one `= ANY($1)` statement on an
 * identity column; `ranges` walks the id index reading every `size`-th id, so workers can each read a part.
 * Every member is streamed once (rows come in id order, repeats of an id are dropped), so the source declares
 * `distinctMembers` and an execution's first pass skips the ledger read.
 *
 * Identifiers (table, columns) are quoted; values always travel as parameters. `where` and `query` are SQL
 * from your code, not from end users. Rows map to profiles through `columns` (or your `toProfile`). See
 * docs/audiences.md for the indexes each part needs.
 *
 * @example
 * ```ts
 * import { postgresAudiences } from "campaign-kit/postgres";
 *
 * const audiences = postgresAudiences({
 *   pool,
 *   table: { schema: "app", name: "customers" },
 *   columns: {
 *     id: "customer_id",
 *     identities: { email: "email", crmId: "crm_id" },
 *     addresses: { sms: "mobile" },
 *     attributes: { "person.name.firstName": "first_name", tier: "tier" },
 *     consent: { email: "email_opt_in", sms: "sms_opt_in" },
 *     timeZone: "time_zone",
 *   },
 *   audiences: {
 *     everyone: {},
 *     gold: { where: "tier = $1 AND deleted_at IS NULL", params: ["gold"] },
 *     buyers: { query: "SELECT c.* FROM app.customers c WHERE EXISTS (SELECT 1 FROM app.orders o WHERE o.customer_id = c.customer_id)" },
 *   },
 * });
 * const kit = await createCampaignKit({ storage, audiences });
 * ```
 */
export function postgresAudiences(options: PostgresAudiencesOptions): AudienceSource {
  const { pool, columns } = options;
  const table = tableSql(options.table);
  const id = quoteIdent(columns.id);
  const idType = options.idType ?? "text";
  const key = idType === "text" ? `${id} COLLATE "C"` : id;
  const cast = idType === "text" ? "text" : idType;
  const defaultPageSize = Math.max(1, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE));

  const parts: Part[] = [
    columns.identities,
    columns.addresses,
    columns.attributes,
    columns.consent,
    columns.suppressedChannels,
    columns.timeZone,
  ];
  const mapped = new Set([columns.id, ...parts.flatMap((part) => partColumns(part).map((c) => c.column))]);
  const select = options.toProfile ? "*" : [...mapped].map(quoteIdent).join(", ");

  const toProfile =
    options.toProfile ??
    ((row: Record<string, unknown>): Profile => {
      const profile: Profile = {
        id: String(row[columns.id]),
        identities: readPart(row, columns.identities) as Profile["identities"],
        addresses: readPart(row, columns.addresses) as Profile["addresses"],
        attributes: readPart(row, columns.attributes, true),
        consent: readPart(row, columns.consent) as Profile["consent"],
        suppressedChannels:
          columns.suppressedChannels === undefined
            ? []
            : ((row[columns.suppressedChannels] ?? []) as Profile["suppressedChannels"]),
      };
      const timeZone = columns.timeZone === undefined ? undefined : row[columns.timeZone];
      if (typeof timeZone === "string") profile.timeZone = timeZone;
      return profile;
    });

  const audienceOf = (audienceId: string) => {
    if (!Object.hasOwn(options.audiences, audienceId)) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `No audience "${audienceId}" in this PostgreSQL audience source.`,
        {
          details: { audienceId },
        },
      );
    }
    const audience = options.audiences[audienceId]!;
    const params = audience.params ?? [];
    // The member rows before keyset bounds: the table under the host's condition, or the host's query.
    const from =
      audience.query !== undefined
        ? `(${audience.query}) AS audience`
        : `${table}${audience.where ? ` WHERE (${audience.where})` : ""}`;
    const hasWhere = audience.query === undefined && Boolean(audience.where);
    return { params, from, hasWhere };
  };

  /** `SELECT <what> FROM <audience>` within `range`, in id order; the values follow the audience's own. */
  const bounded = (audienceId: string, what: string, range: AudienceRange) => {
    const { params, from, hasWhere } = audienceOf(audienceId);
    const values: unknown[] = [...params];
    const conditions: string[] = [];
    if (range.after !== undefined) {
      values.push(range.after);
      conditions.push(`${key} > $${values.length}::${cast}`);
    }
    if (range.until !== undefined) {
      values.push(range.until);
      conditions.push(`${key} <= $${values.length}::${cast}`);
    }
    const joiner = hasWhere ? " AND " : " WHERE ";
    const filter = conditions.length === 0 ? "" : joiner + conditions.join(" AND ");
    return { text: `SELECT ${what} FROM ${from}${filter} ORDER BY ${key}`, values };
  };

  const identityCondition = (namespace: string): string | undefined => {
    if (typeof columns.identities === "string") {
      if (!PLAIN_KEY.test(namespace)) return undefined;
      return `${quoteIdent(columns.identities)} ->> '${namespace}'`;
    }
    const column = Object.hasOwn(columns.identities, namespace) ? columns.identities[namespace] : undefined;
    return column === undefined ? undefined : quoteIdent(column);
  };

  const upsert = () => {
    if (options.toProfile) {
      throw new CampaignKitError(
        "VALIDATION_FAILED",
        "postgresAudiences: `save: true` writes through the `columns` mapping, which `toProfile` replaces; pass `save` a function that writes your way.",
        { details: { issues: [{ path: "save", message: "needs a function with toProfile" }] } },
      );
    }
    const names = [...mapped];
    const quoted = names.map(quoteIdent);
    const updates = quoted.filter((c) => c !== id).map((c) => `${c} = excluded.${c}`);
    const text = `INSERT INTO ${table} (${quoted.join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")})
      ON CONFLICT (${id}) DO ${updates.length ? `UPDATE SET ${updates.join(", ")}` : "NOTHING"}`;
    return (profile: Profile) => {
      const row = new Map<string, unknown>([[columns.id, profile.id]]);
      const write = (part: Part, value: Record<string, unknown>, nested = false) => {
        if (part === undefined) return;
        if (typeof part === "string") row.set(part, JSON.stringify(value));
        else
          for (const [k, column] of Object.entries(part))
            row.set(column, (nested ? getPath(value, k) : value[k]) ?? null);
      };
      write(columns.identities, profile.identities);
      write(columns.addresses, profile.addresses);
      write(columns.attributes, profile.attributes, true);
      write(columns.consent, profile.consent);
      if (columns.suppressedChannels !== undefined)
        row.set(columns.suppressedChannels, profile.suppressedChannels);
      if (columns.timeZone !== undefined) row.set(columns.timeZone, profile.timeZone ?? null);
      return pool.query(
        text,
        names.map((name) => row.get(name) ?? null),
      );
    };
  };
  const custom = typeof options.save === "function" ? options.save : undefined;
  const save: ((profile: Profile) => Promise<unknown>) | undefined =
    options.save === true ? upsert() : custom && ((profile) => custom({ pool, profile }));

  return {
    distinctMembers: true,

    async *members({ audienceId, pageSize, signal, range = {} }) {
      const size = Math.max(1, Math.floor(pageSize ?? defaultPageSize));
      const read = (after: string | undefined) => {
        const query = bounded(audienceId, select, after === undefined ? range : { ...range, after });
        query.values.push(size);
        const text = `${query.text} LIMIT $${query.values.length}`;
        // Named, so each connection parses and plans a page's statement once, not once per page.
        return guard(`read audience '${audienceId}'`, () =>
          pool.query<Record<string, unknown>>({ name: statementName(text), text, values: query.values }),
        );
      };
      let pending: ReturnType<typeof read> | undefined = read(range.after);
      let last: string | undefined;
      try {
        while (pending !== undefined) {
          const { rows } = await pending;
          pending = undefined;
          if (signal?.aborted) return;
          // The next page is asked for now, so it travels while this one is sent.
          if (rows.length === size) {
            pending = read(String(rows[size - 1]![columns.id]));
            pending.catch(() => {});
          }
          const page: Profile[] = [];
          for (const row of rows) {
            const memberId = String(row[columns.id]);
            // Rows come in id order: a repeated id (a join's second row) is next to its first.
            if (memberId === last) continue;
            last = memberId;
            page.push(toProfile(row));
          }
          if (page.length > 0) yield page;
        }
      } finally {
        // Stopped early: the page asked for ahead is dropped (its failure too).
        pending?.catch(() => {});
      }
    },

    async *ranges({ audienceId, size, signal }) {
      const step = Math.max(1, Math.floor(size));
      let after: string | undefined;
      for (;;) {
        if (signal?.aborted) return;
        // The step-th id after the last bound, and whether any comes after it: an index-only walk.
        const query = bounded(audienceId, id, after === undefined ? {} : { after });
        query.values.push(step - 1);
        const { rows } = await guard(`cut audience '${audienceId}' into ranges`, () =>
          pool.query<Record<string, unknown>>(
            `${query.text} OFFSET $${query.values.length} LIMIT 2`,
            query.values,
          ),
        );
        if (rows.length === 2) {
          const until = String(rows[0]![columns.id]);
          yield after === undefined ? { until } : { after, until };
          after = until;
          continue;
        }
        if (after !== undefined) {
          yield { after };
          return;
        }
        const first = bounded(audienceId, "1", {});
        const { rowCount } = await guard(`read audience '${audienceId}'`, () =>
          pool.query(`${first.text} LIMIT 1`, first.values),
        );
        if (rowCount && !signal?.aborted) yield {};
        return;
      }
    },

    findProfiles: ({ namespace, values }) =>
      guard(`find profiles by ${namespace}`, async () => {
        const found = new Map<string, Profile>();
        const condition = identityCondition(namespace);
        if (values.length === 0 || condition === undefined) return found;
        // Untyped, the array takes the column's type, so a bigint or citext identity column keeps its index.
        const { rows } = await pool.query<Record<string, unknown>>(
          `SELECT ${select}, ${condition} AS "__identity" FROM ${table} WHERE ${condition} = ANY($1)`,
          [values],
        );
        for (const row of rows) {
          const value = String(row.__identity);
          delete row.__identity;
          if (!found.has(value)) found.set(value, toProfile(row));
        }
        return found;
      }),

    async saveProfile({ profile }) {
      if (save === undefined) {
        throw new CampaignKitError(
          "UNKNOWN_RECIPIENT",
          `Profile '${profile.id}' can't be created: this PostgreSQL audience source only reads ${table}. Pass \`save: true\` (or a function) to postgresAudiences to let the kit write profiles there.`,
          { details: { userIds: Object.values(profile.identities) } },
        );
      }
      await guard(`save profile '${profile.id}'`, async () => {
        await save(profile);
      });
    },
  };
}
