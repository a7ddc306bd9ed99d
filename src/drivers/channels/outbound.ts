/**
 * The checks every adapter makes on a message before it calls its provider, worded alike: a message it can
 * never send (another channel's, or one without an address) fails with a {@link PermanentDeliveryError}
 * and no request is made.
 *
 * Internal to campaign-kit: adapters import it, hosts don't.
 */
import { PermanentDeliveryError } from "../../errors.js";
import type { ChannelConfiguration } from "../../model/channel-configuration.js";
import type { Channel } from "../../model/common.js";
import type { BatchItemResult, OutboundMessage, RenderedContent } from "../../ports/channel.js";

/** A message's configuration and content, narrowed to one channel. */
export interface ChannelParts<C extends Channel> {
  configuration: Extract<ChannelConfiguration, { channel: C }>;
  content: Extract<RenderedContent, { channel: C }>;
}

/** `message`'s configuration and content when both are `channel`'s; else `adapter` can't send it. */
export function partsFor<C extends Channel>(
  message: OutboundMessage,
  channel: C,
  adapter: string,
): ChannelParts<C> {
  const { configuration, content } = message;
  if (configuration.channel !== channel || content.channel !== channel)
    throw new PermanentDeliveryError(
      `${adapter} cannot send a ${content.channel} message with a ${configuration.channel} configuration.`,
    );
  return { configuration, content } as ChannelParts<C>;
}

/** `message`'s address; `what` names it in the error when there is none (`"phone number"`). */
export function addressOf(message: OutboundMessage, what: string): string {
  if (message.to === undefined || message.to === "")
    throw new PermanentDeliveryError(`Message ${message.id} has no ${what} to send to.`);
  return message.to;
}

/**
 * Sends `messages` as one batch: `build` makes each message's request item (a message it throws for fails
 * alone, with no request), then `send` gets the items built and their messages, in order, and returns one
 * result per item. Resolves with one result per message, in order; `send` is not called when nothing was
 * built.
 */
export async function sendBuilt<Item>(
  messages: readonly OutboundMessage[],
  build: (message: OutboundMessage) => Item,
  send: (items: Item[], built: OutboundMessage[]) => Promise<BatchItemResult[]>,
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  const items: Item[] = [];
  const positions: number[] = [];
  messages.forEach((message, i) => {
    try {
      items.push(build(message));
      positions.push(i);
    } catch (error) {
      results[i] = { ok: false, error: error as Error };
    }
  });
  if (items.length === 0) return results;
  const sent = await send(
    items,
    positions.map((i) => messages[i]!),
  );
  positions.forEach((i, position) => {
    results[i] = sent[position]!;
  });
  return results;
}
