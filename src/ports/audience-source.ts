/**
 * Where recipients come from.
 *
 * Why it looks like this: audiences can hold millions of profiles, so a source never returns them whole. It
 * yields pages (arrays) from an async iterable; the dispatcher pulls a page only when it has room, so what
 * sits in memory is bounded by the dispatcher's concurrency, not the audience's size. Profile look-up by
 * identity serves API-triggered sends to named recipients.
 *
 * Two optional capabilities let the kit do more with a source that has them: `ranges` cuts an audience into
 * parts by member id, so many workers can each read one part (never a list of ids: a range is two bounds), and
 * `distinctMembers` promises that no member appears twice, so a fresh execution need not ask the ledger what
 * it already sent.
 *
 * The reference implementation is `memoryAudiences()`.
 */
import type { Profile } from "../model/profile.js";
import { compareIds } from "./storage.js";

/**
 * A part of an audience by member id: the members whose `id` comes after `after` (exclusive) and up to
 * `until` (inclusive), in code-point order (`compareIds`, PostgreSQL's `COLLATE "C"`). An absent bound is
 * open, so `{}` is the whole audience. Two bounds, not a list of ids: a range of a million members is as
 * small as a range of ten, and stays valid while members join or leave.
 */
export interface AudienceRange {
  /** Members with an id after this one (exclusive); absent: from the first member. */
  after?: string;
  /** Members with an id up to this one (inclusive); absent: to the last member. */
  until?: string;
}

/** Streams audience members and finds profiles by identity. */
export interface AudienceSource {
  /**
   * The audience's members, in pages of about `pageSize` profiles; with `range`, only the members in it
   * (a source with {@link AudienceSource.ranges} must honour `range`). Stops early when `signal` aborts.
   * Throws `NOT_FOUND` for an audience it doesn't know.
   */
  members(params: {
    audienceId: string;
    pageSize?: number;
    signal?: AbortSignal;
    range?: AudienceRange;
  }): AsyncIterable<readonly Profile[]>;
  /**
   * Optional: cuts an audience into consecutive ranges of about `size` members each, in id order, that
   * together hold every member exactly once (the first has no `after`, the last no `until`, and each
   * `after` is the previous `until`). An empty audience has no ranges. Throws `NOT_FOUND` for an audience
   * it doesn't know. In SQL: a keyset walk over the member id's index reading only every `size`-th id.
   */
  ranges?(params: { audienceId: string; size: number; signal?: AbortSignal }): AsyncIterable<AudienceRange>;
  /**
   * Optional promise that `members` never yields the same member twice in one read (a primary key, a
   * `DISTINCT`). An execution's first pass over such a source cannot have sent to anyone yet, so it skips
   * the ledger read for what was already sent. Leave it out when unsure: duplicates are then sent once.
   */
  readonly distinctMembers?: boolean;
  /**
   * The profiles whose identity in `namespace` is one of `values`, by value; a value no profile has is absent
   * from the map. One call looks up a unitary trigger's recipients, or a held-back slice of an audience (up
   * to 1,000 values): in SQL, one `WHERE identity = ANY($1)` on an index.
   */
  findProfiles(params: { namespace: string; values: readonly string[] }): Promise<Map<string, Profile>>;
  /** Creates or replaces a profile (API-triggered transactional sends with `createNewProfile`). */
  saveProfile(params: { profile: Profile }): Promise<void>;
}

/**
 * Whether a member id lies in `range`, as {@link AudienceRange} defines it: for sources that filter in
 * memory; a database source puts the same bounds in its `WHERE`.
 */
export function inAudienceRange(id: string, range: AudienceRange | undefined): boolean {
  if (range === undefined) return true;
  if (range.after !== undefined && compareIds(id, range.after) <= 0) return false;
  return range.until === undefined || compareIds(id, range.until) <= 0;
}
