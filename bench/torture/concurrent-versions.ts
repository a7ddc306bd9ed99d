/**
 * Concurrent `createVersion`: two callers ask for a new version of the same live recurring campaign at the
 * same moment. One may win; the other must be refused. Where both win, the scenario activates both versions,
 * as their two authors would, and counts pairs where both went live (each would send to every recipient).
 */
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { promotion } from "../../test/kit/fixtures.js";
import {
  ADMIN,
  AUDIENCE,
  type Figure,
  figures,
  race2,
  readyKit,
  type Scenario,
  storageKinds,
  storageOf,
  type TortureOptions,
  trialsOf,
} from "./support.js";

const weekly = {
  timeZone: "Europe/Paris",
  recurrence: {
    frequency: "weekly" as const,
    interval: 1,
    daysOfWeek: ["monday" as const],
    at: { hour: 9, minute: 0 },
  },
};

/** One pair: returns whether both versions were created, and whether both then went live. */
async function pair(kit: CampaignKit, id: string) {
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: { ...promotion, id, audienceId: AUDIENCE, schedule: weekly },
  });
  await kit.campaigns.activate({ actor: ADMIN, id });
  const versions = [`${id}-a`, `${id}-b`];
  const race = await race2(
    () => kit.campaigns.createVersion({ actor: ADMIN, id, newId: versions[0]! }),
    () => kit.campaigns.createVersion({ actor: ADMIN, id, newId: versions[1]! }),
  );
  if (!race.bothOk) return { both: false, bothLive: false };
  for (const version of versions) await kit.campaigns.activate({ actor: ADMIN, id: version }).catch(() => {});
  const statuses = await Promise.all(versions.map((v) => kit.campaigns.get({ actor: ADMIN, id: v })));
  return { both: true, bothLive: statuses.every((c) => c.status === "live" || c.status === "scheduled") };
}

async function runOn(kind: "memory" | "postgres", options: TortureOptions, pairs: number): Promise<Figure[]> {
  const { storage, dispose } = await storageOf(kind, options, "versions");
  const f = figures("concurrent-versions", kind);
  try {
    const kit = await readyKit({ storage });
    let both = 0;
    let bothLive = 0;
    for (let i = 0; i < pairs; i++) {
      const result = await pair(kit, `rec-${i}`);
      if (result.both) both++;
      if (result.bothLive) bothLive++;
    }
    console.log(`  ${kind}: ${pairs} pairs, both versions created in ${both}, both live in ${bothLive}`);
    f.info("pairs", pairs);
    f.equal("pairs where both createVersion calls succeeded", both, 0);
    f.equal("pairs where both versions then went live", bothLive, 0);
  } finally {
    await dispose();
  }
  return f.list;
}

export const concurrentVersions: Scenario = {
  name: "concurrent-versions",
  summary: "two createVersion calls at once on one live recurring campaign",
  async run(options) {
    const pairs = trialsOf(options, 20, 20);
    const list: Figure[] = [];
    for (const kind of storageKinds(options)) list.push(...(await runOn(kind, options, pairs)));
    return list;
  },
};
