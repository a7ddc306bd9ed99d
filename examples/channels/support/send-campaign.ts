/**
 * What every provider channel example does once its stub runs: a kit with the provider's channel, an
 * audience of a few readers, a marketing email configuration with List-Unsubscribe, and a newsletter sent
 * now. Returns the campaign's report; prints retries and failures as they happen.
 */
import { type ChannelAdapter, createCampaignKit, memoryAudiences, type Profile } from "../../../src/index.js";

const ADMIN = "root";

export async function sendNewsletter(channel: ChannelAdapter, addresses: string[]) {
  const profiles: Profile[] = addresses.map((email, i) => ({
    id: `reader-${i}`,
    identities: { email },
    addresses: {},
    attributes: { firstName: ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatou"][i % 6] },
    consent: { email: true },
    suppressedChannels: [],
  }));
  const kit = await createCampaignKit({
    channels: [channel],
    audiences: memoryAudiences({ audiences: { readers: profiles } }),
    administrators: [ADMIN],
    // Short backoff so the example runs fast on the real clock.
    dispatcher: { retry: { attempts: 3, baseDelayMs: 50 } },
  });
  kit.dispatcher.on("retry", (e) => console.log(`  retry: ${e.recipientId} (attempt ${e.attempt})`));
  kit.dispatcher.on("failed", (record) =>
    console.log(`  failed for good: ${record.recipientId}: ${record.reason}`),
  );
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "readers", name: "Readers", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({
    actor: ADMIN,
    configuration: {
      id: "newsletter",
      name: "Newsletter",
      channel: "email",
      purpose: "marketing",
      status: "active",
      settings: {
        fromName: "Acme News",
        fromAddress: "news@news.acme.test",
        replyTo: "hello@acme.test",
        subdomain: "news.acme.test",
        listUnsubscribe: { mailto: "unsubscribe@news.acme.test", url: "https://acme.test/unsubscribe" },
      },
    },
  });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: "spring-news",
      type: "scheduled",
      category: "marketing",
      name: "Spring newsletter",
      audienceId: "readers",
      identityNamespace: "email",
      actions: [
        {
          channel: "email",
          channelConfigurationId: "newsletter",
          content: {
            subject: "{{profile.firstName}}, spring is here",
            html: "<p>Hello {{profile.firstName}}, our spring collection is out.</p>",
            text: "Hello {{profile.firstName}}, our spring collection is out.",
          },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "spring-news" });
  await kit.scheduler.tick();
  const report = await kit.reports.campaign({ actor: ADMIN, id: "spring-news" });
  console.log(
    `Report: ${report.targeted} targeted, ${report.outcomes.sent} sent, ${report.outcomes.failed} failed, ` +
      `${report.retries} retries.`,
  );
  await kit.close();
  return report;
}
