/**
 * How property tests get their fast-check seed: one seed per `vitest run`, fixed under CI so a red build
 * replays anywhere, random locally so samples keep exploring, printed either way, and named again with the
 * counterexample's path and a replay command whenever a property fails. The global setup picks and prints the
 * seed; the per-file setup hands it to `fc.configureGlobal`, so no property test restates it.
 */
import { randomInt } from "node:crypto";
import fc, { type Parameters, type RunDetails } from "fast-check";

/** The seed CI runs with unless `FC_SEED` says otherwise. Any fixed integer would do. */
export const CI_SEED = 20261201;

/** A seed and where it came from, for the line the run prints. */
export interface PropertySeed {
  seed: number;
  source: "FC_SEED" | "CI" | "random";
}

/** `FC_SEED` when set, else {@link CI_SEED} under `CI=true`, else a random seed. */
export function resolveSeed(env: NodeJS.ProcessEnv = process.env): PropertySeed {
  const given = env.FC_SEED?.trim();
  if (given) {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got '${env.FC_SEED}'.`);
    return { seed, source: "FC_SEED" };
  }
  if (env.CI === "true") return { seed: CI_SEED, source: "CI" };
  return { seed: randomInt(0, 2 ** 31 - 1), source: "random" };
}

/** The line a run prints before its tests: the seed, and how to draw the same samples again. */
export function seedBanner({ seed, source }: PropertySeed): string {
  const why = { FC_SEED: "from FC_SEED", CI: "fixed for CI", random: "random" }[source];
  return `fast-check seed ${seed} (${why}); run with FC_SEED=${seed} to draw the same samples`;
}

/** The test a failing property belongs to, for the replay command. */
export interface ReplayTarget {
  /** The test file. */
  file?: string | undefined;
  /** The test's own name, without its suites'. */
  test?: string | undefined;
}

/**
 * What the per-file setup passes to `fc.configureGlobal`: the run's seed, `FC_PATH` when replaying one
 * counterexample, and a reporter that says how to replay a failure.
 */
export function propertyParameters(
  seed: number,
  where: () => ReplayTarget,
  env: NodeJS.ProcessEnv = process.env,
): Parameters<unknown> {
  const path = env.FC_PATH?.trim();
  return { seed, ...(path ? { path, endOnFailure: true } : {}), reporter: replayingReporter(where) };
}

/**
 * A fast-check reporter that fails as the default one does (its message, the property's error as `cause`)
 * and adds the command that replays the counterexample: `FC_SEED`, `FC_PATH`, the file and the test.
 */
export function replayingReporter(where: () => ReplayTarget): (details: RunDetails<unknown>) => void {
  return (details) => {
    if (!details.failed) return;
    const message = fc.defaultReportMessage(details) ?? `Property failed with seed ${details.seed}`;
    throw new Error(`${message}\n\n${replayHint(details, where())}`, { cause: details.errorInstance });
  };
}

/** `Replay: FC_SEED=… FC_PATH=… npx vitest run <file> -t '<test>$'`. */
export function replayHint(details: RunDetails<unknown>, target: ReplayTarget): string {
  const path = details.counterexamplePath ? ` FC_PATH=${shellQuote(details.counterexamplePath)}` : "";
  const file = target.file ? ` ${shellQuote(target.file)}` : "";
  // `-t` is a pattern matched against the suites' and the test's names: anchor the test's at the end.
  const test = target.test ? ` -t ${shellQuote(`${escapeRegExp(target.test)}$`)}` : "";
  return `Replay: FC_SEED=${details.seed}${path} npx vitest run${file}${test}`;
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
