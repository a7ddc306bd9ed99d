import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/dispatch/rate.js";
import { virtualClock } from "../../src/testing/index.js";
import { T0 } from "../support/fixtures.js";

describe("token bucket", () => {
  it("hands out one burst at once, then tokens at the rate, reserving in arrival order", async () => {
    const clock = virtualClock({ start: T0 });
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 5, clock });
    expect(bucket.reserve(5)).toBe(0);
    expect(bucket.reserve(1)).toBe(100);
    expect(bucket.reserve(2)).toBe(300);
    await clock.advance(300);
    expect(bucket.reserve(1)).toBe(100);
    await clock.advance(10_000);
    expect(bucket.reserve(5)).toBe(0);
    expect(bucket.reserve(1)).toBe(100);
  });

  it("defaults the burst to one second of tokens and gives refunds back", async () => {
    const clock = virtualClock({ start: T0 });
    const bucket = new TokenBucket({ ratePerSecond: 20, clock });
    expect(bucket.burst).toBe(20);
    expect(bucket.reserve(20)).toBe(0);
    expect(bucket.reserve(10)).toBe(500);
    bucket.refund(10);
    expect(bucket.reserve(10)).toBe(500);
  });

  it("is unlimited without a rate, except while paused", async () => {
    const clock = virtualClock({ start: T0 });
    const bucket = new TokenBucket({ clock });
    expect(bucket.limited).toBe(false);
    expect(bucket.reserve(1_000_000)).toBe(0);
    bucket.slowDown(2000);
    expect(bucket.reserve(1)).toBe(2000);
    await clock.advance(2000);
    expect(bucket.reserve(1)).toBe(0);
  });

  it("pauses for retry-after, halves its rate, then recovers", async () => {
    const clock = virtualClock({ start: T0 });
    const bucket = new TokenBucket({ ratePerSecond: 100, burst: 10, clock, recoveryMs: 5000 });
    bucket.slowDown(1000);
    expect(bucket.currentRate).toBe(50);
    expect(bucket.reserve(1)).toBe(1020);
    await clock.advance(5000);
    bucket.reserve(1);
    expect(bucket.currentRate).toBe(100);
    for (let i = 0; i < 10; i++) bucket.slowDown(0);
    expect(bucket.currentRate).toBe(100 / 16);
  });

  it("waits with the clock in take()", async () => {
    const clock = virtualClock({ start: T0 });
    const bucket = new TokenBucket({ ratePerSecond: 4, burst: 1, clock });
    await bucket.take();
    expect(clock.now()).toBe(T0);
    await bucket.take();
    expect(clock.now()).toBe(T0 + 250);
  });
});
