/**
 * Delivery feedback and tracking, then the report: a marketing email with click, open and one-click
 * unsubscribe tracking goes to 200 profiles; a simulated provider (Resend's webhook, Svix-signed) reports
 * deliveries and bounces, simulated readers open the pixel and follow links through the feedback handler
 * (a mail scanner too), one unsubscribes in one click; the report then shows delivered, bounce, open, click
 * and unsubscribe figures with their rates, by hour, and the next send skips the suppressed addresses.
 *
 * Run: npx tsx examples/feedback-report.ts
 */
import { createHmac, randomBytes } from "node:crypto";
import { feedbackEndpoints, resendWebhook } from "../src/http/index.js";
import {
  type ChannelAdapter,
  createCampaignKit,
  memoryAudiences,
  memoryChannel,
  type Profile,
} from "../src/index.js";

const profiles: Profile[] = Array.from({ length: 200 }, (_, i) => ({
  id: `p${i}`,
  identities: { email: `reader${i}@example.com` },
  addresses: {},
  attributes: { firstName: `Reader ${i}` },
  consent: { email: true },
  suppressedChannels: [],
}));

// Resend's provider ids, as its API would answer: the ledger keeps them, its webhook names them.
const email = memoryChannel({ channel: "email" });
const provider: ChannelAdapter = {
  name: "resend-like",
  channel: "email",
  capabilities: { batch: false, idempotencyKeys: true },
  send: async (message, context) => {
    await email.send(message, context);
    return { providerMessageId: `re_${message.recipientId}` };
  },
};
const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
const kit = await createCampaignKit({
  channels: [provider],
  audiences: memoryAudiences({ audiences: { readers: profiles } }),
  administrators: ["ada"],
  tracking: { secret: randomBytes(32).toString("hex"), baseUrl: "https://news.acme.example/campaign-kit" },
});
const feedback = feedbackEndpoints(kit, { webhooks: [resendWebhook({ secret: webhookSecret })] });

await kit.audiences.register({
  actor: "ada",
  audience: { id: "readers", name: "Readers", status: "realized", identityNamespace: "email" },
});
await kit.configurations.register({
  actor: "ada",
  configuration: {
    id: "news",
    name: "Newsletter",
    channel: "email",
    purpose: "marketing",
    status: "active",
    settings: {
      fromName: "Acme",
      fromAddress: "news@mail.acme.example",
      subdomain: "mail.acme.example",
      tracking: { opens: true, clicks: true, unsubscribe: true },
    },
  },
});
const campaign = (id: string) => ({
  id,
  type: "scheduled" as const,
  category: "marketing" as const,
  name: `Winter sale (${id})`,
  audienceId: "readers",
  actions: [
    {
      channel: "email" as const,
      channelConfigurationId: "news",
      content: {
        subject: "The winter sale is on, {{profile.firstName}}",
        html: '<p>Hi {{profile.firstName}}</p><p><a href="https://shop.acme.example/sale?from=mail">Shop the sale</a></p>',
      },
    },
  ],
});
await kit.campaigns.create({ actor: "ada", campaign: campaign("winter-sale") });
await kit.campaigns.activate({ actor: "ada", id: "winter-sale" });
await kit.scheduler.tick();
await kit.idle();
console.log(`Sent ${email.sent.length} emails with tracked links and a one-click List-Unsubscribe URL.`);

