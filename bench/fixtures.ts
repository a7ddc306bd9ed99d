import { CampaignKitError } from "../src/errors.js";
import type { Campaign } from "../src/model/campaign.js";
import type { Profile } from "../src/model/profile.js";
import type { AudienceSource } from "../src/ports/audience-source.js";
import type { DeliveryLedger } from "../src/ports/ledger.js";
import { compareIds } from "../src/ports/storage.js";
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

/**
 * An audience source over {@link benchProfiles} that cuts ranges and reads one range without reading the
 * rest (the ids sorted once, each range found by binary search): what a database source does with its
 * index, so the benchmarks of workers measure the queue and the ledger, not a scan per chunk.
 */
export function rangedBenchAudience(audienceId: string, count: number): AudienceSource {
  const ids = Array.from({ length: count }, (_, i) => `p${i}`).sort(compareIds);
  const firstAfter = (id: string | undefined) => {
    if (id === undefined) return 0;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(ids[mid]!, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const known = (id: string) => {
    if (id !== audienceId) throw new CampaignKitError("NOT_FOUND", `No audience '${id}'.`);
  };
  return {
    distinctMembers: true,
    async *members({ audienceId: id, pageSize = 500, range }) {
      known(id);
      const from = firstAfter(range?.after);
      const to = range?.until === undefined ? ids.length : firstAfter(range.until);
      for (let i = from; i < to; i += pageSize) {
        yield ids.slice(i, Math.min(to, i + pageSize)).map((pid) => profile(pid));
      }
    },
    async *ranges({ audienceId: id, size }) {
      known(id);
      let after: string | undefined;
      for (let end = size - 1; end < ids.length - 1; end += size) {
        yield after === undefined ? { until: ids[end]! } : { after, until: ids[end]! };
        after = ids[end]!;
      }
      if (ids.length > 0) yield after === undefined ? {} : { after };
    },
    findProfiles: async () => new Map(),
    saveProfile: async () => {},
  };
}
