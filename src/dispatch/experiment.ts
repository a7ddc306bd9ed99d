import { createHash } from "node:crypto";
import type { CampaignAction } from "../model/campaign.js";
import { basisPoints, HOLDOUT_TREATMENT_ID } from "../model/experiment.js";

/** Hundredths of a percent: assignment draws one of this many buckets per recipient. */
const BUCKETS = 10_000;
/** 2^48: the hash's first 6 bytes read as an unsigned integer lie in [0, 2^48). */
const SPAN = 2 ** 48;

/**
 * The bucket, 0 to 9,999, of `recipientId` in experiment `experimentId`: the first 48 bits of the SHA-256 of
 * `experimentId`, a NUL character and `recipientId` (UTF-8), scaled to 10,000 buckets. A published hash, so
 * that a host can compute any recipient's treatment elsewhere (in a warehouse, on a website) and get the same
 * answer; a cryptographic one, so that ids that differ by one character land far apart and every bucket is
 * equally likely.
 */
export function experimentBucket(experimentId: string, recipientId: string): number {
  const digest = createHash("sha256").update(`${experimentId}\u0000${recipientId}`).digest();
  return Math.floor((digest.readUIntBE(0, 6) / SPAN) * BUCKETS);
}

/** What {@link assignTreatment} needs of an experiment: its seed and its split. */
export interface ExperimentSplit {
  /** The assignment seed: an experiment's `id`, or its default `<campaign id>:<channel>`. */
  id: string;
  /** The treatments in order, each with its percentage. */
  treatments: readonly { id: string; percentage: number }[];
  /** The held-out share, in percent; default 0. */
  holdoutPercentage?: number | undefined;
}

/**
 * The treatment a recipient gets in an experiment, or `"holdout"`: the same for the same (experiment id,
 * recipient id), in every run and every process, and each treatment's share of recipients matches its
 * percentage. The buckets are cut in order: the first treatment takes the first `percentage` hundredths, the
 * next the following ones, the holdout the last.
 *
 * @example
 * ```ts
 * assignTreatment({
 *   id: "spring-sale:email",
 *   treatments: [{ id: "a", percentage: 45 }, { id: "b", percentage: 45 }],
 *   holdoutPercentage: 10,
 * }, "profile-42"); // "a", "b" or "holdout", always the same for profile-42
 * ```
 */
export function assignTreatment(split: ExperimentSplit, recipientId: string): string {
  const bucket = experimentBucket(split.id, recipientId);
  let upTo = 0;
  for (const treatment of split.treatments) {
    upTo += basisPoints(treatment.percentage);
    if (bucket < upTo) return treatment.id;
  }
  return HOLDOUT_TREATMENT_ID;
}

/**
 * The assignment seed of an action's experiment: its `id`, else `<campaign id>:<channel>`, stable for the
 * campaign's life.
 */
export function experimentIdOf(campaignId: string, action: Pick<CampaignAction, "channel" | "experiment">) {
  return action.experiment?.id ?? `${campaignId}:${action.channel}`;
}
