import { addMinutes } from "date-fns";
import { CampaignKitError } from "../errors.js";
import type { Waves } from "../model/delivery-controls.js";

/** One wave of a plan: a slice of the audience and when it starts. */
export interface Wave {
  /** 0 for the first wave. */
  index: number;
  /** When the wave starts: the plan's start plus `offsetMinutes`. */
  startAt: Date;
  /** Minutes after the first wave: `index * intervalMinutes`. */
  offsetMinutes: number;
  /** The audience position (0-based, in streaming order) of the wave's first recipient. */
  firstPosition: number;
  /** How many recipients the wave holds; 0 when the audience is smaller than the waves need. */
  count: number;
}

/** How an audience of `audienceSize` is cut into waves. */
export interface WavePlan {
  /** The audience size the plan was cut for. */
  audienceSize: number;
  /** The waves, in order. */
  waves: Wave[];
}

function invalid(message: string): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", message);
}

/**
 * Rounds `shares` (any positive weights) to whole counts summing to `total`, by largest remainder: each gets
 * its share rounded down, then the units left go to the largest fractions, earlier waves first on ties.
 */
function apportion(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((share) => (total * share) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byFraction = exact
    .map((value, index) => ({ index, fraction: value - Math.floor(value) }))
    .sort((a, b) => b.fraction - a.fraction || a.index - b.index);
  for (const { index } of byFraction) {
    if (left <= 0) break;
    counts[index] = (counts[index] ?? 0) + 1;
    left--;
  }
  return counts;
}

/** Fills fixed counts in order; what the counts leave over goes to the last wave. */
function fill(total: number, wanted: readonly number[]): number[] {
  let left = total;
  const counts = wanted.map((count) => {
    const taken = Math.min(count, left);
    left -= taken;
    return taken;
  });
  counts[counts.length - 1] = (counts.at(-1) ?? 0) + left;
  return counts;
}

/**
 * Cuts an audience of `audienceSize` recipients into waves starting `intervalMinutes` apart from `startAt`.
 * The counts always sum to `audienceSize`, and the plan always has the configured number of waves:
 * - `equal`: sizes differ by at most one, earlier waves taking the extra recipients;
 * - `percentages`: each wave gets its share rounded by largest remainder (never off by a whole recipient);
 * - `counts`: waves fill in order; recipients beyond the counts' sum join the **last wave**, and when the
 *   audience is smaller than the sum, the later waves get fewer or none.
 *
 * @example
 * ```ts
 * const plan = planWaves(wavesSchema.parse({ split: "equal", count: 3 }), 10, new Date("2026-12-01T09:00:00Z"));
 * plan.waves.map((wave) => wave.count); // [4, 3, 3], starting 09:00, 10:00 and 11:00 UTC
 * ```
 */
export function planWaves(waves: Waves, audienceSize: number, startAt: Date): WavePlan {
  if (!Number.isSafeInteger(audienceSize) || audienceSize < 0) {
    throw invalid("`audienceSize` must be a whole number of recipients, 0 or more");
  }
  if (!(startAt instanceof Date) || Number.isNaN(startAt.getTime()))
    throw invalid("`startAt` must be a valid Date");
  const counts =
    waves.split === "equal"
      ? apportion(
          audienceSize,
          Array.from({ length: waves.count }, () => 1),
        )
      : waves.split === "percentages"
        ? apportion(audienceSize, waves.percentages)
        : fill(audienceSize, waves.counts);
  let firstPosition = 0;
  const planned = counts.map((count, index) => {
    const offsetMinutes = index * waves.intervalMinutes;
    const wave = { index, startAt: addMinutes(startAt, offsetMinutes), offsetMinutes, firstPosition, count };
    firstPosition += count;
    return wave;
  });
  return { audienceSize, waves: planned };
}

/**
 * The wave of the recipient at `position` (0-based, in the order the audience streams), without
 * materialising the audience. Positions at or beyond the planned size (an audience that grew while
 * streaming) belong to the last wave, as the remainder of a `counts` split does.
 *
 * @example
 * ```ts
 * const plan = planWaves(wavesSchema.parse({ split: "counts", counts: [100, 400] }), 1000, startAt);
 * waveOf(99, plan).index; // 0
 * waveOf(100, plan).index; // 1
 * ```
 */
export function waveOf(position: number, plan: WavePlan): Wave {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw invalid("`position` must be a whole number, 0 or more");
  }
  const last = plan.waves.at(-1);
  if (last === undefined) throw invalid("The wave plan has no waves; build it with `planWaves`");
  // At most 10 waves: a scan beats a binary search in clarity and costs nothing.
  for (const wave of plan.waves) if (position < wave.firstPosition + wave.count) return wave;
  return last;
}
