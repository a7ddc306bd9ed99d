/**
 * Installs the packed tarball into three throwaway consumer projects and checks each as its users would:
 * ESM under `moduleResolution: node16`, a bundler project, and CommonJS under node16. Each type-checks a
 * consumer file with `tsc --strict` (the ESM one with `skipLibCheck: false`, so an error inside campaign-kit's
 * `.d.ts` is reported where it is; checking every library's types costs ~10 s, paid once); the ESM and
 * CommonJS ones then run it, and run the `campaign-kit` bin on their `campaign-kit.config.ts`. attw reads declarations entry by entry and missed a default import of
 * eventemitter3 that is no class under node16: only compiling a project against the tarball shows that.
 *
 * Run after `npm run build`: `npm run check:package` runs it. Needs the npm registry or a warm npm cache.
 */
import { execFile } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixtures = fileURLToPath(new URL("fixtures", import.meta.url));

/** The consumer projects: folder, and whether its compiled output runs on Node. */
const PROJECTS = [
  { name: "node16-esm", run: true },
  { name: "bundler", run: false },
  { name: "commonjs", run: true },
] as const;

// Node 20.19+ can `require` ES modules, which would hide a CommonJS build that requires an ESM-only
// dependency; bundlers, test runners and older Nodes can't, so the CommonJS consumer runs without it.
const NO_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has("--no-experimental-require-module")
  ? ["--no-experimental-require-module"]
  : [];

interface Step {
  what: string;
  ok: boolean;
  output: string;
  seconds: number;
}

async function step(what: string, file: string, args: string[], cwd: string): Promise<Step> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, timeout: 120_000, maxBuffer: 16 << 20 });
    return { what, ok: true, output: stdout + stderr, seconds: seconds() };
  } catch (error) {
    const {
      stdout = "",
      stderr = "",
      message,
    } = error as { stdout?: string; stderr?: string; message: string };
    return { what, ok: false, output: stdout + stderr || message, seconds: seconds() };
  }
}

async function must(what: string, file: string, args: string[], cwd: string): Promise<string> {
  const result = await step(what, file, args, cwd);
  if (!result.ok) throw new Error(`${what} failed:\n${result.output}`);
  return result.output;
}

async function checkProject(folder: string, project: (typeof PROJECTS)[number]): Promise<Step[]> {
  const cwd = join(folder, project.name);
  const tsc = join(folder, "node_modules", "typescript", "bin", "tsc");
  const steps = [await step(`${project.name}: tsc`, process.execPath, [tsc, "-p", "."], cwd)];
  // tsc emits despite type errors: run what it wrote anyway, so a broken runtime shows beside broken types.
  if (project.run && existsSync(join(cwd, "out", "index.js"))) {
    const flags = project.name === "commonjs" ? NO_REQUIRE_ESM : [];
    steps.push(await step(`${project.name}: node`, process.execPath, [...flags, "out/index.js"], cwd));
    steps.push(await cliStep(folder, project.name));
  }
  return steps;
}

/**
 * Runs the packed package's `campaign-kit` bin (its shebang and executable bit, as npm linked it) on the
 * project's config: the TypeScript one through jiti in the ESM project, the one tsc compiled to CommonJS in
 * the other. Triggers a send and waits for it, then reads the campaign back.
 */
async function cliStep(folder: string, name: string): Promise<Step> {
  const cwd = join(folder, name);
  const bin = join(folder, "node_modules", ".bin", "campaign-kit");
  const config = name === "commonjs" ? ["--config", "out/campaign-kit.config.js"] : [];
  const what = `${name}: campaign-kit bin`;
  const started = performance.now();
  const steps = [
    await step(what, bin, ["--version"], cwd),
    await step(what, bin, ["migrate", ...config], cwd),
    await step(what, bin, ["trigger", "payload.json", "--wait", "--json", ...config], cwd),
    await step(what, bin, ["status", "reset", "--json", ...config], cwd),
  ];
  const failed = steps.find((s) => !s.ok);
  const seconds = (performance.now() - started) / 1000;
  if (failed) return { ...failed, seconds };
  const [version, migrate, trigger, status] = steps.map((s) => s.output);
  const triggered = JSON.parse(trigger ?? "{}") as {
    execution?: { status?: string };
    report?: { outcomes?: { sent?: number } };
  };
  const read = JSON.parse(status ?? "{}") as { campaign?: { status?: string } };
  const ok =
    /^\d+\.\d+\.\d+/.test(version ?? "") &&
    (migrate ?? "").includes("Nothing to migrate") &&
    triggered.execution?.status === "succeeded" &&
    triggered.report?.outcomes?.sent === 1 &&
    read.campaign?.status === "live";
  return { what, ok, output: steps.map((s) => s.output).join("\n"), seconds };
}

async function main(): Promise<void> {
  if (!existsSync(join(root, "dist", "index.js"))) throw new Error("No dist/: run `npm run build` first.");
  const started = performance.now();
  const folder = mkdtempSync(join(tmpdir(), "campaign-kit-consumers-"));
  try {
    const packed = await must(
      "npm pack",
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", folder],
      root,
    );
    const tarball = (JSON.parse(packed) as { filename: string }[])[0]?.filename;
    if (!tarball) throw new Error(`npm pack named no tarball:\n${packed}`);

    cpSync(fixtures, folder, { recursive: true });
    for (const project of PROJECTS)
      for (const file of readdirSync(join(fixtures, "shared")))
        copyFileSync(join(fixtures, "shared", file), join(folder, project.name, file));
    // The same TypeScript and @types versions the package is developed with; @types/pg for campaign-kit/postgres,
    // @opentelemetry/api (an optional peer) for campaign-kit/otel.
    const { devDependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    // jiti: the optional peer the CLI loads a TypeScript config with; pg-boss and BullMQ for
    // campaign-kit/pg-boss and campaign-kit/bullmq (their own types).
    const tools = [
      "typescript",
      "@types/node",
      "@types/pg",
      "@opentelemetry/api",
      "jiti",
      "pg-boss",
      "bullmq",
    ].map((name) => `${name}@${devDependencies[name]}`);
    writeFileSync(join(folder, "package.json"), JSON.stringify({ private: true }));
    await must(
      "npm install",
      "npm",
      [
        "install",
        `./${tarball}`,
        ...tools,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--loglevel=error",
      ],
      folder,
    );

    const steps = (await Promise.all(PROJECTS.map((project) => checkProject(folder, project)))).flat();
    for (const { what, ok, output, seconds } of steps) {
      console.log(`${ok ? "ok  " : "FAIL"} ${what} (${seconds.toFixed(1)} s)`);
      if (!ok) console.log(`${output.trimEnd().replace(/^/gm, "     ")}`);
    }
    const failed = steps.filter((s) => !s.ok).length;
    console.log(
      `consumers: ${steps.length - failed}/${steps.length} steps passed against ${tarball} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    if (failed > 0) process.exitCode = 1;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
