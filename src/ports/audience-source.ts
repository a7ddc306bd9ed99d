/**
 * Where recipients come from.
 *
 * Why it looks like this: audiences can hold millions of profiles, so a source never returns them whole. It
 * yields pages (arrays) from an async iterable; the dispatcher pulls a page only when it has room, so what
 * sits in memory is bounded by the dispatcher's concurrency, not the audience's size. Profile look-up by
 * identity serves API-triggered sends to named recipients.
 *
 * The reference implementation is `memoryAudiences()`.
 */
import type { Profile } from "../model/profile.js";

/** Streams audience members and finds profiles by identity. */
export interface AudienceSource {
  /**
   * The audience's members, in pages of about `pageSize` profiles. Stops early when `signal` aborts.
   * Throws `NOT_FOUND` for an audience it doesn't know.
   */
  members(params: {
    audienceId: string;
    pageSize?: number;
    signal?: AbortSignal;
  }): AsyncIterable<readonly Profile[]>;
  /**
   * The profiles whose identity in `namespace` is one of `values`, by value; a value no profile has is absent
   * from the map. One call looks up a unitary trigger's recipients, or a held-back slice of an audience (up
   * to 1,000 values): in SQL, one `WHERE identity = ANY($1)` on an index.
   */
  findProfiles(params: { namespace: string; values: readonly string[] }): Promise<Map<string, Profile>>;
  /** Creates or replaces a profile (API-triggered transactional sends with `createNewProfile`). */
  saveProfile(params: { profile: Profile }): Promise<void>;
}
