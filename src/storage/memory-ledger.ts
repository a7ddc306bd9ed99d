import type { Channel } from "../domain/common.js";
import type { DeliveryOutcome, DeliveryRecord } from "../domain/execution.js";
import { messageIdPrefix } from "../engine/message-id.js";
import type { DeliveryLedger, LedgerSummary } from "./ledger.js";
import { grow, StringTable } from "./string-table.js";

/** A {@link DeliveryLedger} that lives in memory, with a way to look inside for tests. */
export interface MemoryLedger extends DeliveryLedger {
  /** The record held for a message id (a fresh object each call), or `undefined`. */
  get(messageId: string): DeliveryRecord | undefined;
  /** How many records it holds. */
  readonly size: number;
}

const OUTCOMES: readonly DeliveryOutcome[] = ["sent", "failed", "excluded"];
const SENT = 0;
const OUTCOME_CODE: Record<DeliveryOutcome, number> = { sent: 0, failed: 1, excluded: 2 };
const NONE = 0;

/** One (campaign, execution, channel): the fields every record of a dispatch action shares. */
interface Group {
  campaignId: string;
  executionId: string;
  channel: Channel;
  /** Its `messageIdPrefix`: when a record's id is this plus its recipient id, the latter isn't stored. */
  prefix: string;
}

/** `id.startsWith(prefix)`, several times faster on Node 20 for ids like these. */
function hasPrefix(id: string, prefix: string): boolean {
  return id.length >= prefix.length && id.slice(0, prefix.length) === prefix;
}

/**
 * The reference {@link DeliveryLedger}, kept compact: message ids live in a {@link StringTable} that numbers
 * them, and each number is a row of typed-array columns (outcome, attempts, time, interned campaign, execution
 * and channel, interned reason), with the rare fields (provider message ids, recipient ids that the message id
 * doesn't end with) in side maps. A million records are then a few flat arrays rather than a million objects
 * and strings for every garbage collection to walk, which is what kept the dispatcher's benchmark slow.
 * Records are copied in; {@link MemoryLedger.get} builds one back. The first `sent` record of a message id
 * wins. The per-recipient index that frequency capping reads is built on the first
 * {@link DeliveryLedger.countSentSince} call and kept up to date after, so campaigns without a cap never pay
 * for it.
 *
 * @example
 * ```ts
 * const ledger = memoryLedger();
 * await ledger.record({ records: [record] });
 * await ledger.findSent({ messageIds: [record.messageId] }); // Set { record.messageId } if it was sent
 * ```
 */
