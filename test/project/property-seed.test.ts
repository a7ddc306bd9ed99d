import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import { CI_SEED, propertyParameters, resolveSeed, seedBanner } from "../support/property-seed.js";

const seed = inject("fcSeed");

/** Runs a property that fails on every sample of 10 or more, with the run's global configuration. */
function failingAssertion(): Error {
  try {
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(n).toBeLessThan(10);
      }),
    );
  } catch (error) {
    return error as Error;
  }
  throw new Error("the property did not fail");
}

describe("the fast-check seed", () => {
  it("comes from FC_SEED, else is fixed under CI, else random", () => {
    expect(resolveSeed({ FC_SEED: "42", CI: "true" })).toEqual({ seed: 42, source: "FC_SEED" });
    expect(resolveSeed({ CI: "true" })).toEqual({ seed: CI_SEED, source: "CI" });
    const random = [resolveSeed({}), resolveSeed({})];
    expect(random.map((r) => r.source)).toEqual(["random", "random"]);
    expect(random.every((r) => Number.isSafeInteger(r.seed))).toBe(true);
    expect(() => resolveSeed({ FC_SEED: "soon" })).toThrow(/FC_SEED must be an integer/);
  });

  it("is printed with how to draw the same samples again", () => {
    expect(seedBanner({ seed: 7, source: "random" })).toBe(
      "fast-check seed 7 (random); run with FC_SEED=7 to draw the same samples",
    );
  });

  it.runIf(process.env.CI === "true" && !process.env.FC_SEED)("is the fixed one in CI", () => {
    expect(seed).toBe(CI_SEED);
  });

  it("is what every property of the run uses, without restating it", () => {
    expect(fc.readConfigureGlobal().seed).toBe(seed);
    const drawn = fc.sample(fc.nat(), { numRuns: 5 });
    expect(fc.sample(fc.nat(), { numRuns: 5 })).toEqual(drawn);
  });

  it("is named on a failing property, with the path and a command that replays it", () => {
    const error = failingAssertion();
    const path = /path: "([\d:]+)"/.exec(error.message)?.[1];
    expect(path).toBeDefined();
    expect(error.message).toContain(`{ seed: ${seed}, path: "${path}"`);
    expect(error.message).toContain("Counterexample: [10]");
    expect(error.message).toContain(
      `Replay: FC_SEED=${seed} FC_PATH='${path}' npx vitest run 'test/project/property-seed.test.ts' -t ` +
        "'is named on a failing property, with the path and a command that replays it$'",
    );
    // The property's own assertion stays attached, as fast-check's default report keeps it.
    expect((error.cause as Error).message).toContain("expected 10 to be less than 10");
  });

  it("replays the counterexample straight from FC_PATH", () => {
    const path = /path: "([\d:]+)"/.exec(failingAssertion().message)?.[1];
    const replay = propertyParameters(seed, () => ({}), { FC_PATH: path });
    expect(replay).toMatchObject({ seed, path, endOnFailure: true });
    const seen: number[] = [];
    const details = fc.check(
      fc.property(fc.nat(), (n) => {
        seen.push(n);
        return n < 10;
      }),
      replay,
    );
    expect(details.failed).toBe(true);
    expect(seen).toEqual([10]);
  });
});
