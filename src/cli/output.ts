import { isCampaignKitError } from "../errors.js";

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Output {
  /** Writes text to stdout as is. */
  out(text: string): void;
  /** Writes text to stderr as is. */
  err(text: string): void;
  /** Whether `--json` was given: results as one JSON document on stdout, nothing else there. */
  json: boolean;
}

/** Numbers as people read them: `12,345`. */
export const count = (n: number): string => n.toLocaleString("en");

/** A date as an ISO instant, or `-`. */
export const when = (date: Date | string | undefined): string =>
  date === undefined ? "-" : typeof date === "string" ? date : date.toISOString();

/** Left-aligned columns, two spaces apart, under a header line; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === "number" ? count(cell) : cell)));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number"));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join("\n")}\n`;
}

/** `key: value` lines, the values aligned. */
export function fields(pairs: readonly (readonly [string, string | number | undefined])[]): string {
  const shown = pairs.filter((pair): pair is readonly [string, string | number] => pair[1] !== undefined);
  const width = Math.max(0, ...shown.map(([key]) => key.length));
  return shown
    .map(
      ([key, value]) => `${`${key}:`.padEnd(width + 2)}${typeof value === "number" ? count(value) : value}\n`,
    )
    .join("");
}

/** Writes `value` as the command's JSON result. */
export function writeJson(output: Output, value: unknown): void {
  output.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** The error as JSON for `--json`: `{ error: { code, message, details } }`, `code` absent for a bug. */
export function errorJson(error: unknown): { error: { code?: string; message: string; details?: unknown } } {
  if (isCampaignKitError(error)) {
    return { error: { code: error.code, message: error.message, details: error.details } };
  }
  return { error: { message: error instanceof Error ? error.message : String(error) } };
}

/**
 * The error as people read it: the code and message, each unmet prerequisite with its fix, and the cause's
 * message where the error wraps one (a driver's words on a storage failure).
 */
export function errorText(error: unknown): string {
  if (!isCampaignKitError(error)) {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return `campaign-kit: unexpected error: ${stack}\n`;
  }
  const lines = [`campaign-kit: ${error.code}: ${error.message}`];
  for (const problem of error.details.problems ?? []) {
    lines.push(`  - ${problem.code}: ${problem.message}`, `    fix: ${problem.fix}`);
  }
  // A cause says more only where the message doesn't list the issues already (a driver's error, say).
  const cause = error.cause instanceof Error && !error.details.issues ? error.cause.message : undefined;
  if (cause && !error.message.includes(cause)) lines.push(`  cause: ${cause}`);
  if (error.code === "STORAGE_FAILED" && /does not exist|relation .* not exist/i.test(`${cause ?? ""}`)) {
    lines.push("  fix: the tables are missing: run `campaign-kit migrate` first.");
  }
  return `${lines.join("\n")}\n`;
}
