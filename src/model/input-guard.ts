import type { ValidationIssue } from "../errors.js";
import { CampaignKitError } from "../errors.js";

/**
 * Bounds on untrusted input, checked by {@link screenInput} before any schema walks it, so that hostile
 * shapes (nesting thousands of levels deep, a million empty objects) cost a bounded amount of work and are
 * refused with an issue rather than a stack overflow or a blocked event loop.
 */
export interface InputLimits {
  /** The deepest nesting of objects and arrays; the input itself is level 0. */
  maxDepth: number;
  /**
   * The most values in all: every object, array, member and item. This also bounds array lengths and key
   * counts, which is what makes walking an input cheap.
   */
  maxValues: number;
  /** The longest string or key, in UTF-16 code units. */
  maxStringLength: number;
}

/**
 * The limits every kit input is held to. Generous for real payloads (20 recipients with 200 KB contexts fit),
 * small enough that checking them takes milliseconds.
 */
export const INPUT_LIMITS: Readonly<InputLimits> = {
  maxDepth: 32,
  maxValues: 100_000,
  maxStringLength: 1_000_000,
};

// Enough to show a caller what to fix; listing more would only make a hostile input cost more to answer.
const MAX_ISSUES = 10;
// Keys that reach an object's prototype when copied with `obj[key] = value`: refused, never silently dropped.
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Long keys are shown shortened in issue paths, so an answer never echoes a huge key back.
const MAX_PATH_SEGMENT = 64;

/**
 * The `VALIDATION_FAILED` error for `issues` found in `what`: its message lists every path and reason, and
 * `details.issues` holds them.
 */
export function validationFailed(what: string, issues: ValidationIssue[], cause?: unknown): CampaignKitError {
  const lines = issues.map((issue) => `  - ${issue.path || "(root)"}: ${issue.message}`).join("\n");
  return new CampaignKitError("VALIDATION_FAILED", `Invalid ${what}:\n${lines}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { issues },
  });
}

/**
 * Whether `text` holds a UTF-16 surrogate without its pair: valid in a JavaScript string, but no UTF-8 (so no
 * database, file or wire format) can hold it.
 */
export function hasUnpairedSurrogate(text: string): boolean {
  return UNPAIRED_SURROGATE.test(text);
}

/** Why `text` can't be stored as a string or key, or `undefined` when it can. */
function stringIssue(text: string, limits: InputLimits): string | undefined {
  if (text.length > limits.maxStringLength) {
    return `At most ${limits.maxStringLength} characters; this one has ${text.length}`;
  }
  if (text.includes("\u0000")) return "Can't contain the NUL character (\\u0000)";
  if (hasUnpairedSurrogate(text)) return "Can't contain an unpaired UTF-16 surrogate (invalid Unicode)";
  return undefined;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number;
}

function pathOf(frame: Frame): string {
  const segments: string[] = [];
  for (let at: Frame | undefined = frame; at?.parent; at = at.parent) {
    const key = String(at.key);
    segments.push(key.length > MAX_PATH_SEGMENT ? `${key.slice(0, MAX_PATH_SEGMENT)}...` : key);
  }
  return segments.reverse().join(".");
}

function tooManyValues(limits: InputLimits): string {
  return `Too large: more than ${limits.maxValues} values in all (objects, arrays and their contents)`;
}

/** Why `key` can't be a key of an untrusted object, or `undefined` when it can. */
function keyIssue(key: string, limits: InputLimits): string | undefined {
  if (PROTOTYPE_KEYS.has(key))
    return `The key '${key}' is not allowed: it names the object prototype; rename it`;
  const problem = stringIssue(key, limits);
  return problem && `This key: ${problem}`;
}

function valueIssue(value: unknown, limits: InputLimits): string | undefined {
  switch (typeof value) {
    case "string":
      return stringIssue(value, limits);
    case "bigint":
    case "symbol":
    case "function":
      return `Expected a JSON value (string, number, boolean, null, array or object), not a ${typeof value}`;
    default:
      return undefined;
  }
}

/**
 * Checks the structure of untrusted `input` against `limits` without recursion, in work bounded by
 * `maxValues`: nesting depth, value count, string and key lengths, no NUL or unpaired surrogate in any string
 * or key, no `__proto__`, `constructor` or `prototype` key. Returns the issues found (at most 10), each
 * naming its path; empty when the input may go on to its schema.
 */
export function screenInput(input: unknown, limits: InputLimits = INPUT_LIMITS): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report = (frame: Frame, message: string) => issues.push({ path: pathOf(frame), message });
  const stack: Frame[] = [{ value: input, depth: 0, parent: undefined, key: "" }];
  let values = 1;
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const frame = stack.pop() as Frame;
    const { value } = frame;
    const problem = valueIssue(value, limits);
    if (problem) {
      report(frame, problem);
      continue;
    }
    if (typeof value !== "object" || value === null || value instanceof Date) continue;
    if (frame.depth >= limits.maxDepth) {
      report(frame, `Nested deeper than ${limits.maxDepth} levels; flatten it`);
      continue;
    }
    const keys = Array.isArray(value) ? undefined : Object.keys(value);
    values += keys ? keys.length : (value as unknown[]).length;
    if (values > limits.maxValues) {
      report(frame, tooManyValues(limits));
      break;
    }
    const depth = frame.depth + 1;
    if (keys === undefined) {
      const items = value as unknown[];
      for (let i = items.length - 1; i >= 0; i--)
        stack.push({ value: items[i], depth, parent: frame, key: i });
      continue;
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      const child: Frame = { value: (value as Record<string, unknown>)[key], depth, parent: frame, key };
      const problem = keyIssue(key, limits);
      if (problem) report(child, problem);
      else stack.push(child);
    }
  }
  return issues;
}

/**
 * Counts the values in JSON `text` without parsing it, stopping at `maxValues`: parsing a few megabytes of
 * `{}` blocks the event loop for a second, counting them takes milliseconds. Returns the issue when there
 * are too many, else `undefined`; nesting and the rest are for {@link screenInput} once parsed.
 */
export function screenJsonText(
  text: string,
  limits: InputLimits = INPUT_LIMITS,
): ValidationIssue | undefined {
  // values = 1 + commas + non-empty containers, outside strings.
  let values = 1;
  let inString = false;
  let opened = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (opened && c !== 0x7d && c !== 0x5d) values++;
    opened = c === 0x7b || c === 0x5b;
    if (c === 0x22) inString = true;
    else if (c === 0x2c) values++;
    if (values > limits.maxValues) {
      return { path: "", message: tooManyValues(limits) };
    }
  }
  return undefined;
}
