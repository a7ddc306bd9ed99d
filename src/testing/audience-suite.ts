import type { Profile } from "../model/profile.js";
import type { AudienceRange, AudienceSource } from "../ports/audience-source.js";
import { vitest } from "./vitest.js";

/** What {@link AudienceSuiteOptions.create} must put in the source it makes. */
export interface AudienceSuiteSeed {
  /** Every profile of the seed, audience members included: `findProfiles` must find each by its identities. */
  profiles: readonly Profile[];
  /** The members of each audience, by audience id; `members` must stream exactly these. */
  audiences: Readonly<Record<string, readonly Profile[]>>;
}

/** Options for {@link runAudienceSuite}. */
export interface AudienceSuiteOptions {
  /** The name of the `describe` block. Default `"AudienceSource"`. */
  name?: string;
  /**
   * Makes a source holding exactly `seed` (its profiles and audiences, nothing else); called before each
   * test, so saves made by one test are gone in the next. For a database, load the seed into a fresh schema,
   * collection or key prefix.
   */
  create: (seed: AudienceSuiteSeed) => Promise<AudienceSource> | AudienceSource;
  /** Called after each test: drop what `create` made, close what it opened. */
  cleanup?: () => Promise<void>;
}

const profile = (i: number, extra: Partial<Profile> = {}): Profile => ({
  id: `p-${i}`,
  identities: { email: `member-${i}@example.com`, ecid: `ecid-${i}` },
  addresses: { sms: `+1555010${1000 + i}` },
  attributes: { firstName: `Zoë ${i}`, tier: i % 2 === 0 ? "gold" : "silver", visits: i },
  consent: { email: true, sms: i % 3 !== 0 },
  suppressedChannels: i === 4 ? ["sms"] : [],
  ...extra,
});

const MEMBERS = Array.from({ length: 7 }, (_, i) =>
  profile(i, i % 2 === 0 ? { timeZone: "Europe/Paris" } : {}),
);
const OUTSIDER = profile(99);
const SEED: AudienceSuiteSeed = {
  profiles: [...MEMBERS, OUTSIDER],
  audiences: { everyone: MEMBERS, one: [MEMBERS[3]!], empty: [] },
};
const PAGE_SIZE = 3;

const byId = (a: Profile, b: Profile) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Reads an audience whole, keeping its pages. */
async function pagesOf(source: AudienceSource, audienceId: string, pageSize?: number): Promise<Profile[][]> {
  const pages: Profile[][] = [];
  for await (const page of source.members({ audienceId, ...(pageSize ? { pageSize } : {}) }))
    pages.push([...page]);
  return pages;
}

/** Every range of an audience, as `ranges` cuts it. */
async function rangesOf(source: AudienceSource, audienceId: string, size: number): Promise<AudienceRange[]> {
  const ranges: AudienceRange[] = [];
  for await (const range of source.ranges!({ audienceId, size })) ranges.push(range);
  return ranges;
}

/** One range's members, read whole. */
async function membersIn(
  source: AudienceSource,
  audienceId: string,
  range: AudienceRange,
): Promise<Profile[]> {
  const members: Profile[] = [];
  for await (const page of source.members({ audienceId, pageSize: 2, range })) members.push(...page);
  return members;
}

/**
 * The conformance suite of the {@link AudienceSource} contract: registers vitest tests that check `members`
 * streams exactly an audience's members, each once and deep-equal to what was loaded, in non-empty pages
 * of about `pageSize`, as a fresh stream on every call (two executions read one audience at once); that an
 * unknown audience is `NOT_FOUND`; that aborting the signal stops the stream early; that `findProfiles` finds
 * a profile by each of its identities and nothing under another namespace; and that `saveProfile` creates and
 * replaces profiles by id; and, for a source with `ranges`, that the ranges are consecutive, about `size`
 * members each, and together hold every member exactly once, that `members` honours a range, and that a
 * source promising `distinctMembers` streams no member twice. Every source shipped with campaign-kit passes it; run it on yours.
 *
 * Call it at the top level of a vitest test file (it uses `describe`, `it`, `expect` and the hooks).
 *
 * @example
 * ```ts
 * // test/my-audience-source.test.ts
 * import { runAudienceSuite } from "campaign-kit/testing";
 * import { myAudienceSource } from "../src/my-audience-source.js";
 *
 * runAudienceSuite({
 *   name: "myAudienceSource",
 *   create: async ({ profiles, audiences }) => {
 *     const db = await connectToAFreshDatabase();
 *     await db.loadProfiles(profiles);
 *     for (const [id, members] of Object.entries(audiences)) await db.loadAudience(id, members);
 *     return myAudienceSource({ db });
 *   },
 *   cleanup: async () => dropThatDatabase(),
 * });
 * ```
 */
