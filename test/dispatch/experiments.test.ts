/**
 * Content experiments in the dispatcher: each recipient gets its treatment's content, the same treatment in
 * every run (a resume after an abort, a second execution, another process), the split matches the
 * percentages within 1 % over 100,000 recipients, and the holdout is recorded, never sent.
 */
import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import { assignTreatment, experimentBucket } from "../../src/dispatch/experiment.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import { isCampaignKitError } from "../../src/errors.js";
import { messageId } from "../../src/model/message-id.js";
import type { Profile } from "../../src/model/profile.js";
import { campaign, configurations, profile } from "../support/fixtures.js";

const treatments = [
  { id: "a", percentage: 30, content: { subject: "A for {{profile.firstName}}", text: "Offer A" } },
  { id: "b", percentage: 30, content: { subject: "B for {{profile.firstName}}", text: "Offer B" } },
  { id: "c", percentage: 30, content: { subject: "C", html: "<p>Offer C, {{profile.firstName}}</p>" } },
];
const split = { id: "spring:email", treatments, holdoutPercentage: 10 };
const experimentCampaign = (experiment: object = {}) =>
  campaign({
    actions: [
      {
        channel: "email",
        channelConfigurationId: "news",
        experiment: { metric: "clicked", treatments, holdoutPercentage: 10, ...experiment },
      },
    ],
  });
const audience = (count: number): Profile[] => Array.from({ length: count }, (_, i) => profile(`p${i}`));

