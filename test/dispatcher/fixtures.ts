import type { Campaign, CampaignInput } from "../../src/model/campaign.js";
import { campaignSchema } from "../../src/model/campaign.js";
import type { ChannelConfiguration } from "../../src/model/channel-configuration.js";
import { channelConfigurationSchema } from "../../src/model/channel-configuration.js";
import type { Profile, ProfileInput } from "../../src/model/profile.js";
import { profileSchema } from "../../src/model/profile.js";
import type { BatchItemResult, ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import type { Clock } from "../../src/ports/clock.js";

/** 2026-01-01T12:00:00Z, a Thursday. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export const emailConfiguration: ChannelConfiguration = channelConfigurationSchema.parse({
  id: "news",
  name: "News",
  purpose: "marketing",
  status: "active",
  channel: "email",
  settings: { fromName: "News", fromAddress: "news@example.com", subdomain: "mail.example.com" },
});
export const transactionalConfiguration: ChannelConfiguration = {
  ...emailConfiguration,
  id: "tx",
  purpose: "transactional",
};
export const configurations = { news: emailConfiguration, tx: transactionalConfiguration };

export function campaign(input: Partial<CampaignInput> & Record<string, unknown> = {}): Campaign {
  return campaignSchema.parse({
    id: "spring",
    type: "scheduled",
    category: "marketing",
    name: "Spring",
    status: "live",
    createdAt: new Date(0),
    updatedAt: new Date(0),
    createdBy: "u",
    updatedBy: "u",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "news",
        content: {
          subject: "Hi {{profile.firstName}}",
          text: 'Hello {{profile.firstName}}, {{fallback context.offer "welcome"}}',
        },
      },
    ],
    ...input,
  });
}

export function profile(id: string, input: Partial<ProfileInput> = {}): Profile {
  return profileSchema.parse({
    id,
    identities: { email: `${id}@example.com` },
    attributes: { firstName: `Name-${id}` },
    consent: { email: true, sms: true },
    ...input,
  });
}

export function profiles(count: number, prefix = "p"): Profile[] {
  return Array.from({ length: count }, (_, i) => profile(`${prefix}${i}`));
}

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
