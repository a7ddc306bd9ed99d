import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CampaignKitError } from "../../src/errors.js";
import { systemClock } from "../../src/ports/clock.js";
import { virtualClock } from "../../src/testing/index.js";
import { until } from "../kit/fixtures.js";

const T0 = Date.parse("2026-12-01T08:00:00Z");
/** Lets every callback already queued run, and the virtual clock's own turn with them. */
const turns = async (count = 5) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("the virtual clock's sleeps", () => {
  it("wake in due order once everything else waits, and overlap as on a real clock", async () => {
    const clock = virtualClock({ start: T0 });
    const woke: [string, number][] = [];
    const nap = (name: string, ms: number) =>
      clock.sleep(ms).then(() => void woke.push([name, clock.now() - T0]));
    await Promise.all([nap("long", 100), nap("short", 50), nap("tie", 50)]);
    expect(woke).toEqual([
      ["short", 50],
      ["tie", 50],
      ["long", 100],
    ]);
    expect(clock.now()).toBe(T0 + 100);
  });

  it("reject with the signal's reason when it aborts, without moving time", async () => {
    const clock = virtualClock({ start: T0 });
    const stop = new AbortController();
    const sleeping = clock.sleep(1000, stop.signal);
    stop.abort(new Error("stopped"));
    await expect(sleeping).rejects.toThrow("stopped");
    await expect(clock.sleep(1000, stop.signal)).rejects.toThrow("stopped");
    await turns();
    expect(clock.now()).toBe(T0);
  });

  it("wake when the test moves time, and keep their instant when it moves back", async () => {
    const clock = virtualClock({ start: T0 });
    let woke = false;
    void clock.sleep(60_000).then(() => {
      woke = true;
    });
    await clock.set(T0 - 3_600_000);
    expect(woke).toBe(false);
    await clock.set(new Date(T0 + 60_000));
    await turns(1);
    expect(woke).toBe(true);
    expect(clock.now()).toBe(T0 + 60_000);
  });
});

describe("the virtual clock's readings", () => {
  it("stand still by default, and move `stepMs` after each reading when asked", () => {
    const still = virtualClock({ start: "2026-12-01T08:00:00Z" });
    expect([still.now(), still.now()]).toEqual([T0, T0]);
    const stepping = virtualClock({ start: new Date(T0), stepMs: 1 });
    expect([stepping.now(), stepping.now(), stepping.now()]).toEqual([T0, T0 + 1, T0 + 2]);
  });

  it("refuses a start or a step it can't use", () => {
    expect(() => virtualClock({ start: "soon" })).toThrow(CampaignKitError);
    expect(() => virtualClock({ stepMs: -1 })).toThrow(CampaignKitError);
  });
});

describe("the virtual clock's background timers", () => {
  it("never move time: with only a timer pending the clock stands still", async () => {
    const clock = virtualClock({ start: T0 });
    let runs = 0;
    const stop = clock.every(1000, () => {
      runs++;
    });
    await turns(20);
    expect(clock.now()).toBe(T0);
    expect(runs).toBe(0);
    await stop();
  });

  it("fire when the test moves time past their due instant, once however far it jumps", async () => {
    const clock = virtualClock({ start: T0 });
    const at: number[] = [];
    const stop = clock.every(1000, () => {
      at.push(clock.now() - T0);
    });
    await clock.advance(999);
    expect(at).toEqual([]);
    await clock.advance(1);
    expect(at).toEqual([1000]);
    await clock.advance(5500);
    expect(at).toEqual([1000, 6500]);
    // Due again a period after the jump, since the periods it skipped are gone.
    await clock.advance(999);
    expect(at).toHaveLength(2);
    await clock.advance(1);
    expect(at).toEqual([1000, 6500, 7500]);
    await stop();
  });

  it("fire when a sleep or readings move time past them", async () => {
    const slept = virtualClock({ start: T0 });
    let runs = 0;
    const stop = slept.every(100, () => {
      runs++;
    });
    await slept.sleep(250);
    await turns(1);
    expect(runs).toBe(1);
    await stop();

    const read = virtualClock({ start: T0, stepMs: 1 });
    let reads = 0;
    const stopReading = read.every(5, () => {
      reads++;
    });
    for (let i = 0; i < 5; i++) read.now();
    await turns(1);
    expect(reads).toBe(1);
    await stopReading();
  });

  it("skip a firing while the previous run is pending, and stop waits for that run", async () => {
    const clock = virtualClock({ start: T0 });
    let release = () => {};
    let runs = 0;
    const stop = clock.every(1000, async () => {
      runs++;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    void clock.advance(1000);
    void clock.advance(1000);
    await turns();
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = stop().then(() => {
      stopped = true;
    });
    await turns();
    expect(stopped).toBe(false);
    release();
    await stopping;
    await clock.advance(10_000);
    expect(runs).toBe(1);
  });

  it("let advance wait for the runs it starts, and survive a run that throws", async () => {
    const clock = virtualClock({ start: T0 });
    const done: number[] = [];
    const stop = clock.every(1000, async () => {
      await clock.sleep(10);
      done.push(clock.now() - T0);
      if (done.length === 1) throw new Error("storage hiccup");
    });
    await clock.advance(1000);
    expect(done).toEqual([1010]);
    await clock.advance(1000);
    expect(done).toEqual([1010, 2020]);
    await stop();
  });

  it("refuse a period that isn't a positive number", () => {
    const clock = virtualClock();
    expect(() => clock.every(0, () => {})).toThrow(CampaignKitError);
    expect(() => systemClock.every(Number.NaN, () => {})).toThrow(CampaignKitError);
  });
});

describe("the system clock's background timers", () => {
  it("run on real time until stopped, and stop waits for a run under way", async () => {
    let runs = 0;
    let release = () => {};
    const stop = systemClock.every(1, async () => {
      runs++;
      if (runs === 2) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
    });
    await until(() => runs === 2);
    let stopped = false;
    const stopping = stop().then(() => {
      stopped = true;
    });
    await turns();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(runs).toBe(2);
  });
});

describe("real timers", () => {
  it("are only in the system clock: the rest of the kit waits on the clock it is given", async () => {
    const files = (await readdir("src", { recursive: true })).filter((f) => f.endsWith(".ts"));
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(join("src", file), "utf8");
      if (/\b(setTimeout|setInterval)\s*\(/.test(text) && file !== join("ports", "clock.ts")) {
        offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });
});
