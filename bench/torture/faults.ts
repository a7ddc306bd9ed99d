/**
 * Transient faults and throttling: a scheduled send of N recipients through `memoryChannel`'s seeded fault
 * injection (20 % transient errors, 10 % throttled, 1 % permanent), watched message by message. Every
 * recipient must end counted, a message the provider never accepted must never be recorded `sent`, and
 * nothing may be delivered twice. On a virtual clock, so backoff and retry-after cost no real time.
 */

import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { type MemoryChannel, memoryChannel } from "../../src/drivers/memory/channel.js";
import { RateLimitedError } from "../../src/errors.js";
import type { BatchItemResult, ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import { kitClock } from "../../test/kit/fixtures.js";
import {
  ADMIN,
  AUDIENCE,
  type Figure,
  figures,
  fmt,
  ledgerView,
  liveCampaign,
  members,
  onlyExecution,
  readyKit,
  type Scenario,
  sized,
  storageKinds,
  storageOf,
  type TortureOptions,
  totals,
  trialsOf,
} from "./support.js";

const CAMPAIGN = "faults";
/** Members without consent, excluded: a whole first batch and half the next, so both kinds are counted. */
const WITHOUT_CONSENT = 150;

/**
 * Wraps the channel to see each recipient's results (one action, one execution: a recipient is a message):
 * how many times the provider accepted it, whether it was ever throttled, and how many other errors there were.
 */
function watched(inner: MemoryChannel) {
  const accepted = new Map<string, number>();
  const throttled = new Set<string>();
  let transient = 0;
  const note = (message: OutboundMessage, result: BatchItemResult) => {
    const id = message.recipientId;
    if (result.ok) accepted.set(id, (accepted.get(id) ?? 0) + 1);
    else if (result.error instanceof RateLimitedError) throttled.add(id);
    else transient++;
  };
  const adapter: ChannelAdapter = {
    name: inner.name,
    channel: inner.channel,
    capabilities: inner.capabilities,
    async send(message, context) {
      try {
        const result = await inner.send(message, context);
        note(message, { ok: true });
        return result;
      } catch (error) {
        note(message, { ok: false, error: error as Error });
        throw error;
      }
    },
    async sendBatch(messages, context) {
      const results = await inner.sendBatch!(messages, context);
      for (let i = 0; i < results.length; i++) note(messages[i]!, results[i]!);
      return results;
    },
  };
  return { adapter, accepted, throttled, transientCount: () => transient };
}

async function trial(kind: "memory" | "postgres", options: TortureOptions, seed: number, recipients: number) {
  const { storage, dispose } = await storageOf(kind, options, "faults");
  try {
    const inner = memoryChannel({
      failureRate: 0.2,
      rateLimitRate: 0.1,
      permanentFailureRate: 0.01,
      retryAfterMs: 50,
      seed,
    });
    const channel = watched(inner);
    const kit = await readyKit({
      storage,
      clock: kitClock(),
      channels: [channel.adapter],
      audiences: memoryAudiences({ audiences: { [AUDIENCE]: () => members(recipients, WITHOUT_CONSENT) } }),
    });
    await liveCampaign(kit, CAMPAIGN);
    await kit.scheduler.tick();
    await kit.idle();
    const { executionId } = await onlyExecution(storage, CAMPAIGN);
    const ledger = await ledgerView(storage, CAMPAIGN, executionId, recipients);
    const report = await kit.reports.campaign({ actor: ADMIN, id: CAMPAIGN });
    let sentNeverAccepted = 0;
    let acceptedNotSent = 0;
    let throttledSent = 0;
    let duplicates = 0;
    for (let i = 0; i < recipients; i++) {
      const id = `p${i}`;
      const times = channel.accepted.get(id) ?? 0;
      if (ledger.sent.has(id) && times === 0) sentNeverAccepted++;
      if (ledger.sent.has(id) && times === 0 && channel.throttled.has(id)) throttledSent++;
      if (!ledger.sent.has(id) && times > 0) acceptedNotSent++;
      if (times > 1) duplicates += times - 1;
    }
    const result = {
      counted: report.outcomes.sent + report.outcomes.failed + report.outcomes.excluded,
      unrecorded: recipients - ledger.recordedCount,
      sentNeverAccepted,
      acceptedNotSent,
      throttledSent,
      duplicates,
      transient: channel.transientCount(),
      throttled: channel.throttled.size,
      failed: report.outcomes.failed,
      noConsent: report.excludedByReason["no-consent"],
      retries: report.retries,
    };
    console.log(
      `  ${kind} seed ${seed}: ${fmt(recipients)} recipients, ${fmt(result.transient)} transient errors, ` +
        `${fmt(result.throttled)} messages throttled, sent ${fmt(report.outcomes.sent)}, failed ` +
        `${fmt(result.failed)}, excluded ${fmt(report.outcomes.excluded)}`,
    );
    return result;
  } finally {
    await dispose();
  }
}

export const faults: Scenario = {
  name: "faults",
  summary: "20 % transient faults, 10 % throttling, 1 % permanent: every recipient counted once",
  async run(options): Promise<Figure[]> {
    const list: Figure[] = [];
    const recipients = sized(options, 50_000, 10_000);
    const trials = trialsOf(options, 2, 1);
    for (const kind of storageKinds(options)) {
      const f = figures("faults", kind);
      const results: Awaited<ReturnType<typeof trial>>[] = [];
      for (let i = 0; i < trials; i++) results.push(await trial(kind, options, options.seed + i, recipients));
      const t = totals(results);
      f.info("trials x recipients", `${trials} x ${fmt(recipients)}`);
      f.info("transient errors / throttled messages", `${fmt(t.transient)} / ${fmt(t.throttled)}`);
      f.info("failed for good / retries", `${fmt(t.failed)} / ${fmt(t.retries)}`);
      f.equal("recipients counted (sent+failed+excluded)", t.counted, trials * recipients);
      f.equal("excluded for no consent", t.noConsent, trials * WITHOUT_CONSENT);
      f.equal("recipients without a ledger outcome", t.unrecorded, 0);
      f.equal("`sent` in the ledger, never accepted by the provider", t.sentNeverAccepted, 0);
      f.equal("throttled (never accepted) yet counted `sent`", t.throttledSent, 0);
      f.equal("accepted by the provider, not `sent` in the ledger", t.acceptedNotSent, 0);
      f.equal("messages delivered twice", t.duplicates, 0);
      list.push(...f.list);
    }
    return list;
  },
};
