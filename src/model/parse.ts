import type { ZodType, z } from "zod";
import type { CampaignKitError, ValidationIssue } from "../errors.js";
import { screenInput, validationFailed } from "./input-guard.js";

/**
 * Validates `input` against `schema` and returns the parsed value, or throws a
 * {@link CampaignKitError} with code `VALIDATION_FAILED` whose message lists every path and reason and whose
 * `details.issues` holds them as {@link ValidationIssue}s. Never lets a raw ZodError escape.
 *
 * Before the schema walks it, the input's structure is checked (at most 32 levels deep and 100,000 values, no NUL
 * or unpaired surrogate in any string, no `__proto__`, `constructor` or `prototype` key), so hostile input is
 * refused cheaply, with the path of each problem.
 *
 * @param what - what the value is, for the message ("campaign", "channel configuration").
 * @param options - `screen: false` skips the structural check, for a host's own objects (options holding
 * adapters and functions) rather than data from callers.
 */
export function parseWith<S extends ZodType>(
  schema: S,
  input: unknown,
  what: string,
  options: { screen?: boolean } = {},
): z.output<S> {
  const structural = options.screen === false ? [] : screenInput(input);
  if (structural.length > 0) throw validationFailed(what, structural);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  throw validationFailed(what, issues, result.error);
}

export type { ValidationIssue } from "../errors.js";
