import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The CLI's source entry, run under tsx: the tests need no build. */
export const BIN = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));
/** tsx's loader, by path: a working directory outside the project can't resolve `tsx` by name. */
export const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url));
/** The configs' folder. */
export const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws when it isn't). */
  json<T = Record<string, unknown>>(): T;
  /** stderr's error document (`--json`). */
  error(): { code?: string; message: string; details?: Record<string, unknown> };
}

/**
 * Runs `campaign-kit args` as a child process, stdout and stderr piped (so not a terminal), with `input` on
 * stdin (or stdin closed).
 */
export function cli(
  args: readonly string[],
  options: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", pathToFileURL(TSX).href, BIN, ...args], {
      cwd: options.cwd ?? FIXTURES,
      env: Object.fromEntries(
        Object.entries({ ...process.env, CAMPAIGN_KIT_ACTOR: undefined, ...options.env }).filter(
          ([, value]) => value !== undefined,
        ),
      ),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.stdin.end(options.input ?? "");
    child.on("close", (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json: <T>() => JSON.parse(stdout) as T,
        error: () => (JSON.parse(stderr) as { error: ReturnType<CliRun["error"]> }).error,
      }),
    );
  });
}