describe("assignment", () => {
  it("is a published hash: these buckets never change from one version to the next", () => {
    // The first 48 bits of SHA-256("spring:email\0ana"), scaled to 10,000: what Python's
    // int.from_bytes(hashlib.sha256(b"spring:email\0ana").digest()[:6], "big") * 10000 // 2**48 gives.
    expect(experimentBucket("exp", "ana")).toBe(experimentBucket("exp", "ana"));
    expect(experimentBucket("exp", "ana")).not.toBe(experimentBucket("exp2", "ana"));
    const buckets = ["ana", "ben", "chloe"].map((id) => experimentBucket("spring:email", id));
    expect(buckets).toEqual(GOLDEN);
  });

  it("splits 100,000 recipients within 1 % of the percentages, holdout included", () => {
    for (const shape of [
      split,
      {
        id: "x",
        treatments: [
          { id: "a", percentage: 50 },
          { id: "b", percentage: 50 },
        ],
      },
      {
        id: "thirds",
        treatments: [
          { id: "a", percentage: 33.33 },
          { id: "b", percentage: 33.33 },
          { id: "c", percentage: 33.34 },
        ],
      },
      {
        id: "five",
        treatments: ["a", "b", "c", "d", "e"].map((id, i) => ({ id, percentage: [5, 10, 15, 20, 30][i]! })),
        holdoutPercentage: 20,
      },
    ]) {
      const counts = new Map<string, number>();
      const n = 100_000;
      for (let i = 0; i < n; i++) {
        const id = assignTreatment(shape, `user-${i}`);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const expected = new Map(shape.treatments.map((t) => [t.id, t.percentage]));
      const holdout = (shape as { holdoutPercentage?: number }).holdoutPercentage ?? 0;
      if (holdout > 0) expected.set("holdout", holdout);
      expect([...counts.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [id, percentage] of expected) {
        expect(Math.abs(((counts.get(id) ?? 0) / n) * 100 - percentage), `${shape.id} ${id}`).toBeLessThan(1);
      }
    }
  });
});

describe("the dispatcher running an experiment", () => {
  it("sends each recipient its treatment's content, records the treatment, and holds the holdout out", async () => {
    const email = memoryChannel();
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({ channels: [email], ledger });
    const recipients = audience(2000);
    const report = await dispatcher.dispatch({
      campaign: experimentCampaign(),
      executionId: "e1",
      configurations,
      recipients,
    });
    const expected = new Map(recipients.map((p) => [p.id, assignTreatment(split, p.id)]));
    const heldOut = [...expected.values()].filter((t) => t === "holdout").length;
    expect(heldOut).toBeGreaterThan(100);
    expect(report.outcomes).toEqual({ sent: 2000 - heldOut, failed: 0, excluded: heldOut });
    expect(report.excludedByReason.holdout).toBe(heldOut);
    expect(email.sent).toHaveLength(2000 - heldOut);
    for (const message of email.sent) {
      const treatment = expected.get(message.recipientId);
      expect(message.treatmentId).toBe(treatment);
      const content = message.content as { subject: string; html?: string };
      if (treatment === "c") expect(content.html).toBe(`<p>Offer C, Name-${message.recipientId}</p>`);
      else expect(content.subject).toBe(`${treatment?.toUpperCase()} for Name-${message.recipientId}`);
      expect(ledger.get(message.id)).toMatchObject({ outcome: "sent", treatmentId: treatment });
    }
    for (const [recipientId, treatment] of expected) {
      if (treatment !== "holdout") continue;
      const record = ledger.get(
        messageId({ campaignId: "spring", executionId: "e1", recipientId, channel: "email" }),
      );
      expect(record).toMatchObject({ outcome: "excluded", reason: "holdout", treatmentId: "holdout" });
    }
    const summary = await ledger.summarize({ campaignId: "spring" });
    expect(summary.byTreatment.holdout).toEqual({ sent: 0, failed: 0, excluded: heldOut });
  });

  it("assigns the same treatments when an aborted run is resumed, and in a second execution", async () => {
    const email = memoryChannel({ capabilities: { batch: false, idempotencyKeys: true } });
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({ channels: [email], ledger, batchSize: 10, concurrency: 1 });
    const recipients = audience(600);
    const controller = new AbortController();
    let delivered = 0;
    dispatcher.on("sent", () => {
      if (++delivered === 150) controller.abort();
    });
    const first = await dispatcher.dispatch({
      campaign: experimentCampaign(),
      executionId: "e1",
      configurations,
      recipients,
      signal: controller.signal,
    });
    expect(first.aborted).toBe(true);
    expect(first.outcomes.sent).toBeLessThan(600);
    const treatmentsBefore = new Map(email.sent.map((m) => [m.recipientId, m.treatmentId]));
    dispatcher.removeAllListeners("sent");

    const resumed = await dispatcher.dispatch({
      campaign: experimentCampaign(),
      executionId: "e1",
      configurations,
      recipients,
    });
    expect(resumed.skippedAlreadySent).toBe(first.outcomes.sent);
    // Every recipient sent once, each with the treatment the hash gives, before and after the abort.
    const byRecipient = new Map<string, string | undefined>();
    for (const message of email.sent) {
      expect(byRecipient.has(message.recipientId)).toBe(false);
      byRecipient.set(message.recipientId, message.treatmentId);
    }
    for (const [recipientId, treatment] of treatmentsBefore)
      expect(byRecipient.get(recipientId)).toBe(treatment);
    for (const p of recipients) {
      const treatment = assignTreatment(split, p.id);
      if (treatment === "holdout") expect(byRecipient.has(p.id)).toBe(false);
      else expect(byRecipient.get(p.id)).toBe(treatment);
    }

    // A second execution of the campaign: the same groups.
    const secondChannel = memoryChannel();
    const second = createDispatcher({ channels: [secondChannel], ledger: memoryLedger() });
    await second.dispatch({ campaign: experimentCampaign(), executionId: "e2", configurations, recipients });
    expect(new Map(secondChannel.sent.map((m) => [m.recipientId, m.treatmentId]))).toEqual(byRecipient);
  });

  it("draws new groups from another experiment id, and keeps them across campaigns sharing one", async () => {
    const run = async (campaignId: string, experiment: object) => {
      const email = memoryChannel();
      await createDispatcher({ channels: [email], ledger: memoryLedger() }).dispatch({
        campaign: { ...experimentCampaign(experiment), id: campaignId },
        executionId: "e",
        configurations,
        recipients: audience(300),
      });
      return new Map(email.sent.map((m) => [m.recipientId, m.treatmentId]));
    };
    const shared = await run("one", { id: "homepage-test" });
    expect(await run("two", { id: "homepage-test" })).toEqual(shared);
    expect(await run("two", {})).not.toEqual(shared);
  });

  it("excludes a recipient missing a variable of its own treatment only, and names the treatment of a bad template", async () => {
    const email = memoryChannel();
    const dispatcher = createDispatcher({ channels: [email], ledger: memoryLedger() });
    const needsCity = [
      { id: "a", percentage: 50, content: { subject: "Hi", text: "Plain" } },
      { id: "b", percentage: 50, content: { subject: "Hi", text: "In {{profile.city}}" } },
    ];
    const recipients = audience(200);
    const report = await dispatcher.dispatch({
      campaign: experimentCampaign({ treatments: needsCity, holdoutPercentage: 0 }),
      executionId: "e",
      configurations,
      recipients,
    });
    const inB = recipients.filter(
      (p) => assignTreatment({ id: "spring:email", treatments: needsCity }, p.id) === "b",
    );
    expect(report.excludedByReason["missing-variable"]).toBe(inB.length);
    expect(report.outcomes.sent).toBe(200 - inB.length);
    expect(email.sent.every((m) => m.treatmentId === "a")).toBe(true);

    const broken = experimentCampaign({
      treatments: [needsCity[0], { ...needsCity[1], content: { subject: "Hi", text: "{{profile.city" } }],
      holdoutPercentage: 0,
    });
    const error = await dispatcher
      .dispatch({ campaign: broken, executionId: "e2", configurations, recipients })
      .catch((e: unknown) => e);
    expect(isCampaignKitError(error, "TEMPLATE_INVALID")).toBe(true);
    expect((error as Error).message).toContain('email action, treatment "b", field "text"');
  });

  it("holds out only recipients who could have been sent: a holdout recipient without consent is counted as such", async () => {
    const email = memoryChannel();
    const ledger = memoryLedger();
    const recipients = audience(1000).map((p, i) => (i % 2 === 0 ? { ...p, consent: {} } : p));
    const report = await createDispatcher({ channels: [email], ledger }).dispatch({
      campaign: experimentCampaign(),
      executionId: "e",
      configurations,
      recipients,
    });
    const eligible = recipients.filter((_, i) => i % 2 === 1);
    const heldOut = eligible.filter((p) => assignTreatment(split, p.id) === "holdout").length;
    expect(report.excludedByReason["no-consent"]).toBe(500);
    expect(report.excludedByReason.holdout).toBe(heldOut);
    const summary = await ledger.summarize({ campaignId: "spring" });
    expect(summary.byTreatment.holdout?.excluded).toBe(heldOut);
    const treatmentCounts = ["a", "b", "c"].reduce(
      (sum, id) => sum + (summary.byTreatment[id]?.sent ?? 0) + (summary.byTreatment[id]?.excluded ?? 0),
      0,
    );
    // Treatments count their own exclusions too; the holdout's no-consent recipients have no treatment.
    expect(treatmentCounts + heldOut).toBeLessThanOrEqual(1000);
    expect(summary.byTreatment.a?.excluded).toBeGreaterThan(0);
  });
});

const GOLDEN = [3670, 6271, 8700];
