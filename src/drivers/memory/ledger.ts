import type { DeliveryRecord } from "../../model/execution.js";
import {
  countByChannel,
  countByTreatment,
  type DeliveryLedger,
  type LedgerSummary,
  type MessageClaim,
} from "../../ports/ledger.js";

/** A {@link DeliveryLedger} that lives in memory, with a way to look inside for tests. */
export interface MemoryLedger extends DeliveryLedger {
  /** The record held for a message id (a copy), or `undefined`. */
  get(messageId: string): DeliveryRecord | undefined;
  /** Claims (see {@link DeliveryLedger.claim}). */
  claim: NonNullable<DeliveryLedger["claim"]>;
  /** Releases (see {@link DeliveryLedger.release}). */
  release: NonNullable<DeliveryLedger["release"]>;
  /** How many records it holds. */
  readonly size: number;
}

/**
 * What the ledger keeps of a record: one flat object of a single shape per message, the time as a number.
 * Copying into it (rather than keeping the caller's object) means a record changed after it was written
 * never changes the ledger, and a million of them stay cheap for the garbage collector to walk.
 */
class Stored {
  readonly campaignId: string;
  readonly executionId: string;
  readonly recipientId: string;
  readonly channel: DeliveryRecord["channel"];
  readonly outcome: DeliveryRecord["outcome"];
  readonly attempts: number;
  readonly at: number;
  readonly reason: string | undefined;
  readonly providerMessageId: string | undefined;
  readonly treatmentId: string | undefined;
  /** Who holds a `pending` message (see {@link DeliveryLedger.claim}). */
  owner: string | undefined;

  constructor(record: DeliveryRecord) {
    this.campaignId = record.campaignId;
    this.executionId = record.executionId;
    this.recipientId = record.recipientId;
    this.channel = record.channel;
    this.outcome = record.outcome;
    this.attempts = record.attempts;
    this.at = record.at.getTime();
    this.reason = record.reason;
    this.providerMessageId = record.providerMessageId;
    this.treatmentId = record.treatmentId;
    this.owner = undefined;
  }

  /** A `pending` claim of a message by `owner`: not a delivery outcome, counted nowhere. */
  static pending(claim: MessageClaim, owner: string, at: Date): Stored {
    const stored = new Stored({ ...claim, outcome: "pending" as DeliveryRecord["outcome"], attempts: 0, at });
    stored.owner = owner;
    return stored;
  }

  toRecord(messageId: string): DeliveryRecord {
    const { campaignId, executionId, recipientId, channel, outcome, attempts } = this;
    const record: DeliveryRecord = {
      messageId,
      campaignId,
      executionId,
      recipientId,
      channel,
      outcome,
      attempts,
      at: new Date(this.at),
    };
    if (this.reason !== undefined) record.reason = this.reason;
    if (this.providerMessageId !== undefined) record.providerMessageId = this.providerMessageId;
    if (this.treatmentId !== undefined) record.treatmentId = this.treatmentId;
    return record;
  }
}

/**
 * The reference {@link DeliveryLedger}: a `Map` from message id to record. Records are copied in and out; the
 * first `sent` record of a message id wins. The per-recipient index that frequency capping reads is built on
 * the first {@link DeliveryLedger.countSentSince} call and kept up to date after, so campaigns without a cap
 * never pay for it.
 *
 * @example
 * ```ts
 * const ledger = memoryLedger();
 * await ledger.record({ records: [record] });
 * await ledger.findSent({ messageIds: [record.messageId] }); // Set { record.messageId } if it was sent
 * ```
 */
