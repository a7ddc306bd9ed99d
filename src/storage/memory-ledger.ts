import type { Channel } from "../domain/common.js";
import type { DeliveryOutcome, DeliveryRecord } from "../domain/execution.js";
import { messageIdPrefix } from "../engine/message-id.js";
import { countByChannel, type DeliveryLedger, type LedgerScope, type LedgerSummary } from "./ledger.js";
import { grow, StringTable } from "./string-table.js";

/** A {@link DeliveryLedger} that lives in memory, with a way to look inside for tests. */
export interface MemoryLedger extends DeliveryLedger {
  findRecorded: NonNullable<DeliveryLedger["findRecorded"]>;
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
  /** Its index in `groups`. */
  id: number;
  campaignId: string;
  executionId: string;
  channel: Channel;
  /** Its `messageIdPrefix`: when a record's id is this plus its recipient id, the latter isn't stored. */
  prefix: string;
  /** The key space of {@link prefix} (see {@link splitAt}), or -1 if it isn't one. */
  space: number;
}

/** `id.startsWith(prefix)`, several times faster on Node 20 for ids like these. */
function hasPrefix(id: string, prefix: string): boolean {
  return id.length >= prefix.length && id.slice(0, prefix.length) === prefix;
}

const M = 109; // "m"
const COLON = 58;

/**
 * Where a message id's recipient id starts: just after `m:<n>:<n chars>:<n>:<n chars>:<channel>:` (the form
 * of `messageId`), or -1 when the id doesn't have that form. A function of the id alone, so an id is keyed
 * the same way whoever writes or reads it; and an id that starts with a prefix `p` for which
 * `splitAt(p) === p.length` splits right after `p`, which is what lets a cached prefix skip the parsing.
 */
export function splitAt(id: string): number {
  if (id.charCodeAt(0) !== M || id.charCodeAt(1) !== COLON) return -1;
  let at = 2;
  for (let part = 0; part < 2; part++) {
    let length = 0;
    const from = at;
    for (let c = id.charCodeAt(at); c >= 48 && c <= 57; c = id.charCodeAt(++at))
      length = length * 10 + c - 48;
    if (at === from || at - from > 9 || id.charCodeAt(at) !== COLON) return -1;
    at += 1 + length;
    if (id.charCodeAt(at) !== COLON) return -1;
    at++;
  }
  const end = id.indexOf(":", at);
  return end < 0 ? -1 : end + 1;
}

