/**
 * The "provider" of the kill -9 scenario: a channel adapter that appends every message it accepts to a file,
 * and syncs the file before acknowledging, so the record of what the provider received survives the kill of
 * the process that sent it. It deliberately does NOT honour idempotency keys: it records each delivery, so
 * the scenario can count what a crash re-sent and check that a key-honouring provider would have dropped it.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import type { ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";

/** One line of the log: what the provider received once. */
export interface Delivery {
  messageId: string;
  idempotencyKey: string;
  recipientId: string;
}

const line = (message: OutboundMessage, key: string) => `${message.id}\t${key}\t${message.recipientId}\n`;

/** An email adapter recording to `path`; `close` releases the file. */
export async function providerLogChannel(
  path: string,
  idempotencyKeys = false,
): Promise<ChannelAdapter & { close(): Promise<void> }> {
  const file = await open(path, "a");
  // Appends of one batch are one write: O_APPEND keeps writes of concurrent batches whole.
  const append = async (text: string) => {
    await file.write(text);
    await file.datasync();
  };
  return {
    name: "provider-log",
    channel: "email",
    // With `idempotencyKeys`, it stands for a provider that drops a second delivery of a key: the log still
    // records both, and the scenario counts unique message ids as what was delivered.
    capabilities: { batch: true, idempotencyKeys, maxBatchSize: 100 },
    async send(message, context) {
      await append(line(message, context.idempotencyKey));
      return undefined;
    },
    async sendBatch(messages) {
      // A batch's idempotency keys are its message ids (BatchSendContext).
      await append(messages.map((m) => line(m, m.id)).join(""));
      return messages.map(() => ({ ok: true as const }));
    },
    close: () => file.close(),
  };
}

/** Every delivery in the log, in order; a torn last line (a kill mid-write) is left out. */
export function readProviderLog(path: string): Delivery[] {
  const deliveries: Delivery[] = [];
  for (const text of readFileSync(path, "utf8").split("\n")) {
    const [messageId, idempotencyKey, recipientId] = text.split("\t");
    if (recipientId === undefined) continue;
    deliveries.push({ messageId: messageId!, idempotencyKey: idempotencyKey!, recipientId });
  }
  return deliveries;
}

/** Counts the log's lines as it grows, reading only what was appended since the last call. */
export function lineCounter(path: string): () => number {
  let offset = 0;
  let lines = 0;
  const buffer = Buffer.alloc(1 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return lines;
    }
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, offset);
        if (read === 0) return lines;
        offset += read;
        for (let i = 0; i < read; i++) if (buffer[i] === 10) lines++;
      }
    } finally {
      closeSync(fd);
    }
  };
}
