/**
 * The checks every channel factory runs on its options, worded alike: each failure is a `CampaignKitError`
 * (`VALIDATION_FAILED`) that names the factory and the option, and says what to pass instead.
 *
 * Internal to campaign-kit: adapters import it, hosts don't.
 */
import { CampaignKitError } from "../../errors.js";

/** The error for a bad option of `factory`: `"<factory>: <message>"`. */
export function optionError(factory: string, message: string): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", `${factory}: ${message}`);
}

/** Checks a duration or a count: finite and at least 0, or above 0 when `positive`. */
export function checkNumber(factory: string, name: string, value: number, positive = false): void {
  if (!(Number.isFinite(value) && (positive ? value > 0 : value >= 0)))
    throw optionError(factory, `\`${name}\` must be a ${positive ? "positive" : "non-negative"} number.`);
}

/** Checks a required string option (an API key, a token). */
export function checkString(factory: string, name: string, value: unknown): void {
  if (typeof value !== "string" || value.trim() === "")
    throw optionError(factory, `\`${name}\` must be a non-empty string.`);
}
