import type { Campaign } from "../src/model/campaign.js";
import type { Profile } from "../src/model/profile.js";
import type { DeliveryLedger } from "../src/ports/ledger.js";
import { campaign, profile } from "../test/support/fixtures.js";

export { emailConfiguration as benchConfiguration } from "../test/support/fixtures.js";

/** The benchmark's campaign: one personalised email action on `news`, marketing, unlimited rate. */
export const benchCampaign: Campaign = campaign({
  id: "bench",
  name: "Benchmark",
  createdBy: "bench",
  updatedBy: "bench",
  actions: [
    {
      channel: "email",
      channelConfigurationId: "news",
      content: {
        subject: "Hi {{profile.firstName}}",
        text: "Hello {{profile.firstName}}, your code is {{context.code}}. See you soon.",
      },
    },
  ],
});

/** Profiles generated on demand, never held whole. */
export function* benchProfiles(count: number): Generator<Profile> {
  for (let i = 0; i < count; i++) yield profile(`p${i}`);
}

/** A ledger that keeps nothing: for measuring the dispatcher's own memory, not the ledger's. */
export function nullLedger(): DeliveryLedger {
  const empty = new Set<string>();
  return {
    findSent: async () => empty,
    record: async ({ records }) => ({ written: records.length }),
    countSentSince: async () => new Map(),
    find: async () => [],
    summarize: async () => ({
      outcomes: { sent: 0, failed: 0, excluded: 0 },
      byChannel: {},
      excludedByReason: {},
      byTreatment: {},
      retries: 0,
    }),
  };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
