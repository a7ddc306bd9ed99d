/**
 * A scheduled marketing promotion: one email and one SMS action sent concurrently to 3,000 synthetic
 * profiles, some without consent or suppressed, at 500 messages per second, starting at 10:00 Paris time.
 *
 * Time is virtual (the kit reads the clock we pass and sleeps on it), so the half-hour wait before the start
 * and the rate limit cost nothing in wall time while the report still shows their effect.
 *
 * Run: npx tsx examples/scheduled-promotion.ts
 */

// The virtual clock `campaign-kit/testing` exports, imported from its own file: that entry also holds the
// conformance suites, which load vitest and so only run under it.
import { createCampaignKit, memoryAudiences, memoryChannel, type Profile } from "../src/index.js";
import { scheduleSchema } from "../src/model/index.js";
import { nextOccurrence } from "../src/schedule/index.js";
import { virtualClock } from "../src/testing/index.js";

const ADMIN = "root";
const SIZE = 3000;

// Synthetic profiles: every 10th has no email consent, every 25th is suppressed on SMS, every 40th lacks a
// phone number. Deterministic, so the expected counts below can be checked.
function profile(i: number): Profile {
  const consent = { email: i % 10 !== 0, sms: true };
  return {
    id: `p${i}`,
    identities: { email: `shopper${i}@example.com` },
    addresses: i % 40 === 0 ? {} : { sms: `+33600${String(i).padStart(6, "0")}` },
    attributes: { firstName: `Shopper${i}` },
    consent,
    suppressedChannels: i % 25 === 0 ? ["sms"] : [],
  };
}
const profiles = Array.from({ length: SIZE }, (_, i) => profile(i));

const clock = virtualClock({ start: "2026-11-27T08:30:00Z" });
const email = memoryChannel({ channel: "email" });
const sms = memoryChannel({ channel: "sms" });
const kit = await createCampaignKit({
  clock,
  channels: [email, sms],
  // A generator: the kit streams audiences page by page and never needs the whole list.
  audiences: memoryAudiences({ audiences: { shoppers: () => profiles.values() } }),
  administrators: [ADMIN],
  // The reference product completes a one-shot 3 days after its send (the default); this example completes
  // it on the tick after, to show the whole life in a few ticks.
  lifecycle: { completeAfterDays: 0 },
});

await kit.audiences.register({
  actor: ADMIN,
  audience: {
    id: "shoppers",
    name: "Shoppers",
    status: "realized",
    identityNamespace: "email",
    estimatedSize: SIZE,
  },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "email-marketing",
    name: "Marketing email",
    channel: "email",
    purpose: "marketing",
    status: "active",
    settings: { fromName: "Acme", fromAddress: "deals@mail.acme.example", subdomain: "mail.acme.example" },
  },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "sms-marketing",
    name: "Marketing SMS",
    channel: "sms",
    purpose: "marketing",
    status: "active",
    settings: { provider: "memory", senderNumber: "+33612345678" },
  },
});

const schedule = { timeZone: "Europe/Paris", startAt: "2026-11-27T09:00:00Z" };
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "black-friday",
    type: "scheduled",
    category: "marketing",
    name: "Black Friday",
    audienceId: "shoppers",
    identityNamespace: "email",
    schedule,
    deliveryControls: { rateLimit: 500 },
    actions: [
      {
        channel: "email",
        channelConfigurationId: "email-marketing",
        content: {
          subject: "{{profile.firstName}}, Black Friday is on",
          text: "Everything -30% until midnight.",
        },
      },
      {
        channel: "sms",
        channelConfigurationId: "sms-marketing",
        content: { body: "Acme: -30% today only. STOP to opt out" },
      },
    ],
  },
});
const activated = await kit.campaigns.activate({ actor: ADMIN, id: "black-friday" });
const first = nextOccurrence(scheduleSchema.parse(schedule), { after: new Date(clock.now() - 1) });
console.log(
  `Campaign black-friday is ${activated.status}; it sends at ${first?.at.toISOString()} (10:00 in Paris).`,
);

// Progress events arrive at most once a second of (virtual) time per dispatch, and once at the end.
kit.dispatcher.on("progress", (report) => {
  const { sent, excluded, failed } = report.outcomes;
  console.log(
    `  progress: ${report.recipients} recipients, ${sent} sent, ${excluded} excluded, ${failed} failed`,
  );
});

// A host would call kit.scheduler.start(); here we tick by hand every 10 virtual minutes.
for (const at of ["2026-11-27T08:40:00Z", "2026-11-27T08:50:00Z", "2026-11-27T09:00:00Z"]) {
  await clock.set(at);
  const tick = await kit.scheduler.tick();
  console.log(
    `tick ${at}: started [${tick.started.join(", ")}], launched ${tick.launched.length}, completed [${tick.completed.join(", ")}]`,
  );
}

const report = await kit.reports.campaign({ actor: ADMIN, id: "black-friday" });
const campaign = await kit.campaigns.get({ actor: ADMIN, id: "black-friday" });
const seconds =
  report.firstSentAt && report.lastSentAt
    ? (report.lastSentAt.getTime() - report.firstSentAt.getTime()) / 1000
    : 0;
console.log(`\nReport for black-friday (status ${campaign.status}):`);
console.log(`  targeted profiles  ${report.targeted}`);
console.log(
  `  sent               ${report.outcomes.sent} (email ${email.sent.length}, SMS ${sms.sent.length})`,
);
console.log(`  failed             ${report.outcomes.failed}`);
console.log(`  excluded           ${report.outcomes.excluded}`);
for (const [reason, count] of Object.entries(report.excludedByReason)) {
  if (count > 0) console.log(`    ${reason.padEnd(17)}${count}`);
}
console.log(`  sending took ${seconds.toFixed(1)} s of virtual time at 500 messages/s`);

// Both actions ran for every profile: exclusions are per channel.
const noEmailConsent = profiles.filter((p) => !p.consent.email).length;
const noPhone = profiles.filter((p) => !p.addresses.sms).length;
const smsSuppressed = profiles.filter((p) => p.addresses.sms && p.suppressedChannels.includes("sms")).length;
const expected = { email: SIZE - noEmailConsent, sms: SIZE - noPhone - smsSuppressed };
if (email.sent.length !== expected.email || sms.sent.length !== expected.sms) {
  throw new Error(
    `Expected ${JSON.stringify(expected)} sent, got email ${email.sent.length}, sms ${sms.sent.length}`,
  );
}
if (campaign.status !== "completed")
  throw new Error(`Expected the campaign completed, it is ${campaign.status}`);
if (report.excludedByReason["no-consent"] !== noEmailConsent)
  throw new Error("no-consent exclusions miscounted");
console.log("\nOK: every consenting, reachable profile got the promotion once, every exclusion is counted.");
await kit.close();
