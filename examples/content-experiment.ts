/**
 * A content experiment: a winter sale email in two subject lines, 45 % each, 10 % of the audience held out.
 * The scheduler sends it to 10,000 people, each getting the treatment the hash assigns; simulated clicks
 * (8 % of the plain subject's recipients, 10 % of the urgent one's) come back as feedback; the experiment
 * report gives each treatment's rate, its probability to beat the control, and the winner.
 *
 * Run: npx tsx examples/content-experiment.ts
 */
import {
  createCampaignKit,
  memoryAudiences,
  memoryChannel,
  memoryStorage,
  type OutboundMessage,
  type Profile,
} from "../src/index.js";
import { virtualClock } from "../src/testing/index.js";

const ADMIN = "root";
const SIZE = 10_000;

const profiles: Profile[] = Array.from({ length: SIZE }, (_, i) => ({
  id: `p${i}`,
  identities: { email: `person${i}@example.com` },
  addresses: {},
  attributes: { firstName: `Person${i}` },
  consent: { email: true },
  suppressedChannels: [],
}));

const storage = memoryStorage();
const email = memoryChannel({ channel: "email" });
const kit = await createCampaignKit({
  storage,
  clock: virtualClock({ start: "2026-12-01T08:00:00Z" }),
  channels: [email],
  audiences: memoryAudiences({ audiences: { subscribers: profiles } }),
  administrators: [ADMIN],
});
await kit.audiences.register({
  actor: ADMIN,
  audience: { id: "subscribers", name: "Subscribers", status: "realized", identityNamespace: "email" },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "news",
    name: "Newsletter",
    channel: "email",
    purpose: "marketing",
    status: "active",
    settings: { fromName: "Acme", fromAddress: "news@mail.acme.example", subdomain: "mail.acme.example" },
  },
});

await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "winter-sale",
    type: "scheduled",
    category: "marketing",
    name: "Winter sale",
    audienceId: "subscribers",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "news",
        experiment: {
          metric: "clicked",
          holdoutPercentage: 10,
          treatments: [
            {
              id: "plain",
              name: "Plain subject",
              percentage: 45,
              content: { subject: "Our winter sale", text: "Up to 40 % off until Sunday." },
            },
            {
              id: "urgent",
              name: "Urgent subject",
              percentage: 45,
              content: {
                subject: "Last days, {{profile.firstName}}: up to 40 % off",
                text: "Up to 40 % off, ends Sunday.",
              },
            },
          ],
        },
      },
    ],
  },
});
await kit.campaigns.activate({ actor: ADMIN, id: "winter-sale" });
await kit.scheduler.tick();

// Simulated clicks, as a provider's webhook (or the kit's tracking links) would report them.
async function recordClicks(messages: readonly OutboundMessage[]): Promise<void> {
  const at = new Date("2026-12-01T10:00:00Z");
  await kit.feedback.record({ events: messages.map((m) => ({ type: "clicked", messageId: m.id, at })) });
}
// A deterministic "random" click: 8 % of the plain subject's recipients click, 10 % of the urgent one's.
const clickRate = { plain: 0.08, urgent: 0.1 } as Record<string, number>;
const clicked = email.sent.filter(
  (message, i) => ((i * 7919) % 1000) / 1000 < (clickRate[message.treatmentId ?? ""] ?? 0),
);
await recordClicks(clicked);

const delivery = await kit.reports.campaign({ actor: ADMIN, id: "winter-sale" });
const result = await kit.reports.experiment({ actor: ADMIN, id: "winter-sale" });

console.log(
  `Sent ${delivery.outcomes.sent.toLocaleString("en")} of ${SIZE.toLocaleString("en")}; ` +
    `held out ${delivery.excludedByReason.holdout.toLocaleString("en")} (not a delivery problem).`,
);
console.log(`\nExperiment ${result.experimentId}, metric: ${result.metric}`);
for (const t of result.treatments) {
  const chance =
    t.probabilityToBeatControl === undefined
      ? "control"
      : t.probabilityToBeatControl > 0.9999
        ? "over 99.99 % to beat the control"
        : `${(t.probabilityToBeatControl * 100).toFixed(2)} % to beat the control`;
  console.log(
    `  ${t.id.padEnd(7)} ${t.name?.padEnd(15) ?? ""} exposed ${String(t.exposed).padStart(5)}, ` +
      `clicks ${String(t.conversions).padStart(4)}, rate ${(t.rate * 100).toFixed(2)} %, ${chance}`,
  );
}
if (result.holdout) {
  console.log(`  holdout ${result.holdout.percentage} %: ${result.holdout.recipients} people sent nothing`);
}
console.log(
  result.winner === undefined
    ? `\nNo winner at ${result.confidence * 100} % confidence yet.`
    : `\nWinner at ${result.confidence * 100} % confidence: ${result.winner}.`,
);

const held = delivery.excludedByReason.holdout;
if (
  result.winner !== "urgent" ||
  Math.abs(held / SIZE - 0.1) > 0.01 ||
  delivery.outcomes.sent + held !== SIZE
) {
  console.error("Unexpected experiment result.");
  process.exitCode = 1;
} else {
  console.log("OK: each recipient got its treatment, the holdout was counted, and the urgent subject won.");
}