// The provider's webhook: 190 delivered, 6 hard bounces, 4 soft ones, in one Svix-signed call each.
async function resendEvent(type: string, recipientId: string, data: Record<string, unknown> = {}) {
  const body = JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: { email_id: `re_${recipientId}`, to: [`reader${recipientId.slice(1)}@example.com`], ...data },
  });
  const id = `msg_${type}_${recipientId}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(webhookSecret.slice("whsec_".length), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  const response = await feedback.handler(
    new Request("https://news.acme.example/campaign-kit/webhooks/resend", {
      method: "POST",
      body,
      headers: { "svix-id": id, "svix-timestamp": timestamp, "svix-signature": `v1,${signature}` },
    }),
  );
  if (response.status !== 200) throw new Error(`The webhook answered ${response.status}`);
}
for (let i = 0; i < 200; i++) {
  if (i < 6)
    await resendEvent("email.bounced", `p${i}`, {
      bounce: { type: "Permanent", message: "550 unknown user" },
    });
  else if (i < 10) await resendEvent("email.bounced", `p${i}`, { bounce: { type: "Transient" } });
  else await resendEvent("email.delivered", `p${i}`);
}
// The same webhook delivered twice (providers retry): counted once.
await resendEvent("email.delivered", "p10");

// Readers: 80 open (the pixel), 30 of them click; a mail scanner follows every link of 20 messages first.
const htmlOf = (i: number) => {
  const content = email.sent.find((m) => m.recipientId === `p${i}`)?.content;
  return content?.channel === "email" ? (content.html ?? "") : "";
};
const get = (url: string, userAgent = "Mozilla/5.0 (Macintosh)") =>
  feedback.handler(new Request(url, { headers: { "user-agent": userAgent } }));
for (let i = 10; i < 90; i++) {
  const html = htmlOf(i);
  const pixel = /src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1] as string;
  const link = /href="([^"]+\/t\/c\/[^"]+)"/.exec(html)?.[1] as string;
  if (i < 30) await get(link, "Mozilla/5.0 (compatible; Barracuda Sentinel)");
  await get(pixel);
  if (i < 40) {
    const response = await get(link);
    if (response.headers.get("location") !== "https://shop.acme.example/sale?from=mail")
      throw new Error("The tracked link did not redirect to the sale");
  }
}
// One reader unsubscribes with the mailbox's one-click button (RFC 8058: a POST to the header's URL).
const unsubscribe = email.sent.find((m) => m.recipientId === "p11")?.listUnsubscribeUrl as string;
await feedback.handler(new Request(unsubscribe, { method: "POST", body: "List-Unsubscribe=One-Click" }));

const report = await kit.reports.campaign({ actor: "ada", id: "winter-sale" });
const { engagement: e } = report;
const pct = (rate: number) => `${(rate * 100).toFixed(1)} %`;
console.log("\nReport for winter-sale");
console.log(`  targeted      ${report.targeted}`);
console.log(`  sent          ${e.sent}`);
console.log(`  delivered     ${e.delivered} (${pct(e.rates.delivery)})`);
console.log(
  `  bounces       ${e.bounces.total} (hard ${e.bounces.hard}, soft ${e.bounces.soft}; ${pct(e.rates.bounce)})`,
);
console.log(`  send errors   ${report.outcomes.failed}`);
console.log(`  opens         ${e.opens.unique} unique, ${e.opens.total} in all (${pct(e.rates.open)})`);
console.log(
  `  clicks        ${e.clicks.unique} unique, ${e.clicks.total} in all (${pct(e.rates.click)}, click-to-open ${pct(e.rates.clickToOpen)})`,
);
console.log(`  unsubscribes  ${e.unsubscribes}`);
console.log(`  complaints    ${e.complaints}`);
console.log(
  "  by hour",
  report.hourly.map((h) => `${h.hour.slice(11, 16)}Z sent ${h.sent}, opens ${h.opens}, clicks ${h.clicks}`),
);

// The next send skips the 6 hard-bounced addresses and the unsubscribed reader.
await kit.campaigns.create({ actor: "ada", campaign: campaign("spring-sale") });
await kit.campaigns.activate({ actor: "ada", id: "spring-sale" });
await kit.scheduler.tick();
await kit.idle();
const next = await kit.reports.campaign({ actor: "ada", id: "spring-sale" });
console.log(`\nNext send: ${next.outcomes.sent} sent, ${next.excludedByReason.suppressed} suppressed.`);
await kit.close();

const expected =
  e.sent === 200 &&
  e.delivered === 190 &&
  e.bounces.hard === 6 &&
  e.bounces.soft === 4 &&
  e.opens.unique === 80 &&
  e.clicks.unique === 30 &&
  e.clicks.total === 50 &&
  e.unsubscribes === 1 &&
  next.excludedByReason.suppressed === 7;
if (!expected) {
  console.error("The figures are not what the simulated feedback says.");
  process.exitCode = 1;
} else {
  console.log(
    "OK: webhook retries and scanners counted once, bounces and the unsubscription suppressed for the next send.",
  );
}
