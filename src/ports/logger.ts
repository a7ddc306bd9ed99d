/**
 * The logger contract: pino's, so a host passes its pino logger (or a child of it) as it is. Fastify,
 * Next.js's and most Node services' loggers have this shape: `logger.info(obj, msg)`, with `child` to bind
 * fields. campaign-kit always calls the two-argument form, fields first, and never relies on pino's `%s`
 * interpolation, so a thin wrapper around any other logger (winston, console) works too.
 */

/** One level's method: fields about the event (ids, counts, durations), then a short constant message. */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/**
 * A pino-compatible logger. What campaign-kit logs is for operators: executions starting, finishing and
 * failing, retries used up, provider throttling, storage trouble, and at `debug` each scheduler tick. It logs
 * ids (campaign, execution, message, recipient profile id, actor id), counts, durations and error codes, and
 * never message content, addresses, template context or profile attributes.
 *
 * @example
 * ```ts
 * import pino from "pino";
 * const kit = await createCampaignKit({ logger: pino({ level: "info" }), ... });
 * ```
 */
export interface Logger {
  /** Scheduler ticks and other routine detail. */
  debug: LogFn;
  /** Executions starting and finishing, campaigns changing status, approvals. */
  info: LogFn;
  /** Something an operator should look at that the kit handles itself: throttling, retries used up. */
  warn: LogFn;
  /** Something failed: an execution, a scheduler tick, the storage. */
  error: LogFn;
  /**
   * A logger that adds `bindings` to every line. When present, the kit logs through
   * `child({ component: "campaign-kit" })`; otherwise it adds `component` to each line itself.
   */
  child?(bindings: Record<string, unknown>): Logger;
}

const nothing: LogFn = () => {};

/** A logger that writes nothing: the kit's default. */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };

const LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * The logger the kit writes to: the host's, bound to `component: "campaign-kit"`, and made safe, since a
 * logger that throws (a closed destination) must never fail a send or a tick.
 */
export function kitLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger;
  if (made.has(logger)) return logger;
  const bound = typeof logger.child === "function" ? logger.child({ component: "campaign-kit" }) : undefined;
  const safe = {} as Logger;
  for (const level of LEVELS) {
    safe[level] = (fields, message) => {
      try {
        if (bound) bound[level](fields, message);
        else logger[level]({ component: "campaign-kit", ...fields }, message);
      } catch {
        // Nowhere left to report it: the logger itself is what failed.
      }
    };
  }
  made.add(safe);
  return safe;
}

/** The loggers {@link kitLogger} made: the kit hands its own to the dispatcher, which must not bind it twice. */
const made = new WeakSet<Logger>([silentLogger]);

/**
 * What the kit logs about an error: its name and campaign-kit code, and its message unless the error may
 * carry a provider's words about a recipient (an address in a bounce), which stay in the ledger.
 */
export function errorFields(error: unknown, withMessage = true): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: { message: withMessage ? String(error) : undefined } };
  const code = (error as { code?: unknown }).code;
  return {
    error: {
      name: error.name,
      ...(typeof code === "string" ? { code } : {}),
      ...(withMessage ? { message: error.message } : {}),
    },
  };
}
