/**
 * Feedback documents as the delivery feedback part of issue 13 stores them (collection `feedback`, one per
 * message and type, keyed `${messageId}|${type}`), written straight through the Store until
 * `kit.feedback.record` exists on this branch; at merge these calls become `kit.feedback.record`.
 */
import type { Storage } from "../../../src/ports/storage.js";

/** What a feedback document is copied from: a sent message (or its ledger record). */
export interface FedMessage {
  id: string;
  recipientId: string;
  treatmentId?: string | undefined;
  campaignId?: string;
  executionId?: string;
  channel?: string;
}

/** Records one `type` event (`opened`, `clicked`, `custom:<name>`) for each message. */
export async function recordFeedback(
  storage: Storage,
  messages: readonly FedMessage[],
  type: string,
  campaignId?: string,
): Promise<void> {
  const at = new Date("2026-12-01T09:00:00Z");
  for (const message of messages) {
    const campaign = message.campaignId ?? campaignId ?? "";
    const executionId = message.executionId ?? "e";
    const keys: Record<string, string> = { campaignId: campaign, executionId, type };
    if (message.treatmentId !== undefined) keys.treatmentId = message.treatmentId;
    const result = await storage.insert({
      collection: "feedback",
      document: {
        id: `${message.id}|${type}`,
        version: 1,
        keys,
        value: {
          messageId: message.id,
          campaignId: campaign,
          executionId,
          channel: message.channel ?? "email",
          recipientId: message.recipientId,
          ...(message.treatmentId === undefined ? {} : { treatmentId: message.treatmentId }),
          type,
          firstAt: at.toISOString(),
          lastAt: at.toISOString(),
          count: 1,
        },
      },
    });
    if (result !== "ok") throw new Error(`feedback ${message.id}|${type}: ${result}`);
  }
}
