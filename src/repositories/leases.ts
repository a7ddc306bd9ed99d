import { z } from "zod";
import { CampaignKitError } from "../errors.js";
import { instantSchema } from "../model/common.js";
import type { DocumentCollection } from "./collection.js";

/** A claim on running something (an execution) until `expiresAt`, renewed by its owner. */
export interface Lease {
  /** What is claimed: `execution:<id>`. */
  key: string;
  /** The process holding it. */
  owner: string;
  /** When another process may take it over. */
  expiresAt: Date;
}

/** What a lease document holds. */
export const leaseSchema = z.object({
  key: z.string().min(1),
  owner: z.string().min(1),
  expiresAt: instantSchema,
});

/**
 * Takes or renews the lease on `key` for `owner` until `now + ttlMs`: succeeds when the key is free, expired
 * at `now`, or already held by `owner`. Compare-and-set on the lease document, so of concurrent takers
 * exactly one holds it. Whose clock is right matters: leases expire on the takers' clocks, so hosts keep
 * them in sync (NTP) to well within a lease's length.
 */
export async function acquireLease(
  leases: DocumentCollection<Lease>,
  params: { key: string; owner: string; ttlMs: number; now: Date },
): Promise<boolean> {
  const { key, owner, ttlMs, now } = params;
  const next: Lease = { key, owner, expiresAt: new Date(now.getTime() + ttlMs) };
  const current = await leases.get(key);
  if (current === undefined) return leases.insert(next);
  if (current.value.owner !== owner && current.value.expiresAt > now) return false;
  try {
    await leases.replace(current, next);
    return true;
  } catch (error) {
    // Another taker wrote the lease since it was read: they hold it now.
    if (error instanceof CampaignKitError && (error.code === "CONFLICT" || error.code === "NOT_FOUND")) {
      return false;
    }
    throw error;
  }
}

/** Gives up `owner`'s lease on `key`; a lease another owner took meanwhile is left alone. */
export async function releaseLease(
  leases: DocumentCollection<Lease>,
  params: { key: string; owner: string },
): Promise<void> {
  const current = await leases.get(params.key);
  if (current?.value.owner === params.owner) await leases.delete(params.key, current.version);
}
