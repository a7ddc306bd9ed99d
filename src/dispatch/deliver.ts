import type { RateLimitedError } from "../errors.js";
import type { DeliveryRecord } from "../model/execution.js";
import type { BatchItemResult, OutboundMessage } from "../ports/channel.js";
import { errorFields } from "../ports/logger.js";
import { backoffDelay, classifyError, errorReason } from "./retry.js";
import type { PreparedAction, Run } from "./run.js";
import { exclude, ledgerCall, makeRecord, maybeProgress } from "./run.js";

const OK: BatchItemResult = { ok: true };

/** How many of a batch's messages ended each way, for its span. */
export interface BatchTally {
  sent: number;
  failed: number;
  excluded: number;
}

/** At most this many message ids in one "retries exhausted" log line. */
const LOGGED_IDS = 20;

/** Per-message retry state, kept only for messages that failed at least once. */
interface Trouble {
  errors: number;
  throttled: number;
  lastError: unknown;
}

/**
 * Sends messages in rounds: each round takes tokens from the campaign's bucket, calls the adapter once per
 * slice of `maxBatch`, classifies every result, writes the round's records in one ledger call, then waits
 * (backoff or retry-after) and sends what is left again. `records` holds earlier records of the batch
 * (exclusions) so they go out in the first write, or on their own when nothing is left to send: a batch whose
 * every recipient was excluded is still recorded.
 *
 * @returns the last round's records, not yet written: the caller writes them ({@link flush}) once the batch
 * has left its lane, so a slow commit holds no provider slot.
 */
export async function deliver(
  run: Run,
  action: PreparedAction,
  messages: OutboundMessage[],
  earlier: DeliveryRecord[],
  tally?: BatchTally,
  unused?: Set<string>,
): Promise<DeliveryRecord[]> {
  if (messages.length === 0) return earlier;
  let records = earlier;
  let round = messages;
  let attempt = 1;
  let trouble: Map<OutboundMessage, Trouble> | undefined;
  const troubleOf = (message: OutboundMessage) => {
    trouble ??= new Map();
    let state = trouble.get(message);
    if (!state) {
      state = { errors: 0, throttled: 0, lastError: undefined };
      trouble.set(message, state);
    }
    return state;
  };
  const fail = (message: OutboundMessage, at: Date, reason: string, error: unknown) => {
    const record = makeRecord(
      run,
      action,
      message.id,
      message.recipientId,
      "failed",
      attempt,
      at,
      reason,
      message.treatmentId,
    );
    records.push(record);
    if (run.emitter.listenerCount("failed") > 0) run.emitter.emit("failed", record, error);
  };
  // Messages that failed for good after retries or throttling, logged once per round rather than per message.
  let exhausted: { ids: string[]; count: number; error: unknown } | undefined;
  const giveUp = (message: OutboundMessage, at: Date, reason: string, error: unknown) => {
    fail(message, at, reason, error);
    exhausted ??= { ids: [], count: 0, error };
    exhausted.count++;
    if (exhausted.ids.length < LOGGED_IDS) exhausted.ids.push(message.id);
  };
  const logExhausted = () => {
    if (!exhausted) return;
    run.log.warn(
      {
        campaignId: run.campaignId,
        executionId: run.executionId,
        channel: action.channel,
        messages: exhausted.count,
        attempts: attempt,
        messageIds: exhausted.ids,
        // A provider's error message can quote the address: the ledger keeps the reason, the log only the kind.
        ...errorFields(exhausted.error, false),
      },
      "retries exhausted",
    );
    exhausted = undefined;
  };

  while (round.length > 0) {
    const next: OutboundMessage[] = [];
    let delay = 0;
    let retryAfter = -1;
    let throttledCount = 0;
    for (let start = 0; start < round.length; start += action.maxBatch) {
      const slice =
        start === 0 && round.length <= action.maxBatch ? round : round.slice(start, start + action.maxBatch);
      if (run.signal.aborted) {
        run.report.interrupted += round.length - start;
        break;
      }
      const reserved = run.bucket.reserve(slice.length);
      const wait = typeof reserved === "number" ? reserved : await reserved;
      if (run.clock.now() + wait > run.windowEnd) {
        run.bucket.refund(slice.length);
        const at = new Date(run.clock.now());
        for (const message of slice) {
          const state = trouble?.get(message);
          if (state)
            giveUp(message, at, `${errorReason(state.lastError)} (delivery window closed)`, state.lastError);
          else
            exclude(
              run,
              action,
              records,
              message.id,
              message.recipientId,
              "outside-window",
              at,
              undefined,
              message.treatmentId,
            );
        }
        continue;
      }
      if (wait > 0) {
        try {
          await run.clock.sleep(wait, run.signal);
        } catch {
          run.bucket.refund(slice.length);
          run.report.interrupted += round.length - start;
          break;
        }
      }
      // Handed to the provider: from here on a worker's claim is kept until recorded (in doubt if it dies).
      if (unused) for (const message of slice) unused.delete(message.id);
      const results = await call(run, action, slice, attempt);
      const at = new Date(run.clock.now());
      for (let i = 0; i < slice.length; i++) {
        const message = slice[i]!;
        const result = results[i];
        if (result === undefined) {
          run.report.interrupted++;
          continue;
        }
        if (result.ok) {
          const record = makeRecord(
            run,
            action,
            message.id,
            message.recipientId,
            "sent",
            attempt,
            at,
            undefined,
            message.treatmentId,
          );
          if (result.providerMessageId !== undefined) record.providerMessageId = result.providerMessageId;
          records.push(record);
          continue;
        }
        const { error } = result;
        const kind = classifyError(error);
        if (kind === "permanent") {
          fail(message, at, errorReason(error), error);
          continue;
        }
        const state = troubleOf(message);
        state.lastError = error;
        if (kind === "rate-limited") {
          state.throttled++;
          throttledCount++;
          retryAfter = Math.max(retryAfter, (error as RateLimitedError).retryAfterMs);
          if (state.throttled > run.retry.rateLimitedAttempts) giveUp(message, at, errorReason(error), error);
          else next.push(message);
        } else {
          state.errors++;
          if (state.errors >= run.retry.attempts || run.signal.aborted) {
            if (run.signal.aborted) run.report.interrupted++;
            else giveUp(message, at, errorReason(error), error);
          } else {
            next.push(message);
            delay = Math.max(delay, backoffDelay(state.errors, run.retry, run.random));
          }
        }
      }
    }
    logExhausted();
    if (throttledCount > 0) {
      run.report.rateLimited += throttledCount;
      run.bucket.slowDown(retryAfter);
      delay = Math.max(delay, retryAfter);
      run.log.warn(
        {
          campaignId: run.campaignId,
          executionId: run.executionId,
          channel: action.channel,
          messages: throttledCount,
          retryAfterMs: retryAfter,
        },
        "provider throttled: slowing down and retrying",
      );
      if (run.emitter.listenerCount("rate-limited") > 0) {
        run.emitter.emit("rate-limited", {
          campaignId: run.campaignId,
          executionId: run.executionId,
          channel: action.channel,
          messages: throttledCount,
          retryAfterMs: retryAfter,
        });
      }
    }
    if (next.length === 0) return records;
    await flush(run, records, action, tally, unused);
    records = [];
    if (run.signal.aborted) {
      run.report.interrupted += next.length;
      break;
    }
    if (run.clock.now() + delay > run.windowEnd) {
      const at = new Date(run.clock.now());
      for (const message of next) {
        const error = trouble?.get(message)?.lastError;
        giveUp(message, at, `${errorReason(error)} (delivery window closed before retry)`, error);
      }
      logExhausted();
      break;
    }
    run.report.retries += next.length;
    if (run.emitter.listenerCount("retry") > 0) {
      for (const message of next) {
        run.emitter.emit("retry", {
          campaignId: run.campaignId,
          executionId: run.executionId,
          messageId: message.id,
          recipientId: message.recipientId,
          channel: action.channel,
          attempt: attempt + 1,
          delayMs: delay,
          error: trouble?.get(message)?.lastError,
        });
      }
    }
    try {
      await run.clock.sleep(delay, run.signal);
    } catch {
      run.report.interrupted += next.length;
      break;
    }
    round = next;
    attempt++;
  }
  return records;
}

