/**
 * Hosts wrap storage for tracing and metrics (a transparent Proxy, or an object spreading the original):
 * the kit must keep working through any such wrapper, since storage objects carry no hidden properties.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import type { Storage } from "../../src/ports/storage.js";
import { ADMIN, activeCampaign, people, promotion, seededKit } from "./fixtures.js";

function traced(storage: Storage, calls: string[]): Storage {
  return new Proxy(storage, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

describe("storage behind a wrapper", () => {
  it.each([
    ["a transparent Proxy", (s: Storage, calls: string[]) => traced(s, calls)],
    [
      "a spread object overriding record",
      (s: Storage, calls: string[]): Storage => ({
        ...s,
        record: (params) => {
          calls.push("record");
          return s.record(params);
        },
      }),
    ],
  ])("sends and records every message through %s", async (_, wrap) => {
    const calls: string[] = [];
    const email = memoryChannel({ channel: "email" });
    const kit = await seededKit({
      storage: wrap(memoryStorage(), calls),
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: people(250) } }),
    });
    await activeCampaign(kit, { ...promotion, id: "promo" });
    await kit.scheduler.tick();
    expect(email.sent).toHaveLength(250);
    expect(calls).toContain("record");
    const report = await kit.reports.campaign({ actor: ADMIN, id: "promo" });
    expect(report.outcomes).toEqual({ sent: 250, failed: 0, excluded: 0 });
  });
});