/**
 * The reference {@link DeliveryLedger}, kept compact: message ids live in a {@link StringTable} that numbers
 * them, and each number is a row of typed-array columns (outcome, attempts, time, interned campaign, execution
 * and channel, interned reason), with the rare fields (provider message ids, recipient ids that the message id
 * doesn't end with) in side maps. A million records are then a few flat arrays rather than a million objects
 * and strings for every garbage collection to walk, which is what kept the dispatcher's benchmark slow.
 * A message id of the usual form (`messageId`) is keyed as (its interned prefix, its recipient id), so the
 * table hashes, compares and copies a few characters per record rather than forty; any other id is keyed
 * whole. Records are copied in; {@link MemoryLedger.get} builds one back. The first `sent` record of a
 * message id wins. The per-recipient index that frequency capping reads is built on the first
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
  // Key spaces: 0 holds whole message ids, the others one message id prefix each.
  const spaceIds = new Map<string, number>();
  const otherRecipients = new Map<number, string>();
  const providerIds = new Map<number, string>();
  // Reasons are interned: exclusion reasons are a handful of strings repeated across many records.
  const reasons: string[] = [""];
  const reasonIds = new Map<string, number>();
  // channel \0 recipientId -> times (ms) of sent messages; built lazily.
  let sentIndex: Map<string, number[]> | undefined;
  // The group of the last record: the records of one write almost always share it.
  let lastGroup: Group | undefined;
  // The last prefix split off a message id, and its space: the ids of one call almost always share it.
  let lastPrefix = "";
  let lastSpace = -1;
  // The space of the key {@link keyOf} returned last.
  let keySpace = 0;

  const spaceFor = (prefix: string, create: boolean): number => {
    let space = spaceIds.get(prefix);
    if (space === undefined) {
      if (!create) return -1;
      space = spaceIds.size + 1;
      spaceIds.set(prefix, space);
    }
    return space;
  };

  /**
   * The key of a message id within {@link keySpace}: its recipient id when it splits, else the whole id. When
   * the id's prefix has no space yet, `create` makes one; otherwise the result is `undefined` (so unknown).
   */
  const keyOf = (messageId: string, create: boolean): string | undefined => {
    if (lastSpace > 0 && hasPrefix(messageId, lastPrefix)) {
      keySpace = lastSpace;
      return messageId.slice(lastPrefix.length);
    }
    const at = splitAt(messageId);
    if (at < 0) {
      keySpace = 0;
      return messageId;
    }
    const prefix = messageId.slice(0, at);
    const space = spaceFor(prefix, create);
    if (space < 0) return undefined;
    lastPrefix = prefix;
    lastSpace = space;
    keySpace = space;
    return messageId.slice(at);
  };

  const groupFor = (record: LedgerScope): Group => {
    const last = lastGroup;
    if (
      last !== undefined &&
      last.campaignId === record.campaignId &&
      last.executionId === record.executionId &&
      last.channel === record.channel
    )
      return last;
    const key = `${record.campaignId}\u0000${record.executionId}\u0000${record.channel}`;
    let id = groupIds.get(key);
    if (id === undefined) {
      id = groups.length;
      const prefix = messageIdPrefix(record.campaignId, record.executionId, record.channel);
      groups.push({
        id,
        campaignId: record.campaignId,
        executionId: record.executionId,
        channel: record.channel,
        prefix,
        space: splitAt(prefix) === prefix.length ? spaceFor(prefix, true) : -1,
      });
      groupIds.set(key, id);
    }
    lastGroup = groups[id]!;
    return lastGroup;
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

  /** The row of a message id, or -1. */
  const rowOf = (messageId: string): number => {
    const key = keyOf(messageId, false);
    return key === undefined ? -1 : ids.find(keySpace, key);
  };

  // A row's recipient id is its key unless the side map says otherwise.
  const recipientOf = (row: number): string => otherRecipients.get(row) ?? ids.keyAt(row);

  const indexSent = (channel: Channel, recipientId: string, time: number) => {
    if (!sentIndex) return;
    const key = `${channel}\u0000${recipientId}`;
    const list = sentIndex.get(key);
    if (list) list.push(time);
    else sentIndex.set(key, [time]);
  };

  /**
   * Fills a row for a record unless its id is already sent; returns whether it did. `row` is the record's
   * row (`fresh` when just added), `keyed` whether the row's key is the record's recipient id.
   */
  const fill = (record: DeliveryRecord, group: Group, row: number, fresh: boolean, keyed: boolean) => {
    if (!fresh && outcomes[row] === SENT) return false;
    if (row >= outcomes.length) {
      const size = outcomes.length * 2;
      outcomes = grow(outcomes, size);
      attempts = grow(attempts, size);
      times = grow(times, size);
      groupOf = grow(groupOf, size);
      reasonOf = grow(reasonOf, size);
    }
    if (!keyed) otherRecipients.set(row, record.recipientId);
    else if (!fresh) otherRecipients.delete(row);
    groupOf[row] = group.id;
    outcomes[row] = OUTCOME_CODE[record.outcome];
    attempts[row] = record.attempts;
    const time = record.at.getTime();
    times[row] = time;
    reasonOf[row] = record.reason === undefined ? NONE : reasonFor(record.reason);
    if (record.providerMessageId !== undefined) providerIds.set(row, record.providerMessageId);
    else if (!fresh) providerIds.delete(row);
    if (sentIndex !== undefined && record.outcome === "sent")
      indexSent(record.channel, record.recipientId, time);
    return true;
  };

  /** Writes a record unless its id is already sent; returns whether it did. */
  const write = (record: DeliveryRecord): boolean => {
    const { messageId, recipientId } = record;
    const group = groupFor(record);
    const { prefix } = group;
    const before = ids.size;
    if (
      group.space > 0 &&
      messageId.length === prefix.length + recipientId.length &&
      messageId.endsWith(recipientId) &&
      hasPrefix(messageId, prefix)
    ) {
      // The usual id, the group's prefix plus the recipient id: it splits there, so no parsing.
      const row = ids.add(group.space, recipientId);
      return fill(record, group, row, row === before, true);
    }
    const key = keyOf(messageId, true)!;
    const row = ids.add(keySpace, key);
    return fill(record, group, row, row === before, key === recipientId);
  };

  const ledger: MemoryLedger = {
    get size() {
      return ids.size;
    },

    get(messageId) {
      const row = rowOf(messageId);
      if (row < 0) return undefined;
      const group = groups[groupOf[row]!]!;
      const record: DeliveryRecord = {
        messageId,
        campaignId: group.campaignId,
        executionId: group.executionId,
        recipientId: recipientOf(row),
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
        const row = rowOf(id);
        if (row >= 0 && outcomes[row] === SENT) found.add(id);
      }
      return found;
    },

    async findRecorded({ messageIds }) {
      const found = new Set<string>();
      if (ids.size === 0) return found;
      for (const id of messageIds) if (rowOf(id) >= 0) found.add(id);
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
          const recipientId = recipientOf(row);
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
        byChannel: {},
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
        countByChannel(summary, groups[groupOf[row]!]!.channel, outcome);
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
  // The fast paths are not enumerable: a wrapper made by spreading the ledger (`{ ...ledger, record }`) then
  // doesn't inherit a path around the methods it overrides, and falls back to them.
  const fastPaths: Pick<DeliveryLedger, "findSentByRecipient" | "recordByRecipient"> = {
    async findSentByRecipient({ campaignId, executionId, channel, recipientIds }) {
      const found = new Set<string>();
      if (ids.size === 0) return found;
      const last = lastGroup;
      let space: number;
      if (
        last !== undefined &&
        last.space > 0 &&
        last.campaignId === campaignId &&
        last.executionId === executionId &&
        last.channel === channel
      )
        space = last.space;
      else {
        const prefix = messageIdPrefix(campaignId, executionId, channel);
        space = splitAt(prefix) === prefix.length ? spaceFor(prefix, false) : -2;
        if (space === -1) return found;
        if (space === -2) {
          // Not a prefix the ids split after (a channel with a colon): the reference path.
          for (const recipientId of recipientIds) {
            const row = rowOf(prefix + recipientId);
            if (row >= 0 && outcomes[row] === SENT) found.add(recipientId);
          }
          return found;
        }
      }
      for (const recipientId of recipientIds) {
        const row = ids.find(space, recipientId);
        if (row >= 0 && outcomes[row] === SENT) found.add(recipientId);
      }
      return found;
    },

    async recordByRecipient({ records: incoming, ...scope }) {
      const group = groupFor(scope);
      let written = 0;
      if (group.space < 0) {
        for (const record of incoming) if (write(record)) written++;
        return { written };
      }
      const { space } = group;
      for (const record of incoming) {
        const before = ids.size;
        const row = ids.add(space, record.recipientId);
        if (fill(record, group, row, row === before, true)) written++;
      }
      return { written };
    },
  };
  Object.defineProperties(ledger, {
    findSentByRecipient: { value: fastPaths.findSentByRecipient, enumerable: false },
    recordByRecipient: { value: fastPaths.recordByRecipient, enumerable: false },
  });
  return ledger;
}
