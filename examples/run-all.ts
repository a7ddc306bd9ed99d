/**
 * Runs every example in this folder as its own process and fails when any does: what the `examples` npm
 * script and CI run. Examples run in parallel (each takes a second or two) and their output is printed
 * whole, one example after another, so logs stay readable.
 *
 * Run: npx tsx examples/run-all.ts [name ...]
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const folder = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
// demo.ts is the long guided tour with its own `npm run demo` script; name it to run it here too.
const skipped = new Set([self, "demo.ts"]);
const wanted = process.argv.slice(2);
// Top-level examples, and the provider channel ones in channels/ (their support/ folder holds no example).
const examples = [
  ...readdirSync(folder),
  ...readdirSync(join(folder, "channels")).map((file) => `channels/${file}`),
]
  .filter((file) => file.endsWith(".ts") && file !== self)
  .filter((file) => (wanted.length === 0 ? !skipped.has(file) : wanted.includes(file.replace(/\.ts$/, ""))))
  .sort();
if (examples.length === 0) throw new Error(`No example matches ${wanted.join(", ")}`);

const results = await Promise.all(
  examples.map(async (file) => {
    const started = performance.now();
    try {
      // `--import tsx` rather than the tsx binary: one process per example, no extra wrapper.
      const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(folder, file)], {
        timeout: 60_000,
      });
      return { file, ok: true, output: stdout + stderr, ms: performance.now() - started };
    } catch (error) {
      const {
        stdout = "",
        stderr = "",
        message,
      } = error as { stdout?: string; stderr?: string; message: string };
      return { file, ok: false, output: stdout + stderr || message, ms: performance.now() - started };
    }
  }),
);

for (const { file, ok, output, ms } of results) {
  console.log(
    `\n=== ${file} (${ok ? "ok" : "FAILED"}, ${(ms / 1000).toFixed(1)} s) ===\n${output.trimEnd()}`,
  );
}
const failed = results.filter((r) => !r.ok).map((r) => r.file);
console.log(
  `\n${results.length - failed.length}/${results.length} examples passed${failed.length ? `; failed: ${failed.join(", ")}` : ""}.`,
);
if (failed.length > 0) process.exitCode = 1;
