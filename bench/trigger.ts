import pLimit from "p-limit";
import { memoryAudiences } from "../src/drivers/memory/audiences.js";
import { memoryChannel } from "../src/drivers/memory/channel.js";
import { createCampaignKit } from "../src/kit/create-campaign-kit.js";
import { channelConfigurationSchema } from "../src/model/channel-configuration.js";
import { messageIdPrefix } from "../src/model/message-id.js";
import type { OutboundMessage } from "../src/ports/channel.js";
import { benchProfiles, median } from "./fixtures.js";

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 20_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const IN_FLIGHT = 64;
const PROFILES = 1000;
const ADMIN = "root";

const configuration = {
  id: "email-transactional",
  name: "Transactional email",
  channel: "email",
  purpose: "transactional",
  status: "active",
  settings: { fromName: "Acme", fromAddress: "no-reply@mail.acme.example", subdomain: "mail.acme.example" },
} as const;

/** Unitary executions per second through the kit on its memory defaults, sends included. */
async function kitRun(round: number): Promise<number> {
  const channel = memoryChannel({ channel: "email", record: false });
  const kit = await createCampaignKit({
    channels: [channel],
    audiences: memoryAudiences({ profiles: [...benchProfiles(PROFILES)] }),
    administrators: [ADMIN],
  });
  await kit.configurations.register({ actor: ADMIN, configuration });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: "password-reset",
      type: "api-triggered",
      category: "transactional",
      name: "Password reset",
      identityNamespace: "email",
      actions: [
        {
          channel: "email",
          channelConfigurationId: configuration.id,
          content: {
            subject: "Reset, {{profile.firstName}}",
            text: "Use {{context.resetLink}} within an hour.",
          },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "password-reset" });
  const limit = pLimit(IN_FLIGHT);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: TRIGGERS }, (_, i) =>
      limit(() =>
        kit.executions.triggerUnitary({
          actor: ADMIN,
          request: {
            requestId: `r${round}-${i}`,
            campaignId: "password-reset",
            recipients: [
              {
                type: "aep",
                namespace: "email",
                userId: `p${i % PROFILES}@example.com`,
                context: { resetLink: `https://acme.example/reset?t=${i}` },
              },
            ],
          },
        }),
      ),
    ),
  );
  await kit.idle();
  const seconds = (performance.now() - started) / 1000;
  if (channel.stats.delivered !== TRIGGERS)
    throw new Error(`delivered ${channel.stats.delivered} of ${TRIGGERS}`);
  return TRIGGERS / seconds;
}

const parsedConfiguration = channelConfigurationSchema.parse(configuration);

/** The baseline: the same sends, one p-limit task each building its message and calling the adapter. */
async function bareRun(round: number): Promise<number> {
  const channel = memoryChannel({ channel: "email", record: false });
  const limit = pLimit(IN_FLIGHT);
  const signal = new AbortController().signal;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: TRIGGERS }, (_, i) =>
      limit(() => {
        const recipientId = `p${i % PROFILES}`;
        const message: OutboundMessage = {
          id: messageIdPrefix("password-reset", `r${round}-${i}`, "email") + recipientId,
          campaignId: "password-reset",
          executionId: `r${round}-${i}`,
          recipientId,
          channel: "email",
          category: "transactional",
          to: `p${i % PROFILES}@example.com`,
          content: { channel: "email", subject: "Reset", text: "Use the link within an hour." },
          configuration: parsedConfiguration,
        };
        return channel.send(message, { idempotencyKey: message.id, attempt: 1, signal });
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  if (channel.stats.delivered !== TRIGGERS) throw new Error("lost messages");
  return TRIGGERS / seconds;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Unitary executions per second end to end on the memory defaults, against a bare p-limit send loop. */
export async function run(): Promise<void> {
  console.log(`trigger: ${fmt(TRIGGERS)} unitary executions, ${IN_FLIGHT} in flight, ${REPEATS} repeats`);
  const kit: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    // Alternate the order, so neither always runs on the other's garbage.
    if (i % 2) bare.push(await bareRun(i));
    kit.push(await kitRun(i));
    if (i % 2 === 0) bare.push(await bareRun(i));
    console.log(`  run ${i + 1}: kit ${fmt(kit[i]!)} executions/s, bare send loop ${fmt(bare[i]!)} sends/s`);
  }
  const [k, b] = [median(kit), median(bare)];
  console.log(`  median kit.executions.triggerUnitary, end to end: ${fmt(k)} executions/s`);
  console.log(
    `  median bare p-limit send loop (same sends):        ${fmt(b)} sends/s  ratio ${(k / b).toFixed(3)}`,
  );
}
