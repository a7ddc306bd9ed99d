import { describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/dispatch/dispatcher.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryLedger } from "../../src/drivers/memory/ledger.js";
import { seededRandom } from "../../src/drivers/memory/random.js";
import { isCampaignKitError } from "../../src/errors.js";
import type { DeliveryRecord } from "../../src/model/execution.js";
import { messageId } from "../../src/model/message-id.js";
import { virtualClock } from "../../src/testing/index.js";
import { campaign, configurations, profile, profiles, T0 } from "../support/fixtures.js";
import { instrumentedAdapter } from "./fixtures.js";

describe("dispatcher", () => {
  it("sends every recipient a personalised message and reports exact counts", async () => {
    const email = memoryChannel();
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({
      channels: [email],
      ledger,
      clock: virtualClock({ start: T0 }),
      batchSize: 7,
    });
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "run-1",
      configurations,
      recipients: [[profile("ana", { attributes: { firstName: "Ana" } })], ...profiles(19)],
      context: { offer: "20% off" },
    });
    expect(report.outcomes).toEqual({ sent: 20, failed: 0, excluded: 0 });
    expect(report.recipients).toBe(20);
    expect(report.byChannel.email).toEqual({ sent: 20, failed: 0, excluded: 0, skippedAlreadySent: 0 });
    expect(email.sent).toHaveLength(20);
    const ana = email.sent.find((m) => m.recipientId === "ana")!;
    expect(ana.content).toEqual({ channel: "email", subject: "Hi Ana", text: "Hello Ana, 20% off" });
    expect(ana.to).toBe("ana@example.com");
    expect(ana.id).toBe(
      messageId({ campaignId: "spring", executionId: "run-1", recipientId: "ana", channel: "email" }),
    );
    expect((await ledger.summarize({ campaignId: "spring" })).outcomes.sent).toBe(20);
  });

  it("sends every action of a campaign, each counted on its own", async () => {
    const email = memoryChannel();
    const sms = memoryChannel({ channel: "sms", capabilities: { batch: false } });
    const dispatcher = createDispatcher({
      channels: [email, sms],
      ledger: memoryLedger(),
      clock: virtualClock({ start: T0 }),
    });
    const smsConfiguration = {
      id: "texts",
      name: "Texts",
      purpose: "marketing",
      status: "active",
      channel: "sms",
      settings: { provider: "x", senderNumber: "+33600000000" },
    } as const;
    const twoActions = campaign({
      actions: [
        { channel: "email", channelConfigurationId: "news", content: { subject: "Hi", text: "Hi" } },
        { channel: "sms", channelConfigurationId: "texts", content: { body: "Hi {{profile.firstName}}" } },
      ],
    });
    const people = [profile("a", { identities: { email: "a@x.io", phone: "+33611111111" } }), profile("b")];
    const report = await dispatcher.dispatch({
      campaign: twoActions,
      executionId: "e",
      configurations: { ...configurations, texts: smsConfiguration },
      recipients: people,
    });
    expect(report.byChannel.email?.sent).toBe(2);
    expect(report.byChannel.sms).toEqual({ sent: 1, failed: 0, excluded: 1, skippedAlreadySent: 0 });
    expect(report.excludedByReason["missing-address"]).toBe(1);
    expect(sms.sent.map((m) => [m.to, m.content])).toEqual([
      ["+33611111111", { channel: "sms", body: "Hi Name-a" }],
    ]);
  });

  it("never has more batches in flight than the concurrency bound", async () => {
    const clock = virtualClock({ start: T0 });
    const { adapter, state } = instrumentedAdapter({ clock, latencyMs: () => 10 });
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock,
      concurrency: 3,
      batchSize: 10,
    });
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(200),
    });
    expect(report.outcomes.sent).toBe(200);
    expect(state.calls).toBe(20);
    expect(state.maxInFlight).toBe(3);
  });

  it("never sends more than the rate plus one burst in any one-second window (virtual clock)", async () => {
    const clock = virtualClock({ start: T0 });
    const { adapter, state } = instrumentedAdapter({ clock });
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock,
      concurrency: 8,
      batchSize: 20,
    });
    const limited = campaign({ deliveryControls: { rateLimit: 50 } });
    const report = await dispatcher.dispatch({
      campaign: limited,
      executionId: "e",
      configurations,
      recipients: profiles(400),
    });
    expect(report.outcomes.sent).toBe(400);
    const times = state.deliveries.map((d) => d.at).sort((a, b) => a - b);
    let maxInWindow = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      maxInWindow = Math.max(maxInWindow, i - j + 1);
    }
    expect(maxInWindow).toBeLessThanOrEqual(50 + 50);
    expect(maxInWindow).toBeGreaterThanOrEqual(50);
    // 400 messages at 50/s after a burst of 50 take at least 7 s of virtual time.
    expect(times.at(-1)! - T0).toBeGreaterThanOrEqual(7000);
    expect(times.at(-1)! - T0).toBeLessThan(8000);
  });

  it("retries a retryable failure with backoff, then delivers", async () => {
    const clock = virtualClock({ start: T0 });
    const email = memoryChannel({
      failFor: (m, attempt) => (m.recipientId === "p1" && attempt < 3 ? "retryable" : undefined),
    });
    const ledger = memoryLedger();
    const retries: number[] = [];
    const dispatcher = createDispatcher({
      channels: [email],
      ledger,
      clock,
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
      random: seededRandom(7),
    });
    dispatcher.on("retry", (event) => retries.push(event.attempt));
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(3),
    });
    expect(report.outcomes).toEqual({ sent: 3, failed: 0, excluded: 0 });
    expect(report.retries).toBe(2);
    expect(retries).toEqual([2, 3]);
    const id = messageId({ campaignId: "spring", executionId: "e", recipientId: "p1", channel: "email" });
    expect(ledger.get(id)).toMatchObject({ outcome: "sent", attempts: 3 });
    // Equal jitter: first delay in [50, 100], second in [100, 200].
    expect(clock.now() - T0).toBeGreaterThanOrEqual(150);
    expect(clock.now() - T0).toBeLessThanOrEqual(300);
  });

  it("fails a message whose retries run out, with the error as reason", async () => {
    const email = memoryChannel({ failFor: (m) => (m.recipientId === "p0" ? "retryable" : undefined) });
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({
      channels: [email],
      ledger,
      clock: virtualClock({ start: T0 }),
      retry: { attempts: 4 },
    });
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(2),
    });
    expect(report.outcomes).toEqual({ sent: 1, failed: 1, excluded: 0 });
    expect(report.retries).toBe(3);
    const id = messageId({ campaignId: "spring", executionId: "e", recipientId: "p0", channel: "email" });
    expect(ledger.get(id)).toMatchObject({
      outcome: "failed",
      attempts: 4,
      reason: "Error: Injected transient failure for p0@example.com",
    });
  });

  it("never counts a rate-limited message as sent: it waits retry-after, slows down, then sends", async () => {
    const clock = virtualClock({ start: T0 });
    const email = memoryChannel({
      retryAfterMs: 2000,
      failFor: (m, a) => (m.recipientId === "p1" && a === 1 ? "rate-limited" : undefined),
    });
    const sent: string[] = [];
    const throttled: number[] = [];
    const dispatcher = createDispatcher({ channels: [email], ledger: memoryLedger(), clock });
    dispatcher.on("sent", (record) => sent.push(record.recipientId));
    dispatcher.on("rate-limited", (event) => throttled.push(event.retryAfterMs));
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(3),
    });
    expect(sent.sort()).toEqual(["p0", "p1", "p2"]);
    expect(throttled).toEqual([2000]);
    expect(report.rateLimited).toBe(1);
    expect(report.outcomes.sent).toBe(3);
    expect(clock.now() - T0).toBe(2000);
  });

  it("records as failed, never sent, a message the provider keeps throttling", async () => {
    const email = memoryChannel({
      failFor: (m) => (m.recipientId === "p1" ? "rate-limited" : undefined),
      retryAfterMs: 10,
    });
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({
      channels: [email],
      ledger,
      clock: virtualClock({ start: T0 }),
      retry: { rateLimitedAttempts: 2 },
    });
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(2),
    });
    expect(report.outcomes).toEqual({ sent: 1, failed: 1, excluded: 0 });
    expect(report.rateLimited).toBe(3);
    expect(email.sent.map((m) => m.recipientId)).toEqual(["p0"]);
    const id = messageId({ campaignId: "spring", executionId: "e", recipientId: "p1", channel: "email" });
    expect(ledger.get(id)).toMatchObject({
      outcome: "failed",
      attempts: 3,
      reason: "RateLimitedError: Injected rate limit",
    });
  });

  it("records a permanent failure once, with its reason, without retrying", async () => {
    const email = memoryChannel({ failFor: (m) => (m.recipientId === "p0" ? "permanent" : undefined) });
    const ledger = memoryLedger();
    const failed: DeliveryRecord[] = [];
    const dispatcher = createDispatcher({ channels: [email], ledger, clock: virtualClock({ start: T0 }) });
    dispatcher.on("failed", (record) => failed.push(record));
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(2),
    });
    expect(report.outcomes).toEqual({ sent: 1, failed: 1, excluded: 0 });
    expect(report.retries).toBe(0);
    expect(email.stats.attempted).toBe(2);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      recipientId: "p0",
      attempts: 1,
      reason: "PermanentDeliveryError: Injected permanent failure for p0@example.com",
    });
  });

  it("skips what the ledger holds as sent when run again with the same execution id", async () => {
    const email = memoryChannel({ capabilities: { idempotencyKeys: false } });
    const ledger = memoryLedger();
    const dispatcher = createDispatcher({ channels: [email], ledger, clock: virtualClock({ start: T0 }) });
    const request = { campaign: campaign(), executionId: "e", configurations, recipients: profiles(10) };
    await dispatcher.dispatch(request);
    const again = await dispatcher.dispatch({ ...request, recipients: profiles(12) });
    expect(again.skippedAlreadySent).toBe(10);
    expect(again.outcomes.sent).toBe(2);
    expect(email.sent).toHaveLength(12);
    expect(email.stats.attempted).toBe(12);
  });

  it("does not send twice to a recipient listed twice in one run", async () => {
    const { adapter, state } = instrumentedAdapter();
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock: virtualClock({ start: T0 }),
      batchSize: 3,
    });
    const people = profiles(5);
    const report = await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: [...people, ...people],
    });
    expect(report.outcomes.sent).toBe(5);
    expect(report.skippedAlreadySent).toBe(5);
    expect([...state.countByRecipient.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it("uses per-recipient context and channel data from an API trigger", async () => {
    const email = memoryChannel();
    const dispatcher = createDispatcher({
      channels: [email],
      ledger: memoryLedger(),
      clock: virtualClock({ start: T0 }),
    });
    const reset = campaign({
      type: "api-triggered",
      category: "transactional",
      actions: [
        {
          channel: "email",
          channelConfigurationId: "tx",
          content: {
            subject: "Reset for {{profile.firstName}}",
            html: "<a href='{{context.resetLink}}'>{{context.label}}</a>",
          },
        },
      ],
    });
    await dispatcher.dispatch({
      campaign: reset,
      executionId: "call-1",
      configurations,
      recipients: [profile("a", { consent: {} })],
      context: { label: "<Reset>" },
      recipientOverrides: {
        a: { context: { resetLink: "https://x.io/r?t=1&u=a" }, channelData: { tag: "t1" } },
      },
    });
    expect(email.sent[0]?.content).toEqual({
      channel: "email",
      subject: "Reset for Name-a",
      html: "<a href='https://x.io/r?t&#x3D;1&amp;u&#x3D;a'>&lt;Reset&gt;</a>",
    });
    expect(email.sent[0]?.channelData).toEqual({ tag: "t1" });
    expect(email.sent[0]?.category).toBe("transactional");
  });

  it("refuses up front a missing adapter, a missing configuration and a broken template", async () => {
    const dispatcher = createDispatcher({
      channels: [memoryChannel({ channel: "sms" })],
      ledger: memoryLedger(),
    });
    const request = { campaign: campaign(), executionId: "e", configurations, recipients: [] };
    await expect(dispatcher.dispatch(request)).rejects.toMatchObject({ code: "CHANNEL_NOT_REGISTERED" });
    const withEmail = createDispatcher({ channels: [memoryChannel()], ledger: memoryLedger() });
    await expect(withEmail.dispatch({ ...request, configurations: {} })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const broken = campaign({
      actions: [
        { channel: "email", channelConfigurationId: "news", content: { subject: "Hi {{#if}}", text: "x" } },
      ],
    });
    const error = await withEmail.dispatch({ ...request, campaign: broken }).catch((e: unknown) => e);
    expect(isCampaignKitError(error, "TEMPLATE_INVALID")).toBe(true);
    expect((error as Error).message).toContain('email action, field "subject"');
  });

  it("fails with STORAGE_FAILED when the ledger breaks, after in-flight batches finish", async () => {
    const ledger = memoryLedger();
    let writes = 0;
    const broken = {
      ...ledger,
      record: async (p: Parameters<typeof ledger.record>[0]) => {
        if (++writes === 2) throw new Error("disk full");
        return ledger.record(p);
      },
    };
    const dispatcher = createDispatcher({
      channels: [memoryChannel()],
      ledger: broken,
      clock: virtualClock({ start: T0 }),
      batchSize: 5,
      concurrency: 1,
    });
    const error = await dispatcher
      .dispatch({ campaign: campaign(), executionId: "e", configurations, recipients: profiles(50) })
      .catch((e: unknown) => e);
    expect(isCampaignKitError(error, "STORAGE_FAILED")).toBe(true);
    expect((error as Error).message).toContain("disk full");
  });

  it("emits progress at most once per interval, and once at the end", async () => {
    const clock = virtualClock({ start: T0 });
    const { adapter } = instrumentedAdapter({ clock, latencyMs: () => 100 });
    const dispatcher = createDispatcher({
      channels: [adapter],
      ledger: memoryLedger(),
      clock,
      concurrency: 1,
      batchSize: 10,
      progressIntervalMs: 1000,
    });
    const progress: number[] = [];
    dispatcher.on("progress", (report) => progress.push(report.outcomes.sent));
    await dispatcher.dispatch({
      campaign: campaign(),
      executionId: "e",
      configurations,
      recipients: profiles(150),
    });
    // 15 batches 100 ms apart: one progress event after 1 s of virtual time (10 batches), plus the final one.
    expect(progress).toEqual([100, 150]);
  });
});
