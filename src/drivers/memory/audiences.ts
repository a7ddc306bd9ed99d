import { CampaignKitError } from "../../errors.js";
import type { Profile } from "../../model/profile.js";
import { type AudienceSource, inAudienceRange } from "../../ports/audience-source.js";
import { compareIds } from "../../ports/storage.js";

/**
 * An audience's members for {@link memoryAudiences}: an iterable, or a function returning a fresh (async)
 * iterable each time the audience is read, such as a generator, so a million members are produced on demand
 * and never held at once.
 */
export type MemoryAudienceMembers = Iterable<Profile> | (() => Iterable<Profile> | AsyncIterable<Profile>);

/** Options for {@link memoryAudiences}. */
export interface MemoryAudiencesOptions {
  /** Members by audience id. */
  audiences?: Record<string, MemoryAudienceMembers>;
  /** Profiles that {@link AudienceSource.findProfiles} finds, beside audience members and those saved later. */
  profiles?: readonly Profile[];
  /**
   * Promise that no audience here yields a member twice ({@link AudienceSource.distinctMembers}), so a fresh
   * execution skips the ledger read. Default `false`: an iterable may repeat a member.
   */
  distinctMembers?: boolean;
}

/** A memory {@link AudienceSource}, with its saved profiles exposed for tests. */
export interface MemoryAudiences extends AudienceSource {
  /** The profiles given in `profiles` and those saved since, by id. */
  readonly profiles: ReadonlyMap<string, Profile>;
}

const DEFAULT_PAGE_SIZE = 1000;

/**
 * The reference {@link AudienceSource}: audiences from arrays or generators, streamed in pages, and profiles
 * found by identity through an index kept per namespace. `findProfiles` finds the given and saved profiles,
 * then audience members: the first lookup that misses reads every audience once into an index it keeps, so a
 * generator's members are held in memory from then on (a send in waves or profile time zones looks its
 * held-back recipients up this way).
 *
 * @example
 * ```ts
 * const audiences = memoryAudiences({
 *   audiences: { everyone: function* () { for (let i = 0; i < 1_000_000; i++) yield makeProfile(i); } },
 * });
 * for await (const page of audiences.members({ audienceId: "everyone" })) console.log(page.length);
 * ```
 */
export function memoryAudiences(options: MemoryAudiencesOptions = {}): MemoryAudiences {
  const audiences = options.audiences ?? {};
  const profiles = new Map<string, Profile>();
  // namespace \0 value -> profile id
  const byIdentity = new Map<string, string>();

  const save = (profile: Profile) => {
    const previous = profiles.get(profile.id);
    if (previous) {
      for (const [namespace, value] of Object.entries(previous.identities)) {
        byIdentity.delete(`${namespace}\u0000${value}`);
      }
    }
    profiles.set(profile.id, profile);
    for (const [namespace, value] of Object.entries(profile.identities)) {
      byIdentity.set(`${namespace}\u0000${value}`, profile.id);
    }
  };
  for (const profile of options.profiles ?? []) save(profile);

  // namespace \0 value -> audience member: built on the first lookup that misses, then kept.
  let members: Promise<Map<string, Profile>> | undefined;
  const memberIndex = () => {
    members ??= (async () => {
      const index = new Map<string, Profile>();
      for (const source of Object.values(audiences)) {
        const iterable = typeof source === "function" ? source() : source;
        for await (const profile of iterable) {
          for (const [namespace, value] of Object.entries(profile.identities)) {
            index.set(`${namespace}\u0000${value}`, profile);
          }
        }
      }
      return index;
    })();
    return members;
  };

  const membersOf = (audienceId: string) => {
    if (!Object.hasOwn(audiences, audienceId)) {
      throw new CampaignKitError("NOT_FOUND", `No audience "${audienceId}" in this memory audience source.`, {
        details: { audienceId },
      });
    }
    const source = audiences[audienceId]!;
    return typeof source === "function" ? source() : source;
  };

  return {
    profiles,
    ...(options.distinctMembers ? { distinctMembers: true } : {}),

    async *members({ audienceId, pageSize = DEFAULT_PAGE_SIZE, signal, range }) {
      const members = membersOf(audienceId);
      const size = Math.max(1, Math.floor(pageSize));
      let page: Profile[] = [];
      // A plain loop over a sync iterable avoids an await per member; pages are the only await points.
      if (Symbol.asyncIterator in members) {
        for await (const profile of members) {
          if (signal?.aborted) return;
          if (range !== undefined && !inAudienceRange(profile.id, range)) continue;
          page.push(profile);
          if (page.length >= size) {
            yield page;
            page = [];
          }
        }
      } else {
        for (const profile of members) {
          if (signal?.aborted) return;
          if (range !== undefined && !inAudienceRange(profile.id, range)) continue;
          page.push(profile);
          if (page.length >= size) {
            yield page;
            page = [];
          }
        }
      }
      if (page.length > 0 && !signal?.aborted) yield page;
    },

    // Every id is read and sorted: a memory source holds its audiences anyway, and reading one range filters
    // the whole audience, which suits tests and one machine, not millions of members over many workers.
    async *ranges({ audienceId, size, signal }) {
      const ids: string[] = [];
      for await (const profile of membersOf(audienceId)) ids.push(profile.id);
      ids.sort(compareIds);
      const unique = ids.filter((id, i) => i === 0 || id !== ids[i - 1]);
      const step = Math.max(1, Math.floor(size));
      let after: string | undefined;
      for (let end = step - 1; end < unique.length - 1; end += step) {
        if (signal?.aborted) return;
        const until = unique[end]!;
        yield after === undefined ? { until } : { after, until };
        after = until;
      }
      if (unique.length > 0 && !signal?.aborted) yield after === undefined ? {} : { after };
    },

    async findProfiles({ namespace, values }) {
      const found = new Map<string, Profile>();
      for (const value of values) {
        const key = `${namespace}\u0000${value}`;
        const id = byIdentity.get(key);
        let profile = id === undefined ? undefined : profiles.get(id);
        if (profile === undefined) {
          const member = (await memberIndex()).get(key);
          // A saved profile replaces the member with its id, identities included.
          if (member && !profiles.has(member.id)) profile = member;
        }
        if (profile) found.set(value, profile);
      }
      return found;
    },

    async saveProfile({ profile }) {
      save(profile);
    },
  };
}
