/** The experiment statistics against known values: exact cases, a simulation, and the two methods agreeing. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EXACT_SUM_LIMIT,
  exactProbabilityToBeat,
  logGamma,
  normalCdf,
  normalProbabilityToBeat,
  probabilityToBeat,
  significantWinner,
} from "../../../src/kit/experiment-statistics.js";

const arm = (exposed: number, conversions: number) => ({ exposed, conversions });

describe("experiment statistics", () => {
  it("computes log-gamma and the normal distribution function at known points", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(101)).toBeCloseTo(363.739_375_555_563_5, 8); // ln(100!)
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959_964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.644_854)).toBeCloseTo(0.05, 6);
  });

  it("gives the exact probability in cases solved by hand", () => {
    // Nothing observed: two uniform posteriors, a coin toss.
    expect(probabilityToBeat(arm(0, 0), arm(0, 0))).toBeCloseTo(0.5, 12);
    // One conversion of one against nothing: Beta(2, 1) beats a uniform with probability 2/3.
    expect(probabilityToBeat(arm(1, 1), arm(0, 0))).toBeCloseTo(2 / 3, 12);
    expect(probabilityToBeat(arm(0, 0), arm(1, 1))).toBeCloseTo(1 / 3, 12);
    // Beta(3, 1) against Beta(1, 1): ∫ 3x² · x dx = 3/4.
    expect(probabilityToBeat(arm(2, 2), arm(0, 0))).toBeCloseTo(3 / 4, 12);
    // Beta(2, 1) against Beta(1, 2): P = 5/6.
    expect(probabilityToBeat(arm(1, 1), arm(1, 0))).toBeCloseTo(5 / 6, 12);
  });

  it("agrees with a simulation of the posteriors", () => {
    // Monte Carlo with a seeded generator: Beta(a, b) drawn as the a-th smallest of a + b - 1 uniforms.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const beta = (a: number, b: number) => {
      const u = Array.from({ length: a + b - 1 }, random).sort((x, y) => x - y);
      return u[a - 1]!;
    };
    let wins = 0;
    const draws = 8_000;
    for (let i = 0; i < draws; i++) if (beta(1 + 12, 1 + 28) > beta(1 + 7, 1 + 33)) wins++;
    expect(probabilityToBeat(arm(40, 12), arm(40, 7))).toBeCloseTo(wins / draws, 1);
  });

  it("is symmetric, and between 0 and 1", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n1, n2, r1, r2) => {
          const a = arm(n1, Math.floor(n1 * r1));
          const b = arm(n2, Math.floor(n2 * r2));
          const p = probabilityToBeat(a, b);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
          expect(p + probabilityToBeat(b, a)).toBeCloseTo(1, 6);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("grows with the challenger's conversions", () => {
    let previous = 0;
    for (let c = 0; c <= 200; c += 10) {
      const p = probabilityToBeat(arm(1000, c), arm(1000, 100));
      expect(p).toBeGreaterThanOrEqual(previous);
      previous = p;
    }
    expect(probabilityToBeat(arm(1000, 100), arm(1000, 100))).toBeCloseTo(0.5, 6);
  });

  it("switches to the normal approximation where it agrees with the exact sum", () => {
    // At the sizes where the switch happens, both methods on the same data, from no lift to a clear one.
    for (const conversions of [1000, 3000, EXACT_SUM_LIMIT]) {
      for (const lift of [0, 0.02, 0.05, 0.1]) {
        const incumbent = arm(conversions * 10, conversions);
        const challenger = arm(conversions * 10, Math.round(conversions * (1 + lift)));
        const exact = exactProbabilityToBeat(challenger, incumbent);
        const normal = normalProbabilityToBeat(challenger, incumbent);
        expect(Math.abs(exact - normal), `${conversions} conversions, lift ${lift}`).toBeLessThan(0.005);
      }
    }
    // probabilityToBeat takes the exact sum up to the limit, the approximation beyond.
    const small = [arm(30_000, EXACT_SUM_LIMIT - 1), arm(30_000, EXACT_SUM_LIMIT - 60)] as const;
    expect(probabilityToBeat(...small)).toBe(exactProbabilityToBeat(...small));
    const large = [arm(60_000, EXACT_SUM_LIMIT + 1), arm(60_000, EXACT_SUM_LIMIT + 90)] as const;
    expect(probabilityToBeat(...large)).toBe(normalProbabilityToBeat(...large));
  });

  it("names a winner only when it beats every other arm at the threshold", () => {
    // 12 % against 10 % on 1,000 each: about 92 %, not significant at 95 %.
    expect(probabilityToBeat(arm(1000, 120), arm(1000, 100))).toBeCloseTo(0.92, 2);
    expect(significantWinner([arm(1000, 100), arm(1000, 120)], 0.95)).toBeUndefined();
    // The same rates on 5,000 each: significant.
    expect(significantWinner([arm(5000, 500), arm(5000, 600)], 0.95)).toBe(1);
    // The control can win too.
    expect(significantWinner([arm(5000, 700), arm(5000, 500), arm(5000, 520)], 0.95)).toBe(0);
    // Two arms both beat the control but not each other: no winner.
    expect(significantWinner([arm(5000, 400), arm(5000, 600), arm(5000, 605)], 0.95)).toBeUndefined();
    expect(significantWinner([arm(10, 1)], 0.95)).toBeUndefined();
  });
});
