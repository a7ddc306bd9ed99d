import type { Campaign } from "../model/campaign.js";
import type { RateBudget } from "../ports/rate-budget.js";
import type { RateGate } from "./rate.js";

/**
 * The campaign's rate as one budget shared by every worker, kept in storage: one `take` per slice of
 * messages. `undefined` for a campaign without a rate limit (each worker then only honours its own pauses).
 * Refunds and pauses are written in the background: a refund lost to a storage error only slows the
 * campaign a little, and a pause lost is noticed again at the provider's next throttle.
 */
export function sharedRateGate(budget: RateBudget, campaign: Campaign): RateGate | undefined {
  const ratePerSecond = campaign.deliveryControls.rateLimit;
  if (ratePerSecond === undefined || !Number.isFinite(ratePerSecond)) return undefined;
  const burst = Math.max(1, Math.floor(ratePerSecond));
  const key = `campaign:${campaign.id}`;
  return {
    burst,
    reserve: async (count) => (await budget.take({ key, count, ratePerSecond, burst })).waitMs,
    refund(count) {
      budget.take({ key, count: -count, ratePerSecond, burst }).catch(() => {});
    },
    slowDown(ms) {
      budget.pause({ key, ms, ratePerSecond, burst }).catch(() => {});
    },
  };
}
