/**
 * A Storage on SQLite written from docs/storage.md alone ("Write your own storage"): the two tables of its
 * model, each operation as its tables say, conditions through SQLite's JSON functions. It passes the
 * conformance suite, which is what proves the page tells an implementer enough.
 */
import Database from "better-sqlite3";
import { afterEach } from "vitest";
import {
  type Channel,
  type Condition,
  type DeliveryOutcome,
  type DeliveryRecord,
  type LedgerSummary,
  pageLimit,
  type Storage,
  type StoredDocument,
  type Where,
} from "../../src/index.js";
import { runStorageSuite } from "../../src/testing/index.js";

/** The model's two tables. Text compares with SQLite's default BINARY collation: code-point order on UTF-8. */
function createTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS documents (
      collection TEXT NOT NULL,
      id TEXT NOT NULL,
      version INTEGER NOT NULL,
      keys TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (collection, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS delivery_ledger (
      message_id TEXT PRIMARY KEY,
      campaign_id TEXT NOT NULL,
      execution_id TEXT NOT NULL,
      recipient_id TEXT NOT NULL,
      channel TEXT NOT NULL,
      outcome TEXT NOT NULL,
      reason TEXT,
      attempts INTEGER NOT NULL,
      provider_message_id TEXT,
      treatment_id TEXT,
      at INTEGER NOT NULL -- milliseconds since the epoch
    );
    CREATE INDEX IF NOT EXISTS delivery_ledger_campaign ON delivery_ledger (campaign_id, execution_id);
    CREATE INDEX IF NOT EXISTS delivery_ledger_provider ON delivery_ledger (provider_message_id)
      WHERE provider_message_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS delivery_ledger_sent ON delivery_ledger (recipient_id, channel, at)
      WHERE outcome = 'sent';
  `);
}

/** A condition as SQL over `keys` (JSON text), and its parameters. */
interface Clause {
  sql: string;
  params: (string | number)[];
}

/** The JSON types (`json_type`) a key of `value`'s JavaScript type has: typed equality and typed ranges. */
const jsonTypes = (value: string | number | boolean): string =>
  typeof value === "string"
    ? "('text')"
    : typeof value === "number"
      ? "('integer', 'real')"
      : value
        ? "('true')"
        : "('false')";

/** The key at `path` is the scalar `value`, of the same type. better-sqlite3 binds no booleans: the type says it. */
function scalarEquals(path: string, value: string | number | boolean): Clause {
  if (typeof value === "boolean") return { sql: `json_type(keys, ?) IN ${jsonTypes(value)}`, params: [path] };
  return {
    sql: `(json_type(keys, ?) IN ${jsonTypes(value)} AND json_extract(keys, ?) = ?)`,
    params: [path, path, value],
  };
}

/** The list key at `path` has an element equal to `value`. */
function listContains(path: string, value: string | number | boolean): Clause {
  const element = typeof value === "boolean" ? "" : " AND value = ?";
  return {
    sql: `(json_type(keys, ?) = 'array' AND EXISTS (SELECT 1 FROM json_each(keys, ?) WHERE type IN ${jsonTypes(value)}${element}))`,
    params: typeof value === "boolean" ? [path, path] : [path, path, value],
  };
}

const joined = (clauses: Clause[], operator: "AND" | "OR", empty: string): Clause =>
  clauses.length === 0
    ? { sql: empty, params: [] }
    : {
        sql: `(${clauses.map((clause) => clause.sql).join(` ${operator} `)})`,
        params: clauses.flatMap((clause) => clause.params),
      };

function conditionSql(name: string, condition: Condition): Clause {
  const path = `$."${name}"`;
  if (typeof condition !== "object")
    return joined([scalarEquals(path, condition), listContains(path, condition)], "OR", "0");
  if ("in" in condition)
    return joined(
      condition.in.map((value) => scalarEquals(path, value)),
      "OR",
      "0",
    );
  if ("all" in condition)
    return joined(
      [
        { sql: "json_type(keys, ?) = 'array'", params: [path] },
        ...condition.all.map((value) => listContains(path, value)),
      ],
      "AND",
      "1",
    );
  const bounds: Clause[] = [{ sql: "json_type(keys, ?) IN ('text', 'integer', 'real')", params: [path] }];
  for (const [operator, bound] of [
    [">=", condition.gte],
    ["<=", condition.lte],
  ] as const) {
    if (bound === undefined) continue;
    bounds.push({
      sql: `(json_type(keys, ?) IN ${jsonTypes(bound)} AND json_extract(keys, ?) ${operator} ?)`,
      params: [path, path, bound],
    });
  }
  return joined(bounds, "AND", "1");
}

const whereSql = (where: Where | undefined): Clause =>
  joined(
    Object.entries(where ?? {}).map(([name, condition]) => conditionSql(name, condition)),
    "AND",
    "1",
  );

interface DocumentRow {
  id: string;
  version: number;
  keys: string;
  value: string;
}
const toDocument = (row: DocumentRow): StoredDocument => ({
  id: row.id,
  version: row.version,
  keys: JSON.parse(row.keys),
  value: JSON.parse(row.value),
});

/** A ledger row, times as epoch milliseconds. */
interface LedgerRow {
  message_id: string;
  campaign_id: string;
  execution_id: string;
  recipient_id: string;
  channel: Channel;
  outcome: DeliveryOutcome;
  reason: string | null;
  attempts: number;
  provider_message_id: string | null;
  treatment_id: string | null;
  at: number;
}

interface SummaryRow {
  outcome: DeliveryOutcome;
  channel: Channel;
  reason: string | null;
  treatmentId: string | null;
  count: number;
  retries: number;
  firstAt: number | null;
  lastAt: number | null;
}

/** The guide's `summaryOf`, with times read as epoch milliseconds. */
function summaryOf(rows: readonly SummaryRow[]): LedgerSummary {
  const summary: LedgerSummary = {
    outcomes: { sent: 0, failed: 0, excluded: 0 },
    byChannel: {},
    excludedByReason: {},
    byTreatment: {},
    retries: 0,
  };
  for (const row of rows) {
    summary.outcomes[row.outcome] += row.count;
    const channel = summary.byChannel[row.channel] ?? { sent: 0, failed: 0, excluded: 0 };
    channel[row.outcome] += row.count;
    summary.byChannel[row.channel] = channel;
    if (row.treatmentId !== null) {
      const treatment = summary.byTreatment[row.treatmentId] ?? { sent: 0, failed: 0, excluded: 0 };
      treatment[row.outcome] += row.count;
      summary.byTreatment[row.treatmentId] = treatment;
    }
    summary.retries += row.retries;
    if (row.outcome === "excluded") {
      const reason = row.reason ?? "unknown";
      summary.excludedByReason[reason] = (summary.excludedByReason[reason] ?? 0) + row.count;
    }
    if (row.outcome === "sent" && row.firstAt !== null && row.lastAt !== null) {
      const first = new Date(row.firstAt);
      const last = new Date(row.lastAt);
      if (summary.firstSentAt === undefined || first < summary.firstSentAt) summary.firstSentAt = first;
      if (summary.lastSentAt === undefined || last > summary.lastSentAt) summary.lastSentAt = last;
    }
  }
  return summary;
}

/**
 * campaign-kit's storage in a better-sqlite3 database that has the tables of {@link createTables}. Every call
 * runs synchronously to the end, so each operation is atomic in its process; across processes, each is one
 * statement (a ledger batch, one transaction) under SQLite's own locking.
 */
function sqliteStorage({ db }: { db: Database.Database }): Storage {
  const exists = (collection: string, id: string) =>
    db.prepare("SELECT 1 FROM documents WHERE collection = ? AND id = ?").get(collection, id) !== undefined;
  const insert = db.prepare(
    "INSERT INTO documents (collection, id, version, keys, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const get = db.prepare<[string, string], DocumentRow>(
    "SELECT id, version, keys, value FROM documents WHERE collection = ? AND id = ?",
  );
  const replace = db.prepare(
    "UPDATE documents SET version = ?, keys = ?, value = ? WHERE collection = ? AND id = ? AND version = ?",
  );
  const remove = db.prepare(
    "DELETE FROM documents WHERE collection = ? AND id = ? AND (? IS NULL OR version = ?)",
  );
  // Applied in order, each record on its own: the DO UPDATE's WHERE keeps the first `sent`.
  const upsert = db.prepare(`
    INSERT INTO delivery_ledger (message_id, campaign_id, execution_id, recipient_id, channel, outcome, reason,
      attempts, provider_message_id, treatment_id, at)
    VALUES (@messageId, @campaignId, @executionId, @recipientId, @channel, @outcome, @reason, @attempts,
      @providerMessageId, @treatmentId, @at)
    ON CONFLICT (message_id) DO UPDATE SET
      campaign_id = excluded.campaign_id, execution_id = excluded.execution_id,
      recipient_id = excluded.recipient_id, channel = excluded.channel, outcome = excluded.outcome,
      reason = excluded.reason, attempts = excluded.attempts,
      provider_message_id = excluded.provider_message_id, treatment_id = excluded.treatment_id,
      at = excluded.at
    WHERE delivery_ledger.outcome <> 'sent'`);
  const recordAll = db.transaction((records: Parameters<Storage["record"]>[0]["records"]) => {
    let written = 0;
    for (const record of records) {
      written += upsert.run({
        ...record,
        reason: record.reason ?? null,
        providerMessageId: record.providerMessageId ?? null,
        treatmentId: record.treatmentId ?? null,
        at: record.at.getTime(),
      }).changes;
    }
    return written;
  });

  return {
    async insert({ collection, document }) {
      const { id, version, keys, value } = document;
      const { changes } = insert.run(collection, id, version, JSON.stringify(keys), JSON.stringify(value));
      return changes === 1 ? "ok" : "exists";
    },
    async get({ collection, id }) {
      const row = get.get(collection, id);
      return row && toDocument(row);
    },
    async replace({ collection, document, ifVersion }) {
      const { id, version, keys, value } = document;
      const { changes } = replace.run(
        version,
        JSON.stringify(keys),
        JSON.stringify(value),
        collection,
        id,
        ifVersion,
      );
      if (changes === 1) return "ok";
      return exists(collection, id) ? "conflict" : "missing";
    },
    async delete({ collection, id, ifVersion }) {
      const { changes } = remove.run(collection, id, ifVersion ?? null, ifVersion ?? null);
      if (changes === 1) return "ok";
      return exists(collection, id) ? "conflict" : "missing";
    },
    async list({ collection, where, cursor, ...paging }) {
      const limit = pageLimit(paging);
      const conditions = whereSql(where);
      const rows = db
        .prepare<unknown[], DocumentRow>(
          `SELECT id, version, keys, value FROM documents
           WHERE collection = ? AND (? IS NULL OR id > ?) AND ${conditions.sql}
           ORDER BY id LIMIT ?`,
        )
        .all(collection, cursor ?? null, cursor ?? null, ...conditions.params, limit + 1);
      const items = rows.slice(0, limit).map(toDocument);
      const last = items.at(-1);
      return rows.length > limit && last !== undefined ? { items, nextCursor: last.id } : { items };
    },

    async findSent({ messageIds }) {
      // The ids as one JSON parameter: no limit on how many a batch names.
      const rows = db
        .prepare<[string], { message_id: string }>(
          `SELECT message_id FROM delivery_ledger
           WHERE message_id IN (SELECT value FROM json_each(?)) AND outcome = 'sent'`,
        )
        .all(JSON.stringify(messageIds));
      return new Set(rows.map((row) => row.message_id));
    },
    async record({ records }) {
      return { written: recordAll(records) };
    },
    async countSentSince({ recipientIds, channel, since }) {
      const rows = db
        .prepare<[string, string, number], { recipient_id: string; sent: number }>(
          `SELECT recipient_id, count(*) AS sent FROM delivery_ledger
           WHERE recipient_id IN (SELECT value FROM json_each(?)) AND channel = ? AND outcome = 'sent' AND at >= ?
           GROUP BY recipient_id`,
        )
        .all(JSON.stringify(recipientIds), channel, since.getTime());
      return new Map(rows.map((row) => [row.recipient_id, row.sent]));
    },
    async find({ messageIds = [], providerMessageIds = [] }) {
      const rows = db
        .prepare<[string, string], LedgerRow>(
          `SELECT * FROM delivery_ledger
           WHERE message_id IN (SELECT value FROM json_each(?))
              OR provider_message_id IN (SELECT value FROM json_each(?))`,
        )
        .all(JSON.stringify(messageIds), JSON.stringify(providerMessageIds));
      return rows.map((row) => {
        const record: DeliveryRecord = {
          messageId: row.message_id,
          campaignId: row.campaign_id,
          executionId: row.execution_id,
          recipientId: row.recipient_id,
          channel: row.channel,
          outcome: row.outcome,
          attempts: row.attempts,
          at: new Date(row.at),
        };
        if (row.reason !== null) record.reason = row.reason;
        if (row.provider_message_id !== null) record.providerMessageId = row.provider_message_id;
        if (row.treatment_id !== null) record.treatmentId = row.treatment_id;
        return record;
      });
    },
    async summarize({ campaignId, executionId }) {
      const rows = db
        .prepare<[string, string | null, string | null], SummaryRow>(
          `SELECT outcome, channel, reason, treatment_id AS treatmentId, count(*) AS count,
             coalesce(sum(max(attempts - 1, 0)), 0) AS retries, min(at) AS firstAt, max(at) AS lastAt
           FROM delivery_ledger WHERE campaign_id = ? AND (? IS NULL OR execution_id = ?)
           GROUP BY outcome, channel, reason, treatment_id`,
        )
        .all(campaignId, executionId ?? null, executionId ?? null);
      return summaryOf(rows);
    },
  };
}

let open: Database.Database | undefined;
afterEach(() => open?.close());

runStorageSuite({
  name: "sqliteStorage (written from docs/storage.md)",
  create: () => {
    open = new Database(":memory:");
    createTables(open);
    return sqliteStorage({ db: open });
  },
});
