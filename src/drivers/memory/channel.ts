import { PermanentDeliveryError, RateLimitedError } from "../../errors.js";
import type { Channel } from "../../model/common.js";
import type {
  BatchItemResult,
  ChannelAdapter,
  ChannelCapabilities,
  OutboundMessage,
  SendResult,
} from "../../ports/channel.js";
import type { Clock } from "../../ports/clock.js";
import { systemClock } from "../../ports/clock.js";
import { seededRandom } from "./random.js";

/** A fault {@link MemoryChannelOptions.failFor} can inject for one message. */
export type InjectedFault = "retryable" | "permanent" | "rate-limited";

/** Options for {@link memoryChannel}. */
export interface MemoryChannelOptions {
  /** The channel it delivers on; defaults to `"email"`. */
  channel?: Channel;
  /** A name for reports; defaults to `"memory-<channel>"`. */
  name?: string;
  /** What it declares; defaults to `{ batch: true, idempotencyKeys: true, maxBatchSize: 100 }`. */
  capabilities?: Partial<ChannelCapabilities>;
  /**
   * Whether to keep delivered messages in {@link MemoryChannel.sent} and their idempotency keys; defaults to
   * `true`. `false` keeps nothing at all (benchmarks), so idempotency keys are not honoured then.
   */
  record?: boolean;
  /** Simulated provider latency per call (a batch is one call), in ms; defaults to 0. */
  latencyMs?: number;
  /** Clock used for the latency; defaults to {@link systemClock}. */
  clock?: Clock;
  /** Probability (0-1) that a message fails with a retryable `Error`. */
  failureRate?: number;
  /** Probability (0-1) that a message fails with a {@link PermanentDeliveryError}. */
  permanentFailureRate?: number;
  /** Probability (0-1) that a message is throttled with a {@link RateLimitedError}. */
  rateLimitRate?: number;
  /** The `retryAfterMs` of injected rate-limit errors; defaults to 1000. */
  retryAfterMs?: number;
  /** Seed of the fault-injection random source; defaults to 1. */
  seed?: number;
  /**
   * A deterministic fault for one message and attempt (1 for the first), checked before the random rates:
   * tests use it to fail exactly the recipients they name.
   */
  failFor?: (message: OutboundMessage, attempt: number) => InjectedFault | undefined;
}

/** A recording in-memory {@link ChannelAdapter}. */
export interface MemoryChannel extends ChannelAdapter {
  /** Delivered messages, in delivery order (empty with `record: false`). */
  readonly sent: OutboundMessage[];
  /** Counters: provider calls made and messages attempted (including failed ones). */
  readonly stats: { calls: number; attempted: number; delivered: number; duplicates: number };
  /** Forgets recorded messages, idempotency keys and counters. */
  reset(): void;
}

const OK: BatchItemResult = Object.freeze({ ok: true }) as BatchItemResult;

/**
 * The reference {@link ChannelAdapter}: it "delivers" into an array, honours idempotency keys (a second send
 * with a key already delivered is acknowledged without recording twice), and can inject faults, at seeded
 * random rates or exactly where a test says. Fast enough for a million-message benchmark with `record: false`.
 *
 * @example
 * ```ts
 * const email = memoryChannel({ failFor: (m, attempt) => (m.recipientId === "p1" && attempt === 1 ? "retryable" : undefined) });
 * const dispatcher = createDispatcher({ channels: [email], ledger: memoryLedger() });
 * // ... dispatch, then:
 * email.sent.map((m) => m.to);
 * ```
 */
export function memoryChannel(options: MemoryChannelOptions = {}): MemoryChannel {
  const channel = options.channel ?? "email";
  const keep = options.record ?? true;
  const latencyMs = options.latencyMs ?? 0;
  const clock = options.clock ?? systemClock;
  const failureRate = options.failureRate ?? 0;
  const permanentRate = options.permanentFailureRate ?? 0;
  const rateLimitRate = options.rateLimitRate ?? 0;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  const failFor = options.failFor;
  const randomFaults = failureRate + permanentRate + rateLimitRate > 0;
  let random = seededRandom(options.seed ?? 1);
  const sent: OutboundMessage[] = [];
  const delivered = new Set<string>();
  const stats = { calls: 0, attempted: 0, delivered: 0, duplicates: 0 };

  const faultFor = (message: OutboundMessage, attempt: number): InjectedFault | undefined => {
    const fault = failFor?.(message, attempt);
    if (fault !== undefined || !randomFaults) return fault;
    const draw = random();
    if (draw < permanentRate) return "permanent";
    if (draw < permanentRate + rateLimitRate) return "rate-limited";
    if (draw < permanentRate + rateLimitRate + failureRate) return "retryable";
    return undefined;
  };

  const errorFor = (fault: InjectedFault, message: OutboundMessage): Error => {
    if (fault === "permanent")
      return new PermanentDeliveryError(`Injected permanent failure for ${message.to}`);
    if (fault === "rate-limited") return new RateLimitedError("Injected rate limit", { retryAfterMs });
    return new Error(`Injected transient failure for ${message.to}`);
  };

  // Returns the error to report, or undefined once delivered.
  const deliver = (message: OutboundMessage, key: string, attempt: number): Error | undefined => {
    stats.attempted++;
    if (failFor !== undefined || randomFaults) {
      const fault = faultFor(message, attempt);
      if (fault !== undefined) return errorFor(fault, message);
    }
    if (keep) {
      if (delivered.has(key)) {
        stats.duplicates++;
        return undefined;
      }
      delivered.add(key);
      sent.push(message);
    }
    stats.delivered++;
    return undefined;
  };

  const capabilities: ChannelCapabilities = {
    batch: options.capabilities?.batch ?? true,
    idempotencyKeys: options.capabilities?.idempotencyKeys ?? true,
    maxBatchSize: options.capabilities?.maxBatchSize ?? 100,
  };

  const adapter: MemoryChannel = {
    name: options.name ?? `memory-${channel}`,
    channel,
    capabilities,
    sent,
    stats,
    reset() {
      sent.length = 0;
      delivered.clear();
      stats.calls = stats.attempted = stats.delivered = stats.duplicates = 0;
      random = seededRandom(options.seed ?? 1);
    },
    async send(message, context): Promise<SendResult | undefined> {
      stats.calls++;
      if (latencyMs > 0) await clock.sleep(latencyMs);
      const error = deliver(message, context.idempotencyKey, context.attempt);
      if (error) throw error;
      return undefined;
    },
  };
  if (capabilities.batch) {
    adapter.sendBatch = async (messages, context) => {
      stats.calls++;
      if (latencyMs > 0) await clock.sleep(latencyMs);
      const results = new Array<BatchItemResult>(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        const error = deliver(message, message.id, context.attempt);
        results[i] = error ? { ok: false, error } : OK;
      }
      return results;
    };
  }
  return adapter;
}
