import type { Channel } from "../../model/common.js";
import type { DeliveryRecord } from "../../model/execution.js";
import {
  countByChannel,
  countByTreatment,
  type DeliveryLedger,
  type LedgerSummary,
} from "../../ports/ledger.js";
import { groupCommit } from "./group-commit.js";
import { type Db, guard } from "./sql.js";

/**
 * Collapses a batch to one record per message id, as applying it in order would leave the ledger: each
 * record replaces the previous one until one is `sent`. `weight` is how many records of the batch that
 * counts as written when the stored row was not already sent. PostgreSQL needs this because one
 * `INSERT ... ON CONFLICT DO UPDATE` can't touch a row twice.
 */
function collapse(records: readonly DeliveryRecord[]): { record: DeliveryRecord; weight: number }[] {
  const byId = new Map<string, { record: DeliveryRecord; weight: number }>();
  for (const record of records) {
    const seen = byId.get(record.messageId);
    if (seen === undefined) byId.set(record.messageId, { record, weight: 1 });
    else if (seen.record.outcome !== "sent") byId.set(record.messageId, { record, weight: seen.weight + 1 });
  }
  return [...byId.values()];
}

/**
 * The records of a statement in message-id order: the order every process locks rows in, so two statements
 * writing the same ids (two processes on one execution) wait for each other instead of deadlocking. A
 * dispatch records in its audience's order, so the calls are usually sorted already and don't overlap:
 * checked in one pass, sorted only when not.
 */
function inKeyOrder(collapsed: { record: DeliveryRecord; weight: number }[][]): DeliveryRecord[] {
  const first = (entries: { record: DeliveryRecord }[]) => entries[0]?.record.messageId ?? "";
  const calls = [...collapsed].sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : 0));
  const records: DeliveryRecord[] = [];
  for (const entries of calls) for (const entry of entries) records.push(entry.record);
  for (let i = 1; i < records.length; i++) {
    if (records[i - 1]!.messageId > records[i]!.messageId) {
      return records.sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
    }
  }
  return records;
}

