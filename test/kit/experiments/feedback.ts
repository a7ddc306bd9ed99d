/**
 * Simulated conversions for the experiment tests: provider events recorded through `kit.feedback.record`, as
 * a webhook would, and (for the holdout, whose recipients get no message to attribute an event to) feedback
 * documents written straight to the store in the shape `kit.feedback.record` keeps them.
 */
import type { CampaignKit } from "../../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../../src/ports/storage.js";

/** A sent message, as the memory channel recorded it. */
export interface FedMessage {
  id: string;
  recipientId: string;
  treatmentId?: string | undefined;
}

const AT = new Date("2026-12-01T09:00:00Z");

/** Records one `type` event (`opened`, `clicked`, `custom:<name>`) for each message, through the kit. */
export async function recordFeedback(
  kit: CampaignKit,
  messages: readonly FedMessage[],
  type: "opened" | "clicked" | `custom:${string}`,
): Promise<void> {
  const result = await kit.feedback.record({
    events: messages.map((message) => ({ type, messageId: message.id, at: AT })),
  });
  if (result.unmatched.length > 0) throw new Error(`unmatched feedback: ${JSON.stringify(result.unmatched)}`);
}

/** A conversion by a held-out recipient: stored as its feedback document, keyed to the holdout. */
export async function recordHoldoutConversion(
  storage: Storage,
  params: { campaignId: string; recipientId: string; type: string },
): Promise<void> {
  const { campaignId, recipientId, type } = params;
  const messageId = `holdout-${recipientId}`;
  const result = await storage.insert({
    collection: "feedback",
    document: {
      id: `${messageId}|${type}`,
      version: 1,
      keys: { campaignId, executionId: "e", type, treatmentId: "holdout" },
      value: {
        messageId,
        campaignId,
        executionId: "e",
        channel: "email",
        recipientId,
        treatmentId: "holdout",
        type,
        firstAt: AT.toISOString(),
        lastAt: AT.toISOString(),
        count: 1,
        eventIds: [`${messageId}-${type}`],
      },
    },
  });
  if (result !== "ok") throw new Error(`feedback ${messageId}|${type}: ${result}`);
}
