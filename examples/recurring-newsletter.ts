/**
 * A weekly newsletter, Mondays at 09:00, sent in each reader's own time zone (Tokyo, Paris, New York, or the
 * campaign's Europe/Paris for readers without one), for two weeks that straddle the end of European summer
 * time. Prints the next occurrences, runs the two weeks on a virtual clock with an hourly scheduler tick,
 * shows who got each issue when (UTC and reader's local time), then the campaign completing.
 *
 * Run: npx tsx examples/recurring-newsletter.ts
 */

// The virtual clock `campaign-kit/testing` exports, imported from its own file: that entry also holds the
// conformance suites, which load vitest and so only run under it.
import { createCampaignKit, memoryAudiences, memoryChannel, type Profile } from "../src/index.js";
import { occurrencesBetween } from "../src/schedule/index.js";
import { virtualClock } from "../src/testing/index.js";

const HOUR = 3_600_000;
const ADMIN = "root";
const CAMPAIGN_ZONE = "Europe/Paris";

/** "Mon 19 Oct 09:00" in `timeZone`. */
function local(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "2-digit",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

const reader = (id: string, name: string, timeZone?: string): Profile => ({
  id,
  identities: { email: `${id}@example.com` },
  addresses: {},
  attributes: { firstName: name },
  consent: { email: true },
  suppressedChannels: [],
  ...(timeZone ? { timeZone } : {}),
});
const readers = [
  reader("yuki", "Yuki", "Asia/Tokyo"),
  reader("camille", "Camille", "Europe/Paris"),
  reader("jordan", "Jordan", "America/New_York"),
  reader("alex", "Alex"), // no time zone: the campaign's (Europe/Paris)
];

const clock = virtualClock({ start: "2026-10-16T12:00:00Z" });
const email = memoryChannel({ channel: "email" });
const kit = await createCampaignKit({
  clock,
  channels: [email],
  audiences: memoryAudiences({ audiences: { readers } }),
  administrators: [ADMIN],
});
await kit.audiences.register({
  actor: ADMIN,
  audience: { id: "readers", name: "Newsletter readers", status: "realized", identityNamespace: "email" },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "newsletter-email",
    name: "Newsletter",
    channel: "email",
    purpose: "marketing",
    status: "active",
    settings: {
      fromName: "Acme Weekly",
      fromAddress: "weekly@mail.acme.example",
      subdomain: "mail.acme.example",
    },
  },
});
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "weekly",
    type: "scheduled",
    category: "marketing",
    name: "Acme Weekly",
    audienceId: "readers",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "newsletter-email",
        content: { subject: "Acme Weekly for {{profile.firstName}}", text: "This week at Acme..." },
      },
    ],
    schedule: {
      timeZone: CAMPAIGN_ZONE,
      startAt: "2026-10-18T00:00:00Z",
      endAt: "2026-11-01T00:00:00Z",
      sendInProfileTimeZone: true,
      recurrence: { frequency: "weekly", interval: 1, daysOfWeek: ["monday"], at: { hour: 9, minute: 0 } },
    },
  },
});
const campaign = await kit.campaigns.activate({ actor: ADMIN, id: "weekly" });
console.log(
  `Campaign weekly is ${campaign.status}: Mondays 09:00 local, until ${campaign.schedule?.endAt?.toISOString()}.`,
);

// The schedule maths are public: list what is coming without running anything.
const upcoming = occurrencesBetween(campaign.schedule!, {
  from: new Date(clock.now()),
  to: new Date("2027-01-01T00:00:00Z"),
});
console.log("Next occurrences (campaign zone):");
for (const o of upcoming)
  console.log(`  #${o.index} ${o.at.toISOString()}  = ${local(o.at, CAMPAIGN_ZONE)} in Paris`);
console.log(
  "  Note: Europe leaves summer time on Sun 25 Oct, so 09:00 in Paris is 07:00 UTC before it and 08:00 UTC after;\n" +
    "  New York changes only on 1 Nov, so its readers get both issues at 13:00 UTC.",
);

const deliveries: { recipientId: string; at: Date }[] = [];
kit.dispatcher.on("sent", (record) => deliveries.push({ recipientId: record.recipientId, at: record.at }));

// A host would call kit.scheduler.start(); here one tick per virtual hour, for two weeks and a day.
let completedAt: Date | undefined;
for (let hour = 0; hour < 16 * 24; hour++) {
  const tick = await kit.scheduler.tick();
  if (tick.completed.includes("weekly")) completedAt = new Date(clock.now());
  await clock.advance(HOUR);
}

console.log("\nWho got it when:");
const zoneOf = new Map(readers.map((r) => [r.id, r.timeZone]));
for (const { recipientId, at } of deliveries.sort((a, b) => a.at.getTime() - b.at.getTime())) {
  const zone = zoneOf.get(recipientId);
  const where = `${local(at, zone ?? CAMPAIGN_ZONE)} ${zone ?? `${CAMPAIGN_ZONE} (campaign's)`}`;
  console.log(`  ${at.toISOString().slice(0, 16)}Z  ${recipientId.padEnd(8)} ${where}`);
}

const final = await kit.campaigns.get({ actor: ADMIN, id: "weekly" });
const report = await kit.reports.campaign({ actor: ADMIN, id: "weekly" });
// A recurring campaign completes at its end date, once every zone of its last occurrence is done.
console.log(
  `\nCampaign weekly is ${final.status} (by the tick at ${completedAt?.toISOString()}, its end date): ` +
    `${report.executions} occurrences, ${report.outcomes.sent} sent.`,
);

// Each reader got two issues, each at 09:00 on a Monday in their own zone.
const offTime = deliveries.filter(({ recipientId, at }) => {
  const when = local(at, zoneOf.get(recipientId) ?? CAMPAIGN_ZONE);
  return !when.startsWith("Mon") || !when.endsWith("09:00");
});
if (deliveries.length !== readers.length * 2 || offTime.length > 0) {
  throw new Error(`Expected 8 Monday 09:00 local deliveries, got ${JSON.stringify(deliveries)}`);
}
if (final.status !== "completed") throw new Error(`Expected the campaign completed, it is ${final.status}`);
console.log("OK: two issues per reader, each Monday 09:00 in the reader's zone, and the campaign completed.");
await kit.close();
