/**
 * Sending a push campaign through Firebase Cloud Messaging with `fcmChannel` (`campaign-kit/channels/fcm`),
 * against a local stub of the FCM HTTP v1 API (the one the adapter's tests use) so it runs offline. For the real
 * thing, drop `baseUrl` and get access tokens from google-auth-library:
 * `getAccessToken: () => new GoogleAuth({ scopes: "https://www.googleapis.com/auth/firebase.messaging" }).getAccessToken()`.
 *
 * What it shows: each message is one JSON POST to `/v1/projects/{project}/messages:send` with a bearer token
 * from your `getAccessToken`; the rendered title, body and data become the FCM notification and data; the
 * message `name` FCM returns lands in the ledger; a token whose app was uninstalled (UNREGISTERED) fails for
 * good; QUOTA_EXCEEDED with `Retry-After` slows the campaign down and the message goes later.
 *
 * Run: npx tsx examples/channels/fcm.ts
 */

import { fcmChannel } from "../../src/drivers/channels/fcm.js";
import { createCampaignKit, memoryAudiences, type Profile } from "../../src/index.js";
import {
  fcmQuotaExceeded,
  startFcmStub,
  TEST_ACCESS_TOKEN,
  TEST_PROJECT,
} from "../../test/drivers/channels/stubs/fcm.js";

const ADMIN = "root";
const firebase = await startFcmStub();

let tokenRequests = 0;
const push = fcmChannel({
  projectId: TEST_PROJECT,
  // Your token source: google-auth-library, a metadata server, your own cache. Called before each request.
  getAccessToken: async () => {
    tokenRequests++;
    return TEST_ACCESS_TOKEN;
  },
  baseUrl: firebase.url, // the stub; omit it to reach https://fcm.googleapis.com
});
await push.verify?.(); // a validate_only dry run: checks the token, project and permission, delivers nothing
console.log(`FCM access verified against ${firebase.url} (dry run, nothing delivered).`);

const people = [
  ["Ana", "eA1:APA91bAnaToken"],
  ["Ben", "eB2:APA91bBenToken"],
  ["Chloé", "eC3:APA91bChloeToken"],
  ["Dev", "eD4:APA91bDevToken"],
] as const;
const profiles: Profile[] = people.map(([firstName, token], i) => ({
  id: `c${i}`,
  identities: { ecid: `ecid-${i}` },
  addresses: { push: token },
  attributes: { firstName },
  consent: { push: true },
  suppressedChannels: [],
}));
// Ben uninstalled the app: FCM answers UNREGISTERED for his token.
firebase.unregistered.add("eB2:APA91bBenToken");
// FCM's first answer: the project's quota is exceeded, retry in a second.
firebase.enqueue(fcmQuotaExceeded(1));

const kit = await createCampaignKit({
  channels: [push],
  audiences: memoryAudiences({ audiences: { app: profiles } }),
  administrators: [ADMIN],
  dispatcher: { retry: { attempts: 3, baseDelayMs: 50 } },
});
kit.dispatcher.on("rate-limited", (e) =>
  console.log(`  rate-limited by FCM: ${e.messages} message(s), waiting ${e.retryAfterMs} ms`),
);
kit.dispatcher.on("failed", (record) =>
  console.log(`  failed for good: ${record.recipientId} (${record.reason})`),
);
const ledgerNames: string[] = [];
kit.dispatcher.on("sent", (record) => {
  console.log(`  sent: ${record.recipientId}, ledger records FCM's name ${record.providerMessageId}`);
  if (record.providerMessageId) ledgerNames.push(record.providerMessageId);
});

await kit.audiences.register({
  actor: ADMIN,
  audience: { id: "app", name: "App users", status: "realized", identityNamespace: "ecid" },
});
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "push-app",
    name: "Mobile app",
    channel: "push",
    purpose: "marketing",
    status: "active",
    settings: { appId: "com.acme.app", platform: "android" },
  },
});
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "spring-push",
    type: "scheduled",
    category: "marketing",
    name: "Spring sale push",
    audienceId: "app",
    identityNamespace: "ecid",
    actions: [
      {
        channel: "push",
        channelConfigurationId: "push-app",
        content: {
          title: "{{profile.firstName}}, spring sale ✓",
          body: "20% off everything until Sunday",
          data: { deepLink: "acme://sale/spring" },
        },
      },
    ],
  },
});
await kit.campaigns.activate({ actor: ADMIN, id: "spring-push" });
console.log("Sending the spring push through FCM:");
await kit.scheduler.tick();

console.log("\nWhat FCM delivered:");
for (const m of firebase.messages)
  console.log(
    `  ${m.token}: "${m.notification?.title}" / "${m.notification?.body}" data=${JSON.stringify(m.data)}`,
  );
const report = await kit.reports.campaign({ actor: ADMIN, id: "spring-push" });
console.log(
  `\nReport: ${report.targeted} targeted, ${report.outcomes.sent} sent, ${report.outcomes.failed} failed.`,
);
await kit.close();
await firebase.close();

if (report.outcomes.sent !== 3 || report.outcomes.failed !== 1 || firebase.messages.length !== 3) {
  throw new Error(`Expected 3 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
}
if (
  ledgerNames.sort().join() !==
  firebase.messages
    .map((m) => m.name)
    .sort()
    .join()
) {
  throw new Error("The ledger does not hold the names FCM returned");
}
console.log(
  `OK: ${tokenRequests} access tokens asked for ${firebase.requests.length} requests; 3 pushes sent with FCM names, ` +
    "the QUOTA_EXCEEDED retried after its Retry-After, the uninstalled app's token failed once, for good.",
);
