/**
 * Writing your own ChannelAdapter: a fake SMS provider that "sends" by printing, and fails the way real
 * providers do. The dispatcher owns consent, rate, retries and the ledger; the adapter only turns one
 * rendered message into one provider call, and its errors steer the engine:
 * - PermanentDeliveryError: never retried, recorded as failed with its reason;
 * - RateLimitedError: waits `retryAfterMs`, slows the campaign down, retries, never counted as sent early;
 * - any other error: retried with exponential backoff, up to `retry.attempts`.
 *
 * Run: npx tsx examples/custom-channel-adapter.ts
 */

import {
  type ChannelAdapter,
  createCampaignKit,
  memoryAudiences,
  PermanentDeliveryError,
  type Profile,
  RateLimitedError,
} from "../src/index.js";

const ADMIN = "root";

/** Options of {@link fakeSmsProvider}: adapters are factories taking options, returning plain objects. */
interface FakeSmsProviderOptions {
  /** Where it "sends": defaults to the console. */
  log?: (line: string) => void;
}

/**
 * A fake SMS provider. Numbers ending in 00 are "not in service" (permanent), the provider throttles the
 * first call for numbers ending in 13, and its network drops the first two attempts for numbers ending in 7.
 */
function fakeSmsProvider(options: FakeSmsProviderOptions = {}): ChannelAdapter & { delivered: string[] } {
  const log = options.log ?? ((line: string) => console.log(line));
  const delivered: string[] = [];
  let nextId = 1;
  return {
    name: "fake-sms",
    channel: "sms",
    // One message per call, and no idempotency keys: the ledger alone keeps sends exactly-once.
    capabilities: { batch: false, idempotencyKeys: false },
    delivered,
    async send(message, { attempt }) {
      const to = message.to ?? "";
      if (to.endsWith("00")) throw new PermanentDeliveryError(`${to} is not in service`);
      if (to.endsWith("13") && attempt === 1) {
        log(`  [fake-sms] 429 Too Many Requests for ${to}`);
        throw new RateLimitedError("Provider quota exceeded", { retryAfterMs: 300 });
      }
      if (to.endsWith("7") && attempt <= 2) {
        log(`  [fake-sms] connection reset sending to ${to} (attempt ${attempt})`);
        throw new Error("ECONNRESET");
      }
      const body = message.content.channel === "sms" ? message.content.body : "";
      const providerMessageId = `fake-${nextId++}`;
      log(`  [fake-sms] ${providerMessageId} -> ${to}: ${body}`);
      delivered.push(to);
      return { providerMessageId };
    },
  };
}

const numbers = [
  "+33600000011",
  "+33600000013",
  "+33600000017",
  "+33600000100",
  "+33600000021",
  "+33600000022",
];
const profiles: Profile[] = numbers.map((phone, i) => ({
  id: `c${i}`,
  identities: { phone },
  addresses: {},
  attributes: { firstName: ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatou"][i] },
  consent: {},
  suppressedChannels: [],
}));

const sms = fakeSmsProvider();
const kit = await createCampaignKit({
  channels: [sms],
  audiences: memoryAudiences({ audiences: { customers: profiles } }),
  administrators: [ADMIN],
  // Short backoff so the example runs fast on the real clock (the default starts at 200 ms).
  dispatcher: { retry: { attempts: 3, baseDelayMs: 50 } },
});
kit.dispatcher.on("retry", (e) =>
  console.log(`  retry: ${e.recipientId} attempt ${e.attempt} in ${e.delayMs} ms`),
);
kit.dispatcher.on("rate-limited", (e) =>
  console.log(`  rate-limited: ${e.messages} message(s), waiting ${e.retryAfterMs} ms`),
);
kit.dispatcher.on("failed", (record) =>
  console.log(`  failed for good: ${record.recipientId} (${record.reason})`),
);

await kit.audiences.register({
  actor: ADMIN,
  audience: { id: "customers", name: "Customers", status: "realized", identityNamespace: "phone" },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "sms-alerts",
    name: "Service alerts",
    channel: "sms",
    purpose: "transactional",
    status: "active",
    settings: { provider: "fake-sms", senderNumber: "+33612345678" },
  },
});
// Transactional: a service disruption notice, sent without marketing consent.
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "outage",
    type: "scheduled",
    category: "transactional",
    name: "Outage notice",
    audienceId: "customers",
    identityNamespace: "phone",
    actions: [
      {
        channel: "sms",
        channelConfigurationId: "sms-alerts",
        content: { body: "Hi {{profile.firstName}}, service is down until 14:00. Sorry! Acme" },
      },
    ],
  },
});
await kit.campaigns.activate({ actor: ADMIN, id: "outage" });
console.log("Sending the outage notice through the fake provider:");
await kit.scheduler.tick();

const report = await kit.reports.campaign({ actor: ADMIN, id: "outage" });
console.log(
  `\nReport: ${report.targeted} targeted, ${report.outcomes.sent} sent, ${report.outcomes.failed} failed, ` +
    `${report.retries} retries (attempts beyond the first).`,
);
const [execution] = (await kit.executions.list({ actor: ADMIN, filter: { campaignId: "outage" } })).items;
console.log(
  `Execution ${execution?.status}; campaign ${(await kit.campaigns.get({ actor: ADMIN, id: "outage" })).status}.`,
);

// Five delivered (two after retries, one after a throttle), one permanent failure never retried.
if (report.outcomes.sent !== 5 || report.outcomes.failed !== 1 || sms.delivered.length !== 5) {
  throw new Error(`Expected 5 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
}
if (report.retries < 3) throw new Error(`Expected at least 3 retries, got ${report.retries}`);
console.log(
  "OK: retryable and throttled sends were retried until delivered; the dead number failed once, for good.",
);
await kit.close();
