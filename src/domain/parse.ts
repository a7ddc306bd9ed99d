import type { ZodType, z } from "zod";
import { CampaignKitError } from "../errors.js";

/** One reason a value failed validation. */
export interface ValidationIssue {
  /** Where the problem is, as a dotted path (`actions.0.content.subject`); empty for the whole value. */
  path: string;
  /** What is wrong there, in words. */
  message: string;
}

/**
 * Validates `input` against `schema` and returns the parsed value, or throws a
 * {@link CampaignKitError} with code `VALIDATION_FAILED` whose message lists every path and reason and whose
 * `details.issues` holds them as {@link ValidationIssue}s. Never lets a raw ZodError escape.
 *
 * @param what - what the value is, for the message ("campaign", "channel configuration").
 */
export function parseWith<S extends ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const lines = issues.map((issue) => `  - ${issue.path || "(root)"}: ${issue.message}`).join("\n");
  throw new CampaignKitError("VALIDATION_FAILED", `Invalid ${what}:\n${lines}`, {
    cause: result.error,
    details: { issues },
  });
}