const NEEDS_QUOTING = /["\\]/;

/**
 * A PostgreSQL array literal of text (`{"a","b",NULL}`) from a field of each record: a parameter PostgreSQL
 * parses in C, where pg's own array serialisation escapes every element in JavaScript.
 */
function textArray<T>(items: readonly T[], field: (item: T) => string | undefined): string {
  let out = "{";
  for (let i = 0; i < items.length; i++) {
    const value = field(items[i]!);
    if (i > 0) out += ",";
    if (value === undefined || value === null) out += "NULL";
    else out += `"${NEEDS_QUOTING.test(value) ? value.replace(/["\\]/g, "\\$&") : value}"`;
  }
  return `${out}}`;
}

/** A record's `at` as an ISO string; the records of one batch share their Date, so each is formatted once. */
function isoOf(): (record: DeliveryRecord) => string {
  let last: Date | undefined;
  let iso = "";
  return (record) => {
    if (record.at !== last) {
      last = record.at;
      iso = record.at.toISOString();
    }
    return iso;
  };
}

/**
 * The delivery ledger of {@link postgresStorage}: one table keyed by message id. Concurrent `record` calls
 * (the dispatcher's batches in flight) are committed together ({@link groupCommit}), each caller answered
 * after the commit that holds its records.
 */
export function ledgerMethods(db: Db): DeliveryLedger {
  const ledger = db.table("delivery_ledger");

  const record = groupCommit<readonly DeliveryRecord[], { written: number }>({
    ...db.groupCommit,
    maxItems: 50,
    keysOf: (records) => records.map((r) => r.messageId),
    flush: async (calls) => {
      // Calls never share a message id (group commit keeps them apart), so collapsing each alone is the same
      // as collapsing them together.
      const collapsed = calls.map(collapse);
      const batch = inKeyOrder(collapsed);
      // One text array per column, unnested by PostgreSQL: building them is a join, where rows as JSON
      // objects cost several times more (a Date's toJSON each); one statement, one round trip, one commit.
      const result = await db.pool.query<{ count: number; written: string[] | null }>(
        `WITH w AS (
           INSERT INTO ${ledger}
             (message_id, campaign_id, execution_id, recipient_id, channel, outcome, reason, attempts,
              provider_message_id, treatment_id, at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::integer[], $9::text[], $10::text[], $11::timestamptz[])
           ON CONFLICT (message_id) DO UPDATE SET
             campaign_id = excluded.campaign_id, execution_id = excluded.execution_id,
             recipient_id = excluded.recipient_id, channel = excluded.channel, outcome = excluded.outcome,
             reason = excluded.reason, attempts = excluded.attempts,
             provider_message_id = excluded.provider_message_id, treatment_id = excluded.treatment_id,
             at = excluded.at, claimed_by = NULL
           WHERE ${ledger}.outcome <> 'sent'
           RETURNING message_id)
         SELECT count(*)::integer AS count,
           CASE WHEN count(*) < $12 THEN coalesce(array_agg(message_id), '{}') END AS written
         FROM w`,
        // The WHERE of DO UPDATE is what keeps the first `sent`: it is checked on the locked, latest row.
        // The answer is one row: the ids written come back only when some were not (a resumed run).
        [
          textArray(batch, (r) => r.messageId),
          textArray(batch, (r) => r.campaignId),
          textArray(batch, (r) => r.executionId),
          textArray(batch, (r) => r.recipientId),
          textArray(batch, (r) => r.channel),
          textArray(batch, (r) => r.outcome),
          textArray(batch, (r) => r.reason),
          `{${batch.map((r) => r.attempts).join(",")}}`,
          textArray(batch, (r) => r.providerMessageId),
          textArray(batch, (r) => r.treatmentId),
          textArray(batch, isoOf()),
          batch.length,
        ],
      );
      const { written } = result.rows[0]!;
      const kept = written === null ? undefined : new Set(written);
      return collapsed.map((entries) => ({
        written: entries.reduce(
          (sum, e) => sum + (kept === undefined || kept.has(e.record.messageId) ? e.weight : 0),
          0,
        ),
      }));
    },
  });

  return {
    claim: ({ claims, owner, at }) =>
      guard("claim messages in the delivery ledger", async () => {
        const sent = new Set<string>();
        const inDoubt = new Set<string>();
        if (claims.length === 0) return { sent, inDoubt };
        const sorted = [...claims].sort((a, b) => (a.messageId < b.messageId ? -1 : 1));
        const rows = JSON.stringify(
          sorted.map((c) => ({
            message_id: c.messageId,
            campaign_id: c.campaignId,
            execution_id: c.executionId,
            recipient_id: c.recipientId,
            channel: c.channel,
          })),
        );
        // One statement: take what nobody holds, in message-id order (so two claimers lock alike), and say
        // why the rest was not taken. A row committed by a concurrent claimer after this statement's snapshot
        // is neither taken nor seen: it is another's claim (or a sent record), so it counts as in doubt.
        const result = await db.pool.query<{ message_id: string; taken: boolean; outcome: string | null }>(
          `WITH input AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(message_id text, campaign_id text,
               execution_id text, recipient_id text, channel text)
           ), taken AS (
             INSERT INTO ${ledger} (message_id, campaign_id, execution_id, recipient_id, channel, outcome,
               attempts, at, claimed_by)
             SELECT message_id, campaign_id, execution_id, recipient_id, channel, 'pending', 0, $2, $3 FROM input
             ON CONFLICT (message_id) DO UPDATE SET outcome = 'pending', claimed_by = $3, reason = NULL,
               attempts = 0, provider_message_id = NULL, at = $2
             WHERE ${ledger}.outcome IN ('failed', 'excluded')
               OR (${ledger}.outcome = 'pending' AND ${ledger}.claimed_by = $3)
             RETURNING message_id
           )
           SELECT i.message_id, (t.message_id IS NOT NULL) AS taken, l.outcome
           FROM input i LEFT JOIN taken t USING (message_id) LEFT JOIN ${ledger} l USING (message_id)`,
          [rows, at, owner],
        );
        for (const row of result.rows) {
          if (row.taken) continue;
          if (row.outcome === "sent") sent.add(row.message_id);
          else inDoubt.add(row.message_id);
        }
        return { sent, inDoubt };
      }),

    release: ({ messageIds, owner }) =>
      guard("release claims in the delivery ledger", async () => {
        if (messageIds.length === 0) return;
        await db.pool.query(
          `DELETE FROM ${ledger} WHERE message_id = ANY($1::text[]) AND outcome = 'pending' AND claimed_by = $2`,
          [messageIds, owner],
        );
      }),

    findSent: ({ messageIds }) =>
      guard("read the delivery ledger", async () => {
        if (messageIds.length === 0) return new Set<string>();
        // By the primary key alone, the outcome checked here: with `AND outcome = 'sent'` in the WHERE, a
        // ledger not analysed since it filled up (just migrated, or truncated) gets a plan that ANDs in a
        // scan of the whole partial index on sent rows: a third of a second per batch at a million rows.
        const result = await db.pool.query<{ message_id: string; outcome: string }>(
          `SELECT message_id, outcome FROM ${ledger} WHERE message_id = ANY($1::text[])`,
          [messageIds],
        );
        const sent = new Set<string>();
        for (const row of result.rows) if (row.outcome === "sent") sent.add(row.message_id);
        return sent;
      }),

    record: ({ records }) =>
      guard("write the delivery ledger", async () =>
        records.length === 0 ? { written: 0 } : record(records),
      ),

    countSentSince: ({ recipientIds, channel, since }) =>
      guard("count sent messages", async () => {
        const counts = new Map<string, number>();
        if (recipientIds.length === 0) return counts;
        const result = await db.pool.query<{ recipient_id: string; count: number }>(
          `SELECT recipient_id, count(*)::integer AS count FROM ${ledger}
           WHERE recipient_id = ANY($1::text[]) AND channel = $2 AND outcome = 'sent' AND at >= $3
           GROUP BY recipient_id`,
          [recipientIds, channel, since],
        );
        for (const row of result.rows) counts.set(row.recipient_id, row.count);
        return counts;
      }),

    find: ({ messageIds = [], providerMessageIds = [] }) =>
      guard("find messages in the delivery ledger", async () => {
        if (messageIds.length === 0 && providerMessageIds.length === 0) return [];
        // Each arm of the OR has its index (the primary key, and the provider id's): a bitmap OR of both.
        const result = await db.pool.query<{
          message_id: string;
          campaign_id: string;
          execution_id: string;
          recipient_id: string;
          channel: Channel;
          outcome: DeliveryRecord["outcome"];
          reason: string | null;
          attempts: number;
          provider_message_id: string | null;
          treatment_id: string | null;
          at: Date;
        }>(
          `SELECT * FROM ${ledger}
           WHERE message_id = ANY($1::text[]) OR provider_message_id = ANY($2::text[])`,
          [messageIds, providerMessageIds],
        );
        return result.rows.map((row) => {
          const record: DeliveryRecord = {
            messageId: row.message_id,
            campaignId: row.campaign_id,
            executionId: row.execution_id,
            recipientId: row.recipient_id,
            channel: row.channel,
            outcome: row.outcome,
            attempts: row.attempts,
            at: row.at,
          };
          if (row.reason !== null) record.reason = row.reason;
          if (row.provider_message_id !== null) record.providerMessageId = row.provider_message_id;
          if (row.treatment_id !== null) record.treatmentId = row.treatment_id;
          return record;
        });
      }),

    summarize: ({ campaignId, executionId }) =>
      guard(`summarize the deliveries of campaign '${campaignId}'`, async () => {
        const values: unknown[] = [campaignId];
        if (executionId !== undefined) values.push(executionId);
        const result = await db.pool.query<{
          outcome: "sent" | "failed" | "excluded";
          channel: Channel;
          reason: string | null;
          treatment_id: string | null;
          count: number;
          retries: string;
          first_sent_at: Date | null;
          last_sent_at: Date | null;
        }>(
          `SELECT outcome, channel, reason, treatment_id, count(*)::integer AS count, sum(greatest(attempts - 1, 0)) AS retries,
             min(at) FILTER (WHERE outcome = 'sent') AS first_sent_at,
             max(at) FILTER (WHERE outcome = 'sent') AS last_sent_at
           FROM ${ledger} WHERE campaign_id = $1 AND outcome <> 'pending' ${executionId === undefined ? "" : "AND execution_id = $2"}
           GROUP BY outcome, channel, reason, treatment_id`,
          values,
        );
        const summary: LedgerSummary = {
          outcomes: { sent: 0, failed: 0, excluded: 0 },
          byChannel: {},
          excludedByReason: {},
          byTreatment: {},
          retries: 0,
        };
        for (const row of result.rows) {
          summary.outcomes[row.outcome] += row.count;
          countByChannel(summary, row.channel, row.outcome, row.count);
          if (row.treatment_id !== null) countByTreatment(summary, row.treatment_id, row.outcome, row.count);
          summary.retries += Number(row.retries);
          if (row.outcome === "excluded") {
            // Same fallback as memoryLedger, so both summarize an unexplained exclusion alike.
            const reason = row.reason ?? "unknown";
            summary.excludedByReason[reason] = (summary.excludedByReason[reason] ?? 0) + row.count;
          }
          if (row.first_sent_at && (!summary.firstSentAt || row.first_sent_at < summary.firstSentAt)) {
            summary.firstSentAt = row.first_sent_at;
          }
          if (row.last_sent_at && (!summary.lastSentAt || row.last_sent_at > summary.lastSentAt)) {
            summary.lastSentAt = row.last_sent_at;
          }
        }
        if (summary.firstSentAt !== undefined) {
          // The messages are indexed by (campaign, execution): the second scan reads what the first did.
          const hours = await db.pool.query<{ hour: Date; count: number }>(
            `SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, count(*)::integer AS count
             FROM ${ledger} WHERE campaign_id = $1 ${executionId === undefined ? "" : "AND execution_id = $2"}
               AND outcome = 'sent'
             GROUP BY 1 ORDER BY 1`,
            values,
          );
          summary.sentByHour = Object.fromEntries(
            hours.rows.map((row) => [row.hour.toISOString(), row.count]),
          );
        }
        return summary;
      }),
  };
}
