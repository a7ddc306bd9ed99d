/**
 * A bound on what rendering one message may cost. Templates come from campaign authors and data from trigger
 * callers: nested `{{#each}}` over a 3,000-item context once made 9 MB per recipient, and 106 KB of context
 * became 204 MB. Rendering is synchronous, so the budget of the message being rendered is module state,
 * charged by the block helpers that loop (`each`, and sections, which Handlebars runs through `each`) and by
 * the helpers that copy data into the output (`json`); the caller checks the finished content's size too.
 */

/** Thrown when rendering one message would exceed its budget; the dispatcher excludes it as `render-too-large`. */
export class RenderTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderTooLargeError";
  }
}

/** The default size of one rendered message, all fields together, in characters: 1,000,000. */
export const DEFAULT_MAX_MESSAGE_CHARS = 1_000_000;
/** How many `{{#each}}` iterations one message may run, nested ones included. */
export const MAX_RENDER_ITERATIONS = 10_000;

interface Budget {
  chars: number;
  iterations: number;
  readonly maxChars: number;
}

let active: Budget | undefined;

/** Runs `render` under a budget of `maxChars` characters and {@link MAX_RENDER_ITERATIONS} iterations. */
export function withinBudget<T>(maxChars: number, render: () => T): T {
  const outer = active;
  active = { chars: 0, iterations: 0, maxChars };
  try {
    return render();
  } finally {
    active = outer;
  }
}

/** Charges the active budget; throws {@link RenderTooLargeError} once it is spent. No-op outside a render. */
export function spend(chars: number, iterations = 0): void {
  if (active === undefined) return;
  active.chars += chars;
  active.iterations += iterations;
  if (active.iterations > MAX_RENDER_ITERATIONS) {
    throw new RenderTooLargeError(
      `The template loops more than ${MAX_RENDER_ITERATIONS} times for one message`,
    );
  }
  // Block bodies are counted at every level they are concatenated into, hence the margin over the cap.
  if (active.chars > active.maxChars * 4) {
    throw new RenderTooLargeError(`The message grows past ${active.maxChars} characters while rendering`);
  }
}
