/**
 * An API-triggered marketing campaign: the app decides when it goes (a flash sale opens, stock arrives) and
 * calls the audience execution API with a `context` every recipient's message shares. One call sends now,
 * another is deferred with `schedule.executeAt`; their status is read back in the reference API's shape.
 *
 * Run: npx tsx examples/audience-trigger.ts
 */

// The virtual clock `campaign-kit/testing` exports, imported from its own file: that entry also holds the
// conformance suites, which load vitest and so only run under it.
import { createCampaignKit, memoryAudiences, memoryChannel, type Profile } from "../src/index.js";
import { virtualClock } from "../src/testing/index.js";

const ADMIN = "root";

// Twenty members; the last two never opted in, so marketing sends exclude them.
const members: Profile[] = Array.from({ length: 20 }, (_, i) => ({
  id: `m${i}`,
  identities: { email: `member${i}@example.com` },
  addresses: {},
  attributes: { firstName: `Member${i}` },
  consent: { email: i < 18 },
  suppressedChannels: [],
}));

const clock = virtualClock({ start: "2026-12-01T08:00:00Z" });
const email = memoryChannel({ channel: "email" });
const kit = await createCampaignKit({
  clock,
  channels: [email],
  audiences: memoryAudiences({ audiences: { members } }),
  administrators: [ADMIN],
});
await kit.audiences.register({
  actor: ADMIN,
  audience: {
    id: "members",
    name: "Loyalty members",
    status: "realized",
    identityNamespace: "email",
    estimatedSize: 20,
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
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "flash-sale",
    type: "api-triggered",
    category: "marketing",
    name: "Flash sale",
    audienceId: "members",
    identityNamespace: "email",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "email-marketing",
        content: {
          subject: "{{profile.firstName}}: {{context.product}} at -{{context.discount}}%",
          text: "Use code {{context.code}} before {{formatDate context.endsAt 'HH:mm' 'Europe/Paris'}} (Paris time).",
        },
      },
    ],
  },
});
await kit.campaigns.activate({ actor: ADMIN, id: "flash-sale" });

// `POST /im/executions/audience`, now: the shared context personalizes every member's message.
const now = await kit.executions.triggerAudience({
  actor: ADMIN,
  request: {
    campaignId: "flash-sale",
    requestId: "boots-2026-12-01",
    audience: { id: "members" },
    context: { product: "Winter boots", discount: 40, code: "BOOTS40", endsAt: "2026-12-01T12:00:00Z" },
  },
});
console.log("Triggered now ->", JSON.stringify(now));
await kit.executions.wait({ id: now.executionId });
console.log("  first message:", JSON.stringify(email.sent[0]?.content));

// The same campaign again, deferred: the execution waits in storage until a scheduler tick at executeAt.
const later = await kit.executions.triggerAudience({
  actor: ADMIN,
  request: {
    campaignId: "flash-sale",
    requestId: "scarves-2026-12-01",
    context: { product: "Scarves", discount: 25, code: "SCARF25", endsAt: "2026-12-01T18:00:00Z" },
    schedule: { executeAt: "2026-12-01T10:00:00Z" },
  },
});
console.log("\nTriggered for 10:00Z ->", JSON.stringify(later));

// `GET /im/executions/audience/{executionId}`.
const show = async (label: string, id: string) => {
  const status = await kit.executions.status({ actor: ADMIN, id });
  console.log(`  ${label}: ${JSON.stringify(status)}`);
  return status;
};
console.log("\nStatus at 08:00Z:");
await show("now  ", now.executionId);
const pending = await show("later", later.executionId);

await kit.scheduler.tick();
console.log(`\nTick at 08:00Z: ${email.sent.length} emails so far (the deferred call is not due).`);
await clock.set("2026-12-01T10:00:00Z");
const tick = await kit.scheduler.tick();
console.log(
  `Tick at 10:00Z: launched ${tick.launched.length} execution, ${email.sent.length} emails so far.`,
);
console.log("  last message:", JSON.stringify(email.sent.at(-1)?.content));

console.log("\nStatus at 10:00Z:");
const first = await show("now  ", now.executionId);
const second = await show("later", later.executionId);
const report = await kit.reports.campaign({ actor: ADMIN, id: "flash-sale" });
console.log(
  `\nReport: ${report.executions} executions, ${report.targeted} targeted, ${report.outcomes.sent} sent, ` +
    `excluded ${JSON.stringify(report.excludedByReason)}`,
);

if (pending.status !== "Scheduled" || first.status !== "Succeeded" || second.status !== "Succeeded") {
  throw new Error("Expected the deferred execution Scheduled, then both Succeeded");
}
if (email.sent.length !== 36 || report.excludedByReason["no-consent"] !== 4) {
  throw new Error(`Expected 2 x 18 emails and 2 x 2 no-consent exclusions, got ${email.sent.length} sent`);
}
console.log("OK: both calls reached the 18 consenting members with their own context, the second at 10:00Z.");
await kit.close();
