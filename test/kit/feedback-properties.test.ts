/**
 * Feedback is idempotent and order-independent, as a property: any order, any duplication and any split
 * of the same provider events into concurrent calls leaves the same feedback documents (counts, times,
 * bounce kinds, links) and the same suppression list, on memory and PostgreSQL.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { FeedbackEventInput } from "../../src/model/feedback.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { delivery } from "../../src/testing/storage-fixtures.js";
import { storageTargets } from "../support/storages.js";

const MESSAGES = ["m1", "m2", "m3"];
const BASE = Date.parse("2026-12-01T08:00:00Z");

const eventArbitrary: fc.Arbitrary<FeedbackEventInput> = fc
  .record({
    type: fc.constantFrom(
      "delivered",
      "bounced",
      "complained",
      "opened",
      "clicked",
      "unsubscribed",
      "custom:purchase",
    ),
    message: fc.integer({ min: 0, max: MESSAGES.length - 1 }),
    byProvider: fc.boolean(),
    minute: fc.integer({ min: 0, max: 30 }),
    bounce: fc.constantFrom("hard", "soft"),
    url: fc.constantFrom("https://a.example/1", "https://a.example/2"),
    withAddress: fc.boolean(),
    withEventId: fc.boolean(),
    salt: fc.integer({ min: 0, max: 2 }),
  })
  .map((e) => {
    const id = MESSAGES[e.message] as string;
    const event: FeedbackEventInput = {
      type: e.type as FeedbackEventInput["type"],
      ...(e.byProvider ? { providerMessageId: `prov-${id}` } : { messageId: id }),
      at: new Date(BASE + e.minute * 60_000),
    };
    if (e.type === "bounced") event.bounce = e.bounce as "hard" | "soft";
    if (e.type === "clicked") event.url = e.url;
    if (e.withAddress) event.address = `${id}@Example.com`;
    if (e.withEventId) event.eventId = `ev-${e.type}-${id}-${e.minute}-${e.salt}`;
    return event;
  });

/** A kit on fresh storage whose ledger holds the three messages, sent. */
async function kitOn(storage: Storage) {
  await storage.record({
    records: MESSAGES.map((id) => delivery(id, { providerMessageId: `prov-${id}`, recipientId: `r-${id}` })),
  });
  return createCampaignKit({ storage, readCache: false });
}

async function state(storage: Storage) {
  const repos = createRepositories(storage);
  return { feedback: await repos.feedback.every(), suppressions: await repos.suppressions.every() };
}

describe.each(storageTargets("the feedback properties"))("feedback on $name storage", (target) => {
  it("any order, duplication and concurrent split of the same events gives the same documents and suppression list", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArbitrary, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        async (events, noise, chunks) => {
          // Once, in order, one call.
          const reference = await target.create();
          const first = await (await kitOn(reference)).feedback.record({ events });
          // Shuffled, with duplicates, in concurrent calls.
          const shuffled = [...events, ...noise.map((n) => events[n % events.length] as FeedbackEventInput)];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (noise[i % Math.max(noise.length, 1)] ?? i) % (i + 1);
            [shuffled[i], shuffled[j]] = [
              shuffled[j] as FeedbackEventInput,
              shuffled[i] as FeedbackEventInput,
            ];
          }
          const other = await target.create();
          const kit = await kitOn(other);
          const size = Math.ceil(shuffled.length / chunks);
          const results = await Promise.all(
            Array.from({ length: chunks }, (_, c) =>
              kit.feedback.record({ events: shuffled.slice(c * size, (c + 1) * size) }),
            ),
          );
          expect(await state(other)).toEqual(await state(reference));
          // Every distinct event counted once across the calls, whoever saw it first.
          expect(results.reduce((sum, r) => sum + r.recorded, 0)).toBe(first.recorded);
          expect(results.reduce((sum, r) => sum + r.recorded + r.duplicates, 0)).toBe(shuffled.length);
        },
      ),
      { numRuns: target.name === "memory" ? 100 : 15 },
    );
  }, 120_000);
});