/** One provider call per slice with batch adapters; one send at a time otherwise. Never throws. */
async function call(
  run: Run,
  action: PreparedAction,
  slice: readonly OutboundMessage[],
  attempt: number,
): Promise<ReadonlyArray<BatchItemResult | undefined>> {
  const { adapter } = action;
  if (adapter.sendBatch && adapter.capabilities.batch) {
    try {
      const results = await adapter.sendBatch(slice, { attempt, signal: run.signal });
      if (results.length === slice.length) return results;
      const error = new Error(
        `${adapter.name}: sendBatch returned ${results.length} results for ${slice.length} messages`,
      );
      return slice.map((_, i) => results[i] ?? { ok: false, error });
    } catch (error) {
      return slice.map(() => ({ ok: false, error: error as Error }));
    }
  }
  const results: Array<BatchItemResult | undefined> = [];
  for (const message of slice) {
    if (run.signal.aborted) break; // no new sends after abort: the rest count as interrupted
    try {
      const result = await adapter.send(message, { idempotencyKey: message.id, attempt, signal: run.signal });
      results.push(
        result?.providerMessageId === undefined
          ? OK
          : { ok: true, providerMessageId: result.providerMessageId },
      );
    } catch (error) {
      results.push({ ok: false, error: error as Error });
    }
  }
  return results;
}

/**
 * Writes records in one ledger call, then counts them and tells listeners about the sent ones. `unused`: a
 * worker's claims not yet recorded; the ones written leave it.
 */
export async function flush(
  run: Run,
  records: DeliveryRecord[],
  action: PreparedAction,
  tally: BatchTally | undefined,
  unused?: Set<string>,
): Promise<void> {
  if (records.length === 0) return;
  await ledgerCall("record", () => run.ledger.record({ records }));
  if (unused) for (const record of records) unused.delete(record.messageId);
  if (run.telemetry) count(run, records, action, tally);
  if (run.emitter.listenerCount("sent") > 0) {
    for (const record of records) if (record.outcome === "sent") run.emitter.emit("sent", record);
  }
  maybeProgress(run);
}

/** Adds a ledger write's records to the telemetry counters and the batch's tally: one call per outcome. */
function count(run: Run, records: DeliveryRecord[], action: PreparedAction, tally: BatchTally | undefined) {
  const counts: BatchTally = { sent: 0, failed: 0, excluded: 0 };
  let reasons: Map<string, number> | undefined;
  for (const record of records) {
    counts[record.outcome]++;
    if (record.outcome === "excluded") {
      reasons ??= new Map();
      const reason = record.reason ?? "unknown";
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  const attributes = { "campaign_kit.channel": action.channel, "campaign_kit.category": run.category };
  if (counts.sent > 0) run.telemetry?.count("sent", counts.sent, attributes);
  if (counts.failed > 0) run.telemetry?.count("failed", counts.failed, attributes);
  for (const [reason, n] of reasons ?? [])
    run.telemetry?.count("excluded", n, { ...attributes, "campaign_kit.reason": reason });
  if (tally) {
    tally.sent += counts.sent;
    tally.failed += counts.failed;
    tally.excluded += counts.excluded;
  }
}
