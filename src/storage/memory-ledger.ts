import type { Channel } from "../domain/common.js";
import type { DeliveryRecord } from "../domain/execution.js";
import type { DeliveryLedger, LedgerSummary } from "./ledger.js";

/** A {@link DeliveryLedger} that lives in memory, with a way to look inside for tests. */
export interface MemoryLedger extends DeliveryLedger {
  /** The record held for a message id, or `undefined`. */
  get(messageId: string): DeliveryRecord | undefined;
  /** How many records it holds. */
  readonly size: number;
}

/**
 * The reference {@link DeliveryLedger}: a `Map` keyed by message id, where the first `sent` record wins.
 * Records are kept as passed (no copy, which matters at a million records): don't mutate them afterwards. The per-recipient index that frequency capping
 * reads is built on the first {@link DeliveryLedger.countSentSince} call and kept up to date after, so
 * campaigns without a cap never pay for it.
 *
 * @example
 * ```ts
 * const ledger = memoryLedger();
 * await ledger.record({ records: [record] });
 * await ledger.findSent({ messageIds: [record.messageId] }); // Set { record.messageId } if it was sent
 * ```
 */
export function memoryLedger(): MemoryLedger {
  const records = new Map<string, DeliveryRecord>();
  // channel \0 recipientId -> times (ms) of sent messages; built lazily.
  let sentIndex: Map<string, number[]> | undefined;

  const indexSent = (record: DeliveryRecord) => {
    if (!sentIndex) return;
    const key = `${record.channel}\u0000${record.recipientId}`;
    const times = sentIndex.get(key);
    if (times) times.push(record.at.getTime());
    else sentIndex.set(key, [record.at.getTime()]);
  };

  return {
    get size() {
      return records.size;
    },
    get: (messageId) => records.get(messageId),

    async findSent({ messageIds }) {
      const found = new Set<string>();
      for (const id of messageIds) if (records.get(id)?.outcome === "sent") found.add(id);
      return found;
    },

    async record({ records: incoming }) {
      let written = 0;
      for (const record of incoming) {
        if (records.get(record.messageId)?.outcome === "sent") continue;
        records.set(record.messageId, record);
        written++;
        if (record.outcome === "sent") indexSent(record);
      }
      return { written };
    },

    async countSentSince({ recipientIds, channel, since }) {
      if (!sentIndex) {
        sentIndex = new Map();
        for (const record of records.values()) if (record.outcome === "sent") indexSent(record);
      }
      const from = since.getTime();
      const counts = new Map<string, number>();
      for (const recipientId of recipientIds) {
        const times = sentIndex.get(`${channel satisfies Channel}\u0000${recipientId}`);
        if (!times) continue;
        let count = 0;
        for (const time of times) if (time >= from) count++;
        if (count > 0) counts.set(recipientId, count);
      }
      return counts;
    },

    async summarize({ campaignId, executionId }) {
      const summary: LedgerSummary = {
        outcomes: { sent: 0, failed: 0, excluded: 0 },
        excludedByReason: {},
        retries: 0,
      };
      for (const record of records.values()) {
        if (record.campaignId !== campaignId) continue;
        if (executionId !== undefined && record.executionId !== executionId) continue;
        summary.outcomes[record.outcome]++;
        if (record.attempts > 1) summary.retries += record.attempts - 1;
        if (record.outcome === "excluded") {
          const reason = record.reason ?? "unknown";
          summary.excludedByReason[reason] = (summary.excludedByReason[reason] ?? 0) + 1;
        } else if (record.outcome === "sent") {
          if (!summary.firstSentAt || record.at < summary.firstSentAt) summary.firstSentAt = record.at;
          if (!summary.lastSentAt || record.at > summary.lastSentAt) summary.lastSentAt = record.at;
        }
      }
      return summary;
    },
  };
}