export function memoryLedger(): MemoryLedger {
  const ids = new StringTable();
  let outcomes = new Uint8Array(1024);
  let attempts = new Uint32Array(1024);
  let times = new Float64Array(1024);
  let groupOf = new Uint32Array(1024);
  let reasonOf = new Uint32Array(1024);
  const groups: Group[] = [];
  const groupIds = new Map<string, number>();
  const otherRecipients = new Map<number, string>();
  const providerIds = new Map<number, string>();
  // Reasons are interned: exclusion reasons are a handful of strings repeated across many records.
  const reasons: string[] = [""];
  const reasonIds = new Map<string, number>();
  // channel \0 recipientId -> times (ms) of sent messages; built lazily.
  let sentIndex: Map<string, number[]> | undefined;
  // The group of the last record: the records of one write almost always share it.
  let lastGroup = -1;

  const groupFor = (record: DeliveryRecord): number => {
    const last = groups[lastGroup];
    if (
      last !== undefined &&
      last.campaignId === record.campaignId &&
      last.executionId === record.executionId &&
      last.channel === record.channel
    )
      return lastGroup;
    const key = `${record.campaignId}\u0000${record.executionId}\u0000${record.channel}`;
    let id = groupIds.get(key);
    if (id === undefined) {
      id = groups.length;
      groups.push({
        campaignId: record.campaignId,
        executionId: record.executionId,
        channel: record.channel,
        prefix: messageIdPrefix(record.campaignId, record.executionId, record.channel),
      });
      groupIds.set(key, id);
    }
    lastGroup = id;
    ids.hintPrefix(groups[id]!.prefix);
    return id;
  };

  const reasonFor = (reason: string | undefined): number => {
    if (reason === undefined) return NONE;
    let id = reasonIds.get(reason);
    if (id === undefined) {
      id = reasons.length;
      reasons.push(reason);
      reasonIds.set(reason, id);
    }
    return id;
  };

  const recipientOf = (row: number, messageId: string): string =>
    otherRecipients.get(row) ?? messageId.slice(groups[groupOf[row]!]!.prefix.length);

  const indexSent = (channel: Channel, recipientId: string, time: number) => {
    if (!sentIndex) return;
    const key = `${channel}\u0000${recipientId}`;
    const list = sentIndex.get(key);
    if (list) list.push(time);
    else sentIndex.set(key, [time]);
  };

  /** Writes a record unless its id is already sent; returns whether it did. */
  const write = (record: DeliveryRecord): boolean => {
    const { messageId, recipientId } = record;
    const before = ids.size;
    const row = ids.add(messageId);
    if (row < before && outcomes[row] === SENT) return false;
    if (row >= outcomes.length) {
      const size = outcomes.length * 2;
      outcomes = grow(outcomes, size);
      attempts = grow(attempts, size);
      times = grow(times, size);
      groupOf = grow(groupOf, size);
      reasonOf = grow(reasonOf, size);
    }
    const group = groupFor(record);
    const { prefix } = groups[group]!;
    // Most ids are the group's prefix plus the recipient id: the recipient is read back from those.
    if (
      messageId.length === prefix.length + recipientId.length &&
      messageId.endsWith(recipientId) &&
      hasPrefix(messageId, prefix)
    )
      otherRecipients.delete(row);
    else otherRecipients.set(row, recipientId);
    groupOf[row] = group;
    outcomes[row] = OUTCOME_CODE[record.outcome];
    attempts[row] = record.attempts;
    times[row] = record.at.getTime();
    reasonOf[row] = reasonFor(record.reason);
    if (record.providerMessageId !== undefined) providerIds.set(row, record.providerMessageId);
    else providerIds.delete(row);
    if (record.outcome === "sent") indexSent(record.channel, recipientId, times[row]!);
    return true;
  };

  return {
    get size() {
      return ids.size;
    },

    get(messageId) {
      const row = ids.find(messageId);
      if (row < 0) return undefined;
      const group = groups[groupOf[row]!]!;
      const record: DeliveryRecord = {
        messageId,
        campaignId: group.campaignId,
        executionId: group.executionId,
        recipientId: recipientOf(row, messageId),
        channel: group.channel,
        outcome: OUTCOMES[outcomes[row]!]!,
        attempts: attempts[row]!,
        at: new Date(times[row]!),
      };
      if (reasonOf[row] !== NONE) record.reason = reasons[reasonOf[row]!]!;
      const providerMessageId = providerIds.get(row);
      if (providerMessageId !== undefined) record.providerMessageId = providerMessageId;
      return record;
    },

    async findSent({ messageIds }) {
      const found = new Set<string>();
      if (ids.size === 0) return found;
      for (const id of messageIds) {
        const row = ids.find(id);
        if (row >= 0 && outcomes[row] === SENT) found.add(id);
      }
      return found;
    },

    async record({ records: incoming }) {
      let written = 0;
      for (const record of incoming) if (write(record)) written++;
      return { written };
    },

    async countSentSince({ recipientIds, channel, since }) {
      if (!sentIndex) {
        sentIndex = new Map();
        for (let row = 0; row < ids.size; row++) {
          if (outcomes[row] !== SENT) continue;
          const recipientId = otherRecipients.get(row) ?? recipientOf(row, ids.keyAt(row));
          indexSent(groups[groupOf[row]!]!.channel, recipientId, times[row]!);
        }
      }
      const from = since.getTime();
      const counts = new Map<string, number>();
      for (const recipientId of recipientIds) {
        const list = sentIndex.get(`${channel satisfies Channel}\u0000${recipientId}`);
        if (!list) continue;
        let sent = 0;
        for (const time of list) if (time >= from) sent++;
        if (sent > 0) counts.set(recipientId, sent);
      }
      return counts;
    },

    async summarize({ campaignId, executionId }) {
      const summary: LedgerSummary = {
        outcomes: { sent: 0, failed: 0, excluded: 0 },
        excludedByReason: {},
        retries: 0,
      };
      const wanted = new Uint8Array(groups.length);
      let any = false;
      groups.forEach((group, g) => {
        if (group.campaignId !== campaignId) return;
        if (executionId !== undefined && group.executionId !== executionId) return;
        wanted[g] = 1;
        any = true;
      });
      if (!any) return summary;
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (let row = 0; row < ids.size; row++) {
        if (wanted[groupOf[row]!] !== 1) continue;
        const outcome = OUTCOMES[outcomes[row]!]!;
        summary.outcomes[outcome]++;
        if (attempts[row]! > 1) summary.retries += attempts[row]! - 1;
        if (outcome === "excluded") {
          const reason = reasonOf[row] === NONE ? "unknown" : reasons[reasonOf[row]!]!;
          summary.excludedByReason[reason] = (summary.excludedByReason[reason] ?? 0) + 1;
        } else if (outcome === "sent") {
          if (times[row]! < first) first = times[row]!;
          if (times[row]! > last) last = times[row]!;
        }
      }
      if (first !== Number.POSITIVE_INFINITY) {
        summary.firstSentAt = new Date(first);
        summary.lastSentAt = new Date(last);
      }
      return summary;
    },
  };
}
