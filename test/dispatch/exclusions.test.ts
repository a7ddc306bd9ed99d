import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import type { ExclusionDetail } from "../../src/dispatch/events.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import { virtualClock } from "../../src/testing/index.js";
import { campaign, configurations, profile, T0 } from "../support/fixtures.js";

describe("dispatcher exclusions", () => {
  it("counts each exclusion reason exactly and sends the rest", async () => {
    const ledger = memoryLedger();
    // "capped" already had one email today from another campaign.
    await ledger.record({
      records: [
        {
          messageId: "other",
          campaignId: "other",
          executionId: "x",
          recipientId: "capped",
          channel: "email",
          outcome: "sent",
          attempts: 1,
          at: new Date(T0 - 3_600_000),
        },
      ],
    });
    const email = memoryChannel();
    const details: ExclusionDetail[] = [];
    const dispatcher = createDispatcher({ channels: [email], ledger, clock: virtualClock({ start: T0 }) });
    dispatcher.on("excluded", (_record, detail) => details.push(detail));
    const marketing = campaign({
      identityNamespace: "ecid",
      deliveryControls: { frequencyCap: { max: 1, period: "day" } },
    });
    const withEcid = (id: string, input: Parameters<typeof profile>[1] = {}) =>
      profile(id, { identities: { ecid: id, email: `${id}@x.io` }, ...input });
    const report = await dispatcher.dispatch({
      campaign: marketing,
      executionId: "e",
      configurations,
      // The plan's exclusions (quiet hours discarding, here) are recorded and counted like the dispatcher's own.
      plan: {
        decide: (p) => (p.id === "quiet" ? { exclude: "quiet-hours" } : undefined),
        defer: async () => {},
      },
      recipients: [
        withEcid("ok"),
        profile("no-identity"),
        withEcid("no-address", { identities: { ecid: "1" } }),
        withEcid("no-consent", { consent: { email: false } }),
        withEcid("suppressed", { suppressedChannels: ["email"] }),
        withEcid("capped"),
        withEcid("quiet", { timeZone: "Pacific/Auckland" }),
        withEcid("nameless", { attributes: { firstName: "" } }),
        withEcid("ok2", { timeZone: "Europe/Paris" }),
      ],
    });
    expect(report.outcomes).toEqual({ sent: 2, failed: 0, excluded: 7 });
    expect(report.excludedByReason).toEqual({
      "no-consent": 1,
      suppressed: 1,
      "missing-identity": 1,
      "missing-address": 1,
      "frequency-capped": 1,
      "quiet-hours": 1,
      "outside-window": 0,
      "missing-variable": 1,
      "render-too-large": 0,
      holdout: 0,
    });
    expect(email.sent.map((m) => m.recipientId)).toEqual(["ok", "ok2"]);
    expect(details).toContainEqual({ reason: "missing-variable", variable: "profile.firstName" });
    const summary = await ledger.summarize({ campaignId: "spring", executionId: "e" });
    expect(summary.excludedByReason).toEqual({
      "no-consent": 1,
      suppressed: 1,
      "missing-identity": 1,
      "missing-address": 1,
      "frequency-capped": 1,
      "quiet-hours": 1,
      "missing-variable": 1,
    });
  });

  it("transactional campaigns need no consent and are not capped", async () => {
    const email = memoryChannel();
    const dispatcher = createDispatcher({
      channels: [email],
      ledger: memoryLedger(),
      clock: virtualClock({ start: T0 }),
    });
    const tx = campaign({
      category: "transactional",
      actions: [{ channel: "email", channelConfigurationId: "tx", content: { subject: "Hi", text: "Hi" } }],
    });
    const report = await dispatcher.dispatch({
      campaign: tx,
      executionId: "e",
      configurations,
      recipients: [profile("a", { consent: {} })],
    });
    expect(report.outcomes.sent).toBe(1);
  });

  it("excludes as outside-window what the rate limit can't fit into the window", async () => {
    const clock = virtualClock({ start: T0 });
    const email = memoryChannel();
    const dispatcher = createDispatcher({ channels: [email], ledger: memoryLedger(), clock, batchSize: 10 });
    const slow = campaign({ deliveryControls: { rateLimit: 10 } });
    const people = Array.from({ length: 50 }, (_, i) => profile(`p${i}`));
    const report = await dispatcher.dispatch({
      campaign: slow,
      executionId: "e",
      configurations,
      recipients: people,
      window: { start: new Date(T0), end: new Date(T0 + 2000) },
    });
    // A burst of 10 at once, then 10 per second up to the end of the window: 30 sent, 20 excluded.
    expect(report.outcomes).toEqual({ sent: 30, failed: 0, excluded: 20 });
    expect(report.excludedByReason["outside-window"]).toBe(20);
  });
});
