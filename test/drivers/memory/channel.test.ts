import { memoryChannel } from "../../../src/drivers/memory/channel.js";
import type { ChannelConfiguration } from "../../../src/model/channel-configuration.js";
import { runChannelSuite } from "../../../src/testing/index.js";

const configuration: ChannelConfiguration = {
  id: "email-main",
  name: "Main email",
  purpose: "marketing",
  status: "active",
  channel: "email",
  settings: { fromName: "Acme", fromAddress: "news@mail.acme.test", subdomain: "mail.acme.test" },
};

const harness = (channel: ReturnType<typeof memoryChannel>) => ({
  adapter: channel,
  received: async () => channel.sent.map((m) => ({ to: m.to, idempotencyKey: m.id, content: m.content })),
});

runChannelSuite({
  name: "memoryChannel",
  configuration,
  create: () => harness(memoryChannel()),
  failing: () => ({ adapter: memoryChannel({ failFor: () => "retryable" }) }),
});

runChannelSuite({
  name: "memoryChannel without batch or idempotency keys",
  configuration,
  create: () => harness(memoryChannel({ capabilities: { batch: false, idempotencyKeys: false } })),
  failing: () => ({ adapter: memoryChannel({ failFor: () => "permanent" }) }),
});

runChannelSuite({
  name: "memoryChannel (sms)",
  configuration: {
    ...configuration,
    channel: "sms",
    settings: { provider: "memory", senderNumber: "+15550100000" },
  },
  create: () => harness(memoryChannel({ channel: "sms" })),
  failing: () => ({ adapter: memoryChannel({ channel: "sms", failFor: () => "rate-limited" }) }),
});