export function runAudienceSuite(options: AudienceSuiteOptions): void {
  const { afterEach, beforeEach, describe, expect, it } = vitest();
  describe(options.name ?? "AudienceSource", () => {
    let current: AudienceSource | undefined;
    const source = (): AudienceSource => {
      if (current === undefined)
        throw new Error("runAudienceSuite: no audience source; `create` did not run or failed.");
      return current;
    };
    const findOne = async (namespace: string, value: string) =>
      (await source().findProfiles({ namespace, values: [value] })).get(value);

    beforeEach(async () => {
      current = await options.create(structuredClone(SEED));
    });
    afterEach(async () => {
      current = undefined;
      await options.cleanup?.();
    });

    it("members streams every member once, as loaded, in non-empty pages of about pageSize", async () => {
      const pages = await pagesOf(source(), "everyone", PAGE_SIZE);
      // Paged, not whole: the dispatcher holds a bounded number of pages, so their size bounds its memory.
      expect(pages.length).toBeGreaterThan(1);
      for (const page of pages) expect(page.length).toBeGreaterThan(0);
      expect(pages.flat().sort(byId)).toEqual([...MEMBERS].sort(byId));
    });

    it("members works without a pageSize, and for audiences of one and of none", async () => {
      expect((await pagesOf(source(), "everyone")).flat().sort(byId)).toEqual([...MEMBERS].sort(byId));
      expect((await pagesOf(source(), "one")).flat()).toEqual([MEMBERS[3]]);
      expect(await pagesOf(source(), "empty")).toEqual([]);
    });

    it("members is a fresh stream on every call, even read twice at once", async () => {
      const [first, second] = await Promise.all([
        pagesOf(source(), "everyone", 1),
        pagesOf(source(), "everyone", 2),
      ]);
      expect(first.flat().sort(byId)).toEqual([...MEMBERS].sort(byId));
      expect(second.flat().sort(byId)).toEqual([...MEMBERS].sort(byId));
    });

    it("members of an unknown audience fails with NOT_FOUND", async () => {
      await expect(pagesOf(source(), "no-such-audience")).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("members stops early when its signal aborts", async () => {
      const controller = new AbortController();
      const seen: Profile[] = [];
      // Ending quietly or throwing the abort are both stopping; streaming on to the end is not.
      await (async () => {
        for await (const page of source().members({
          audienceId: "everyone",
          pageSize: 1,
          signal: controller.signal,
        })) {
          seen.push(...page);
          controller.abort();
        }
      })().catch(() => undefined);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.length).toBeLessThan(MEMBERS.length);
    });

    it("ranges (when the source has them) cut an audience into consecutive parts holding each member once", async () => {
      const audiences = source();
      if (audiences.ranges === undefined) return;
      const ranges = await rangesOf(audiences, "everyone", 3);
      // 7 members by 3: three ranges, the first open below, the last open above, each starting where the last ended.
      expect(ranges).toHaveLength(3);
      expect(ranges[0]!.after).toBeUndefined();
      expect(ranges.at(-1)!.until).toBeUndefined();
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.after).toBe(ranges[i - 1]!.until);
      const parts = await Promise.all(ranges.map((range) => membersIn(audiences, "everyone", range)));
      expect(parts.map((part) => part.length)).toEqual([3, 3, 1]);
      expect(parts.flat().sort(byId)).toEqual([...MEMBERS].sort(byId));
      expect(await rangesOf(audiences, "everyone", 100)).toEqual([{}]);
      expect(await rangesOf(audiences, "empty", 3)).toEqual([]);
      await expect(rangesOf(audiences, "no-such-audience", 3)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("members honours a range's bounds: after is exclusive, until inclusive, either may be absent", async () => {
      const audiences = source();
      if (audiences.ranges === undefined) return;
      const ids = (profiles: Profile[]) => profiles.map((p) => p.id).sort();
      expect(ids(await membersIn(audiences, "everyone", { after: "p-1", until: "p-4" }))).toEqual([
        "p-2",
        "p-3",
        "p-4",
      ]);
      expect(ids(await membersIn(audiences, "everyone", { after: "p-4" }))).toEqual(["p-5", "p-6"]);
      expect(ids(await membersIn(audiences, "everyone", { until: "p-0" }))).toEqual(["p-0"]);
      expect(await membersIn(audiences, "everyone", { after: "p-6" })).toEqual([]);
      expect(ids(await membersIn(audiences, "one", { after: "p-2", until: "p-3" }))).toEqual(["p-3"]);
    });

    it("a source promising distinct members streams each member once", async () => {
      const audiences = source();
      if (audiences.distinctMembers !== true) return;
      const ids = (await pagesOf(audiences, "everyone", 2)).flat().map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("findProfiles finds many profiles in one call, by value, leaving out unknown values", async () => {
      const values = [MEMBERS[0]!, MEMBERS[3]!, OUTSIDER].map((p) => p.identities.email!);
      const found = await source().findProfiles({
        namespace: "email",
        values: [...values, "nobody@example.com"],
      });
      expect([...found.keys()].sort()).toEqual([...values].sort());
      expect(found.get(values[1]!)).toEqual(MEMBERS[3]);
      expect(await source().findProfiles({ namespace: "email", values: [] })).toEqual(new Map());
    });

    it("findProfiles finds a profile by each of its identities, and nothing else", async () => {
      for (const expected of [MEMBERS[0]!, MEMBERS[5]!, OUTSIDER]) {
        for (const [namespace, value] of Object.entries(expected.identities))
          expect(await findOne(namespace, value)).toEqual(expected);
      }
      const email = MEMBERS[0]!.identities.email!;
      expect(await findOne("email", "nobody@example.com")).toBeUndefined();
      expect(await findOne("ecid", email)).toBeUndefined();
    });

    it("saveProfile creates a profile findProfiles then finds", async () => {
      const created = profile(200, { attributes: { firstName: "Ana" }, consent: {}, addresses: {} });
      await source().saveProfile({ profile: created });
      expect(await findOne("email", "member-200@example.com")).toEqual(created);
    });

    it("saveProfile replaces the profile with the same id, identities included", async () => {
      const before = MEMBERS[1]!;
      const after: Profile = {
        ...before,
        identities: { email: "renamed@example.com" },
        attributes: { firstName: "Renamed" },
      };
      await source().saveProfile({ profile: after });
      expect(await findOne("email", "renamed@example.com")).toEqual(after);
      expect(await findOne("email", before.identities.email!)).toBeUndefined();
      expect(await findOne("ecid", before.identities.ecid!)).toBeUndefined();
    });
  });
}