export function memoryLedger(): MemoryLedger {
  const records = new Map<string, Stored>();
  // provider message id -> message id, kept as records are written (a provider id is unique to its message).
  const byProvider = new Map<string, string>();
  // channel \0 recipientId -> times (ms) of its sent messages.
  let sentIndex: Map<string, number[]> | undefined;
  const indexSent = (record: Stored) => {
    const key = `${record.channel}\u0000${record.recipientId}`;
    const times = sentIndex?.get(key);
    if (times) times.push(record.at);
    else sentIndex?.set(key, [record.at]);
  };
  const matching = (messageIds: readonly string[], keep: (record: Stored) => boolean) => {
    const found = new Set<string>();
    for (const id of messageIds) {
      const record = records.get(id);
      if (record !== undefined && keep(record)) found.add(id);
    }
    return found;
  };

  return {
    get size() {
      return records.size;
    },
    get: (messageId) => {
      const stored = records.get(messageId);
      return stored === undefined || (stored.outcome as string) === "pending"
        ? undefined
        : stored.toRecord(messageId);
    },
    async claim({ claims, owner, at }) {
      const sent = new Set<string>();
      const inDoubt = new Set<string>();
      for (const claim of claims) {
        const stored = records.get(claim.messageId);
        if (stored?.outcome === "sent") sent.add(claim.messageId);
        else if ((stored?.outcome as string) === "pending" && stored?.owner !== owner)
          inDoubt.add(claim.messageId);
        else records.set(claim.messageId, Stored.pending(claim, owner, at));
      }
      return { sent, inDoubt };
    },
    async release({ messageIds, owner }) {
      for (const id of messageIds) {
        const stored = records.get(id);
        if ((stored?.outcome as string) === "pending" && stored?.owner === owner) records.delete(id);
      }
    },
    findSent: async ({ messageIds }) => matching(messageIds, (record) => record.outcome === "sent"),
    async record({ records: incoming }) {
      let written = 0;
      for (const record of incoming) {
        if (records.get(record.messageId)?.outcome === "sent") continue;
        const stored = new Stored(record);
        records.set(record.messageId, stored);
        if (stored.providerMessageId !== undefined)
          byProvider.set(stored.providerMessageId, record.messageId);
        if (stored.outcome === "sent") indexSent(stored);
        written++;
      }
      return { written };
    },
    async countSentSince({ recipientIds, channel, since }) {
      if (sentIndex === undefined) {
        sentIndex = new Map();
        for (const record of records.values()) if (record.outcome === "sent") indexSent(record);
      }
      const from = since.getTime();
      const counts = new Map<string, number>();
      for (const recipientId of recipientIds) {
        const sent = sentIndex.get(`${channel}\u0000${recipientId}`)?.filter((time) => time >= from).length;
        if (sent) counts.set(recipientId, sent);
      }
      return counts;
    },
    async find({ messageIds = [], providerMessageIds = [] }) {
      const ids = new Set(messageIds);
      for (const providerId of providerMessageIds) {
        const id = byProvider.get(providerId);
        // The index may name a message whose later record has another provider id: check the record.
        if (id !== undefined && records.get(id)?.providerMessageId === providerId) ids.add(id);
      }
      const found: DeliveryRecord[] = [];
      for (const id of ids) {
        const record = records.get(id);
        if (record !== undefined) found.push(record.toRecord(id));
      }
      return found;
    },
    async summarize({ campaignId, executionId }) {
      const summary: LedgerSummary = {
        outcomes: { sent: 0, failed: 0, excluded: 0 },
        byChannel: {},
        excludedByReason: {},
        byTreatment: {},
        retries: 0,
      };
      const hours = new Map<string, number>();
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const record of records.values()) {
        if (record.campaignId !== campaignId) continue;
        if (executionId !== undefined && record.executionId !== executionId) continue;
        if ((record.outcome as string) === "pending") continue;
        summary.outcomes[record.outcome]++;
        countByChannel(summary, record.channel, record.outcome);
        if (record.treatmentId !== undefined) countByTreatment(summary, record.treatmentId, record.outcome);
        if (record.attempts > 1) summary.retries += record.attempts - 1;
        if (record.outcome === "excluded") {
          const reason = record.reason ?? "unknown";
          summary.excludedByReason[reason] = (summary.excludedByReason[reason] ?? 0) + 1;
        } else if (record.outcome === "sent") {
          const hour = new Date(record.at - (record.at % 3_600_000)).toISOString();
          hours.set(hour, (hours.get(hour) ?? 0) + 1);
          if (record.at < first) first = record.at;
          if (record.at > last) last = record.at;
        }
      }
      if (first <= last) {
        summary.firstSentAt = new Date(first);
        summary.lastSentAt = new Date(last);
        summary.sentByHour = Object.fromEntries([...hours].sort(([a], [b]) => (a < b ? -1 : 1)));
      }
      return summary;
    },
  };
}
