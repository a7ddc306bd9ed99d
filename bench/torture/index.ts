/**
 * `npm run torture`: tries to break what campaign-kit promises (every recipient counted, sent at most once,
 * no 5xx, no lost decisions) under kills, faults, fuzzed HTTP and races, prints every figure in one table,
 * and exits non-zero when an invariant breaks.
 *
 * Options: `--quick` (the bounded CI slice), `--trials N` (overrides every scenario's trial count),
 * `--requests N` (random HTTP requests per storage), `--scenario NAME` (repeatable; one of the names below),
 * `--seed S` (default 1; printed). PostgreSQL variants need `DATABASE_URL`; without it they are skipped,
 * except under `CI=true`, where that fails.
 */
import { parseArgs } from "node:util";
import { databaseUrl } from "../../test/support/database.js";
import { concurrentApprovals } from "./concurrent-approvals.js";
import { concurrentVersions } from "./concurrent-versions.js";
import { faults } from "./faults.js";
import { httpFuzz } from "./http-fuzz.js";
import { killResume } from "./kill-resume.js";
import { killWorker } from "./kill-worker.js";
import { type Figure, type Scenario, show, type TortureOptions } from "./support.js";
import { twoKits } from "./two-kits.js";

const scenarios: Scenario[] = [
  killResume,
  killWorker,
  faults,
  httpFuzz,
  twoKits,
  concurrentVersions,
  concurrentApprovals,
];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    trials: { type: "string" },
    requests: { type: "string" },
    scenario: { type: "string", multiple: true },
    seed: { type: "string", default: "1" },
  },
});
const chosen = values.scenario ?? scenarios.map((s) => s.name);
const unknown = chosen.filter((name) => !scenarios.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(
    `Unknown scenario ${unknown.join(", ")}; choose from ${scenarios.map((s) => s.name).join(", ")}.`,
  );
  process.exit(2);
}
/** A whole number given for `--name`, or undefined when absent; exits on anything else. */
function whole(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (Number.isInteger(n) && n >= min) return n;
  console.error(`--${name} takes a whole number >= ${min}, not '${text}'.`);
  process.exit(2);
}
const options: TortureOptions = {
  seed: whole("seed", values.seed, 0)!,
  quick: values.quick ?? false,
  trials: whole("trials", values.trials, 1),
  requests: whole("requests", values.requests, 0),
  databaseUrl: databaseUrl("the PostgreSQL torture scenarios"),
};
console.log(
  `torture: seed ${options.seed}${options.quick ? ", quick" : ""} (replay with --seed ${options.seed})`,
);

const all: Figure[] = [];
const started = performance.now();
for (const scenario of scenarios.filter((s) => chosen.includes(s.name))) {
  console.log(`\n# ${scenario.name}: ${scenario.summary}`);
  const at = performance.now();
  try {
    all.push(...(await scenario.run(options)));
  } catch (error) {
    console.error(error);
    all.push({
      scenario: scenario.name,
      storage: "-",
      label: "ran to the end",
      value: "threw",
      expected: "yes",
      ok: false,
    });
  }
  console.log(`  (${((performance.now() - at) / 1000).toFixed(1)} s)`);
}

const header = ["scenario", "storage", "figure", "value", "must be", "ok"];
const rows = all.map((f) => [
  f.scenario,
  f.storage,
  f.label,
  show(f.value),
  f.expected ?? "",
  f.ok === undefined ? "" : f.ok ? "ok" : "BROKEN",
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const print = (cells: string[]) =>
  console.log(`| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`);
console.log();
print(header);
print(widths.map((w) => "-".repeat(w)));
for (const row of rows) print(row);

const broken = all.filter((f) => f.ok === false);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  broken.length === 0
    ? `\ntorture: every invariant held (${seconds} s, seed ${options.seed})`
    : `\ntorture: ${broken.length} invariant(s) broken (${seconds} s, seed ${options.seed}): ` +
        [...new Set(broken.map((f) => `${f.scenario}/${f.storage}`))].join(", "),
);
process.exit(broken.length === 0 ? 0 : 1);
