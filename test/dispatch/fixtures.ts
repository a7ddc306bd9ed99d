import type { BatchItemResult, ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import type { Clock } from "../../src/ports/clock.js";

/** An adapter that records every call and every delivery (no idempotency: it counts raw deliveries). */
export function instrumentedAdapter(
  options: {
    clock?: Clock;
    latencyMs?: (messages: readonly OutboundMessage[]) => number;
    result?: (message: OutboundMessage, attempt: number) => BatchItemResult;
    maxBatchSize?: number;
    onDelivered?: (message: OutboundMessage) => void;
  } = {},
) {
  const state = {
    inFlight: 0,
    maxInFlight: 0,
    calls: 0,
    deliveries: [] as { message: OutboundMessage; at: number }[],
    countByRecipient: new Map<string, number>(),
  };
  const adapter: ChannelAdapter = {
    name: "instrumented",
    channel: "email",
    capabilities: { batch: true, idempotencyKeys: false, maxBatchSize: options.maxBatchSize ?? 100 },
    async send() {
      throw new Error("batch only");
    },
    async sendBatch(messages, context) {
      state.calls++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        const latency = options.latencyMs?.(messages) ?? 0;
        if (latency > 0 && options.clock) await options.clock.sleep(latency);
        return messages.map((message) => {
          const result = options.result?.(message, context.attempt) ?? { ok: true };
          if (result.ok) {
            state.deliveries.push({ message, at: options.clock?.now() ?? Date.now() });
            state.countByRecipient.set(
              message.recipientId,
              (state.countByRecipient.get(message.recipientId) ?? 0) + 1,
            );
            options.onDelivered?.(message);
          }
          return result;
        });
      } finally {
        state.inFlight--;
      }
    },
  };
  return { adapter, state };
}
