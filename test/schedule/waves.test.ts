import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import { wavesSchema } from "../../src/model/delivery-controls.js";
import { planWaves, waveOf } from "../../src/schedule/index.js";

const startAt = new Date("2026-12-01T09:00:00Z");
const counts = (plan: ReturnType<typeof planWaves>) => plan.waves.map((wave) => wave.count);

describe("planWaves", () => {
  it("splits equally, earlier waves taking the extra recipients", () => {
    const plan = planWaves(wavesSchema.parse({ split: "equal", count: 3 }), 10, startAt);
    expect(counts(plan)).toEqual([4, 3, 3]);
    expect(plan.waves.map((wave) => wave.startAt.toISOString())).toEqual([
      "2026-12-01T09:00:00.000Z",
      "2026-12-01T10:00:00.000Z",
      "2026-12-01T11:00:00.000Z",
    ]);
    expect(plan.waves.map((wave) => wave.firstPosition)).toEqual([0, 4, 7]);
  });

  it("rounds percentages by largest remainder", () => {
    const waves = wavesSchema.parse({
      split: "percentages",
      percentages: [33.3, 33.3, 33.4],
      intervalMinutes: 30,
    });
    expect(counts(planWaves(waves, 10, startAt))).toEqual([3, 3, 4]);
    expect(counts(planWaves(waves, 1000, startAt))).toEqual([333, 333, 334]);
    expect(planWaves(waves, 10, startAt).waves[2]?.offsetMinutes).toBe(60);
  });

  it("gives what is beyond the counts to the last wave, and starves later waves of a small audience", () => {
    const waves = wavesSchema.parse({ split: "counts", counts: [100, 400] });
    expect(counts(planWaves(waves, 1000, startAt))).toEqual([100, 900]);
    expect(counts(planWaves(waves, 50, startAt))).toEqual([50, 0]);
    expect(counts(planWaves(waves, 0, startAt))).toEqual([0, 0]);
  });

  it("refuses a negative or fractional audience", () => {
    const waves = wavesSchema.parse({ split: "equal", count: 2 });
    for (const size of [-1, 1.5, Number.NaN]) {
      expect(() => planWaves(waves, size, startAt)).toThrow(
        expect.objectContaining({ code: "VALIDATION_FAILED" }),
      );
    }
  });
});

describe("waveOf", () => {
  it("tells a recipient's wave from its position", () => {
    const plan = planWaves(wavesSchema.parse({ split: "counts", counts: [100, 400] }), 1000, startAt);
    expect(waveOf(0, plan).index).toBe(0);
    expect(waveOf(99, plan).index).toBe(0);
    expect(waveOf(100, plan).index).toBe(1);
    expect(waveOf(5000, plan).index).toBe(1); // beyond the planned size: the last wave
    let caught: unknown;
    try {
      waveOf(-1, plan);
    } catch (error) {
      caught = error;
    }
    expect(isCampaignKitError(caught, "VALIDATION_FAILED")).toBe(true);
  });
});

const wavesArb = fc
  .oneof(
    fc.record({ split: fc.constant("equal"), count: fc.integer({ min: 2, max: 10 }) }),
    fc
      .array(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 10 })
      .map((weights) => {
        const sum = weights.reduce((a, b) => a + b, 0);
        const percentages = weights.map((weight) => (weight * 100) / sum);
        // Make the floats sum to 100 within the schema's tolerance.
        const rest = percentages.slice(0, -1).reduce((a, b) => a + b, 0);
        return { split: "percentages", percentages: [...percentages.slice(0, -1), 100 - rest] };
      })
      .filter((waves) => (waves.percentages.at(-1) ?? 0) > 0),
    fc.record({
      split: fc.constant("counts"),
      counts: fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 2, maxLength: 10 }),
    }),
  )
  .chain((split) =>
    fc.record({ intervalMinutes: fc.integer({ min: 30, max: 1440 }) }).map((rest) => ({ ...split, ...rest })),
  )
  .map((input) => wavesSchema.parse(input));

describe("planWaves (properties)", () => {
  it("counts sum to the audience, 2-10 waves, at least 30 minutes apart, waveOf agrees", () => {
    fc.assert(
      fc.property(wavesArb, fc.integer({ min: 0, max: 100_000 }), fc.nat(), (waves, size, probe) => {
        const plan = planWaves(waves, size, startAt);
        expect(counts(plan).reduce((a, b) => a + b, 0)).toBe(size);
        expect(plan.waves.length).toBeGreaterThanOrEqual(2);
        expect(plan.waves.length).toBeLessThanOrEqual(10);
        for (const [i, wave] of plan.waves.entries()) {
          expect(wave.index).toBe(i);
          expect(Number.isInteger(wave.count) && wave.count >= 0).toBe(true);
          const previous = plan.waves[i - 1];
          if (previous) {
            expect(wave.startAt.getTime() - previous.startAt.getTime()).toBeGreaterThanOrEqual(30 * 60_000);
            expect(wave.firstPosition).toBe(previous.firstPosition + previous.count);
          }
          if (wave.count > 0) {
            expect(waveOf(wave.firstPosition, plan).index).toBe(i);
            expect(waveOf(wave.firstPosition + wave.count - 1, plan).index).toBe(i);
          }
        }
        if (waves.split === "equal") {
          expect(Math.max(...counts(plan)) - Math.min(...counts(plan))).toBeLessThanOrEqual(1);
        }
        if (waves.split === "percentages") {
          for (const [i, wave] of plan.waves.entries()) {
            expect(Math.abs(wave.count - (size * (waves.percentages[i] ?? 0)) / 100)).toBeLessThan(1);
          }
        }
        if (size > 0) expect(waveOf(probe % size, plan).firstPosition).toBeLessThanOrEqual(probe % size);
      }),
      { numRuns: 200 },
    );
  });
});
