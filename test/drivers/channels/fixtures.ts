/** The configuration, messages and contexts the provider channel tests share. */
import type { ChannelConfiguration } from "../../../src/model/channel-configuration.js";
import type { BatchSendContext, OutboundMessage, SendContext } from "../../../src/ports/channel.js";
import type { ReceivedMessage } from "../../../src/testing/index.js";

export const emailConfiguration = (
  purpose: "marketing" | "transactional" = "marketing",
  settings: Partial<Extract<ChannelConfiguration, { channel: "email" }>["settings"]> = {},
): ChannelConfiguration => ({
  id: `email-${purpose}`,
  name: "News",
  purpose,
  status: "active",
  channel: "email",
  settings: {
    fromName: "Acme, News",
    fromAddress: "news@news.acme.test",
    replyTo: "help@acme.test",
    subdomain: "news.acme.test",
    listUnsubscribe: { mailto: "unsubscribe@news.acme.test", url: "https://acme.test/u", oneClick: true },
    ...settings,
  },
});

/** A marketing email to `to`, with non-ASCII content and an id holding characters tags can't. */
export function emailMessage(to: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const configuration = overrides.configuration ?? emailConfiguration(overrides.category ?? "marketing");
  return {
    id: `m:6:spring:5:run-1:email:${to}`,
    campaignId: "spring",
    executionId: "run-1",
    recipientId: to,
    channel: "email",
    category: configuration.purpose,
    to,
    content: { channel: "email", subject: "Spring ✓ for Zoë", html: "<p>Hi Zoë</p>", text: "Hi Zoë" },
    configuration,
    ...overrides,
  };
}

export const context = (
  idempotencyKey = "key-1",
  signal: AbortSignal = new AbortController().signal,
): SendContext => ({
  idempotencyKey,
  attempt: 1,
  signal,
});

export const batchContext = (signal: AbortSignal = new AbortController().signal): BatchSendContext => ({
  attempt: 1,
  signal,
});

/** A received email as the conformance suite reads it, leaving out the parts that did not arrive. */
export function receivedEmail(
  to: string | undefined,
  subject: string,
  html: string | undefined,
  text: string | undefined,
  idempotencyKey?: string,
): ReceivedMessage {
  return {
    to,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    content: {
      channel: "email",
      subject,
      ...(html === undefined ? {} : { html }),
      ...(text === undefined ? {} : { text }),
    },
  };
}
