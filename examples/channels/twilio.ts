/**
 * Sending an SMS campaign through Twilio with `twilioChannel` (`campaign-kit/channels/twilio`), against a local
 * stub of Twilio's Messages API (the one the adapter's tests use) so it runs offline. For the real thing, drop
 * `baseUrl` and pass your account SID and an API key.
 *
 * What it shows: each message is one form POST to `/2010-04-01/Accounts/{AccountSid}/Messages.json`; the Message
 * `sid` Twilio returns lands in the ledger; a recipient who replied STOP (Twilio error 21610) fails for good
 * without retries; a `429` (error 20429) with `Retry-After` slows the campaign down and the message goes later.
 *
 * Run: npx tsx examples/channels/twilio.ts
 */

import { twilioChannel } from "../../src/drivers/channels/twilio.js";
import { createCampaignKit, memoryAudiences, type Profile } from "../../src/index.js";
import {
  startTwilioStub,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  twilioTooManyRequests,
} from "../../test/drivers/channels/stubs/twilio.js";

const ADMIN = "root";
const twilio = await startTwilioStub();

const sms = twilioChannel({
  accountSid: TEST_ACCOUNT_SID,
  authToken: TEST_AUTH_TOKEN,
  baseUrl: twilio.url, // the stub; omit it to reach https://api.twilio.com
});
await sms.verify?.(); // wrong credentials or account SID fail here, before any campaign runs
console.log(`Twilio credentials verified against ${twilio.url}.`);

const people = [
  ["Ana", "+15558675301"],
  ["Ben", "+15558675302"],
  ["Chloé", "+15558675303"],
  ["Dev", "+15558675304"],
] as const;
const profiles: Profile[] = people.map(([firstName, phone], i) => ({
  id: `c${i}`,
  identities: { phone },
  addresses: {},
  attributes: { firstName },
  consent: {},
  suppressedChannels: [],
}));
// Chloé replied STOP to this sender: Twilio refuses to text her (error 21610).
twilio.unsubscribed.add("+15558675303");
// Twilio's first answer is a 429 asking to wait a second.
twilio.enqueue(twilioTooManyRequests(1));

const kit = await createCampaignKit({
  channels: [sms],
  audiences: memoryAudiences({ audiences: { customers: profiles } }),
  administrators: [ADMIN],
  dispatcher: { retry: { attempts: 3, baseDelayMs: 50 } },
});
kit.dispatcher.on("rate-limited", (e) =>
  console.log(`  rate-limited by Twilio: ${e.messages} message(s), waiting ${e.retryAfterMs} ms`),
);
kit.dispatcher.on("failed", (record) =>
  console.log(`  failed for good: ${record.recipientId} (${record.reason})`),
);
const ledgerSids: string[] = [];
kit.dispatcher.on("sent", (record) => {
  console.log(`  sent: ${record.recipientId}, ledger records Twilio's sid ${record.providerMessageId}`);
  if (record.providerMessageId) ledgerSids.push(record.providerMessageId);
});

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
    settings: { provider: "twilio", senderNumber: "+15017122661" },
  },
});
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
console.log("Sending the outage notice through Twilio:");
await kit.scheduler.tick();

console.log("\nWhat Twilio accepted:");
for (const m of twilio.messages) console.log(`  ${m.sid}  ${m.from} -> ${m.to}: ${m.body}`);
const report = await kit.reports.campaign({ actor: ADMIN, id: "outage" });
console.log(
  `\nReport: ${report.targeted} targeted, ${report.outcomes.sent} sent, ${report.outcomes.failed} failed.`,
);
await kit.close();
await twilio.close();

const posts = twilio.requests.filter((r) => r.method === "POST").length;
if (report.outcomes.sent !== 3 || report.outcomes.failed !== 1 || twilio.messages.length !== 3) {
  throw new Error(`Expected 3 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
}
if (
  ledgerSids.sort().join() !==
  twilio.messages
    .map((m) => m.sid)
    .sort()
    .join()
) {
  throw new Error("The ledger does not hold the sids Twilio returned");
}
console.log(
  `OK: ${posts} requests for 4 recipients: 3 SMS sent with Twilio sids, the 429 retried after its Retry-After, ` +
    "the unsubscribed number failed once, for good.",
);
