import type { Channel } from "../../model/common.js";
import type { DeliveryRecord } from "../../model/execution.js";
import { countByChannel, type DeliveryLedger, type LedgerSummary } from "../../ports/ledger.js";
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
      const batch = collapsed.flat().sort((a, b) => (a.record.messageId < b.record.messageId ? -1 : 1));
      // One JSON parameter, unpacked by PostgreSQL: see the document store's `rows`.
      const rows = JSON.stringify(
        batch.map(({ record: r }) => ({
          message_id: r.messageId,
          campaign_id: r.campaignId,
          execution_id: r.executionId,
          recipient_id: r.recipientId,
          channel: r.channel,
          outcome: r.outcome,
          reason: r.reason,
          attempts: r.attempts,
          provider_message_id: r.providerMessageId,
          at: r.at,
        })),
      );
      // The WHERE of DO UPDATE is what keeps the first `sent`: it is checked on the locked, latest row.
      const result = await db.pool.query<{ message_id: string }>(
        `INSERT INTO ${ledger}
           (message_id, campaign_id, execution_id, recipient_id, channel, outcome, reason, attempts,
            provider_message_id, at)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(message_id text, campaign_id text, execution_id text,
           recipient_id text, channel text, outcome text, reason text, attempts integer, provider_message_id text,
           at timestamptz)
         ON CONFLICT (message_id) DO UPDATE SET
           campaign_id = excluded.campaign_id, execution_id = excluded.execution_id,
           recipient_id = excluded.recipient_id, channel = excluded.channel, outcome = excluded.outcome,
           reason = excluded.reason, attempts = excluded.attempts,
           provider_message_id = excluded.provider_message_id, at = excluded.at, claimed_by = NULL
         WHERE ${ledger}.outcome <> 'sent'
         RETURNING message_id`,
        [rows],
      );
      const written = new Set(result.rows.map((row) => row.message_id));
      return collapsed.map((entries) => ({
        written: entries.reduce((sum, e) => sum + (written.has(e.record.messageId) ? e.weight : 0), 0),
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
        const result = await db.pool.query<{ message_id: string }>(
          `SELECT message_id FROM ${ledger} WHERE message_id = ANY($1::text[]) AND outcome = 'sent'`,
          [messageIds],
        );
        return new Set(result.rows.map((row) => row.message_id));
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

    summarize: ({ campaignId, executionId }) =>
      guard(`summarize the deliveries of campaign '${campaignId}'`, async () => {
        const values: unknown[] = [campaignId];
        if (executionId !== undefined) values.push(executionId);
        const result = await db.pool.query<{
          outcome: "sent" | "failed" | "excluded";
          channel: Channel;
          reason: string | null;
          count: number;
          retries: string;
          first_sent_at: Date | null;
          last_sent_at: Date | null;
        }>(
          `SELECT outcome, channel, reason, count(*)::integer AS count, sum(greatest(attempts - 1, 0)) AS retries,
             min(at) FILTER (WHERE outcome = 'sent') AS first_sent_at,
             max(at) FILTER (WHERE outcome = 'sent') AS last_sent_at
           FROM ${ledger} WHERE campaign_id = $1 AND outcome <> 'pending' ${executionId === undefined ? "" : "AND execution_id = $2"}
           GROUP BY outcome, channel, reason`,
          values,
        );
        const summary: LedgerSummary = {
          outcomes: { sent: 0, failed: 0, excluded: 0 },
          byChannel: {},
          excludedByReason: {},
          retries: 0,
        };
        for (const row of result.rows) {
          summary.outcomes[row.outcome] += row.count;
          countByChannel(summary, row.channel, row.outcome, row.count);
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
        return summary;
      }),
  };
}
