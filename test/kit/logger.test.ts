import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { RateLimitedError } from "../../src/errors.js";
import type { CampaignKitOptions } from "../../src/kit/create-campaign-kit.js";
import type { ChannelAdapter } from "../../src/ports/channel.js";
import type { Logger } from "../../src/ports/logger.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, promotion } from "./fixtures.js";
import { capturingLogger, type LogLine, observedKit } from "./support/observe.js";

/** An email adapter whose provider names the address in its errors, as real ones do in bounces. */
function troubledEmail(fault: (attempt: number) => Error | undefined): ChannelAdapter {
  return {
    name: "troubled-email",
    channel: "email",
    capabilities: { batch: false, idempotencyKeys: true },
    async send(message, { attempt }) {
      const error = fault(attempt);
      if (error) {
        error.message = `${error.message} for ${message.to}`;
        throw error;
      }
      return { providerMessageId: `pm-${message.id}` };
    },
  };
}

async function sendPromotion(
  options: Partial<CampaignKitOptions> & { size?: number },
  storage = memoryStorage(),
) {
  const { kit } = await observedKit(storage, options);
  await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
  await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
  await kit.scheduler.tick();
  return kit;
}

/** What a log must never hold: message content, addresses, profile attributes. */
function expectNoPersonalData(lines: LogLine[]): void {
  const text = JSON.stringify(lines);
  expect(text).not.toMatch(/@example\.com/);
  expect(text).not.toMatch(/Name\d/);
  expect(text).not.toMatch(/winter sale/i);
  expect(text).not.toMatch(/\+3361/);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(storageTargets("the kit's logger"))("the kit's logger on $name storage", (target) => {
  it("tells an operator what ran, through a child bound to the kit, with ids and counts only", async () => {
    const lines: LogLine[] = [];
    await sendPromotion({ size: 30, logger: capturingLogger(lines) }, await target.create());
    expect(lines.every((l) => l.bindings.component === "campaign-kit")).toBe(true);
    const started = lines.find((l) => l.message === "execution started");
    expect(started).toMatchObject({
      level: "info",
      fields: { campaignId: "sale", kind: "occurrence", resumed: false },
    });
    expect(typeof started?.fields.executionId).toBe("string");
    expect(lines.find((l) => l.message === "execution finished")).toMatchObject({
      level: "info",
      fields: { campaignId: "sale", status: "succeeded", targeted: 30, sent: 30, failed: 0, excluded: 0 },
    });
    expect(
      lines.filter((l) => l.message === "campaign status changed").map((l) => [l.fields.from, l.fields.to]),
    ).toEqual([
      ["draft", "live"],
      ["live", "completed"],
    ]);
    const tick = lines.find((l) => l.message === "scheduler tick");
    expect(tick).toMatchObject({ level: "debug", fields: { completed: ["sale"] } });
    expect(tick?.fields.launched).toHaveLength(1);
    expect(typeof tick?.fields.durationMs).toBe("number");
    expectNoPersonalData(lines);
  });
});

describe("the kit's logger", () => {
  it("is silent by default: nothing reaches the console", async () => {
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    await sendPromotion({
      size: 10,
      channels: [troubledEmail((n) => (n < 2 ? new Error("busy") : undefined))],
    });
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it("warns once per round when a provider throttles, with the retry-after it asked for", async () => {
    const lines: LogLine[] = [];
    const throttled = troubledEmail((attempt) =>
      attempt === 1 ? new RateLimitedError("slow down", { retryAfterMs: 1500 }) : undefined,
    );
    await sendPromotion({
      size: 8,
      channels: [throttled, memoryChannel({ channel: "sms" })],
      logger: capturingLogger(lines),
    });
    const warnings = lines.filter((l) => l.message.startsWith("provider throttled"));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({
      level: "warn",
      fields: { campaignId: "sale", channel: "email", retryAfterMs: 1500 },
    });
    expect(warnings.reduce((n, l) => n + (l.fields.messages as number), 0)).toBe(8);
    expect(lines.find((l) => l.message === "execution finished")?.fields).toMatchObject({ sent: 8 });
    expectNoPersonalData(lines);
  });

  it("warns when retries are used up, naming message ids and the error's kind, never the provider's words", async () => {
    const lines: LogLine[] = [];
    await sendPromotion({
      size: 4,
      channels: [troubledEmail(() => new Error("mailbox unavailable")), memoryChannel({ channel: "sms" })],
      dispatcher: { retry: { attempts: 2, baseDelayMs: 10 }, progressIntervalMs: 0 },
      logger: capturingLogger(lines),
    });
    const exhausted = lines.filter((l) => l.message === "retries exhausted");
    expect(exhausted.length).toBeGreaterThan(0);
    expect(exhausted[0]).toMatchObject({
      level: "warn",
      fields: { campaignId: "sale", channel: "email", attempts: 2, error: { name: "Error" } },
    });
    expect(exhausted.reduce((n, l) => n + (l.fields.messages as number), 0)).toBe(4);
    expect((exhausted[0]?.fields.messageIds as string[] | undefined)?.[0]).toMatch(/:email:p\d$/);
    expect(lines.find((l) => l.message === "execution failed")).toMatchObject({ level: "error" });
    expectNoPersonalData(lines);
  });

  it("logs a failing scheduler tick as storage unavailable, and the next tick runs", async () => {
    const lines: LogLine[] = [];
    const storage = memoryStorage();
    let down = false;
    const { kit } = await observedKit(
      {
        ...storage,
        list: (params) => (down ? Promise.reject(new Error("connection refused")) : storage.list(params)),
      },
      { size: 1, logger: capturingLogger(lines) },
    );
    down = true;
    await expect(kit.scheduler.tick()).rejects.toMatchObject({ code: "STORAGE_FAILED" });
    expect(lines.find((l) => l.message === "scheduler tick failed: storage unavailable")).toMatchObject({
      level: "error",
      fields: { error: { code: "STORAGE_FAILED" } },
    });
    down = false;
    await kit.scheduler.tick();
  });

  it("takes a logger without `child`, adding the component to each line, and survives one that throws", async () => {
    const lines: LogLine[] = [];
    const { child: _, ...plain } = capturingLogger(lines);
    await sendPromotion({ size: 2, logger: plain });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.fields.component === "campaign-kit")).toBe(true);

    const broken: Logger = {
      debug: () => {},
      info: () => {
        throw new Error("destination closed");
      },
      warn: () => {},
      error: () => {},
    };
    const kit = await sendPromotion({ size: 2, logger: broken });
    expect((await kit.reports.campaign({ actor: ADMIN, id: "sale" })).outcomes.sent).toBe(2);
  });

  it("takes a real pino logger as it is: one JSON line per event, bound once", async () => {
    const output: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        output.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: "debug" }, destination);
    expectTypeOf(logger).toMatchTypeOf<Logger>();
    await sendPromotion({ size: 3, logger });
    const records = output.flatMap((chunk) => chunk.trim().split("\n")).map((line) => JSON.parse(line));
    const started = records.find((r) => r.msg === "execution started");
    expect(started).toMatchObject({ level: 30, component: "campaign-kit", campaignId: "sale" });
    expect(records.find((r) => r.msg === "scheduler tick")).toMatchObject({ level: 20 });
    // Bound through `child` once: pino would repeat a key bound twice.
    const raw = output.join("");
    expect(raw.match(/"component"/g)?.length).toBe(records.length);
  });

  it("refuses a logger that isn't one, naming what it lacks", async () => {
    await expect(
      observedKit(memoryStorage(), { logger: { info: () => {} } as unknown as Logger }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringMatching(/debug\(\)/) });
  });
});
