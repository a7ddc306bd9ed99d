/**
 * The telemetry contract: what the kit and the dispatcher call to trace and count their work, typed here so
 * that nothing in campaign-kit's root entry imports `@opentelemetry/api`. `openTelemetry()` from
 * `campaign-kit/otel` implements it over the OpenTelemetry API (the reference implementation); a host on
 * another tracing system can implement these two methods itself.
 */

/** Attribute values, as OpenTelemetry accepts them. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/**
 * The spans the kit opens:
 * - `campaign-kit.trigger`: an API trigger call (`executions.triggerUnitary` / `triggerAudience`), from the
 *   call to its answer; its execution's span is its child.
 * - `campaign-kit.execution`: one pass of an execution in this process (a resumed execution or a later wave
 *   opens another), from its start to its outcome.
 * - `campaign-kit.batch`: one batch of recipients through one action: ledger read, exclusions, rendering,
 *   provider calls (retries included) and ledger writes.
 */
export type TelemetrySpanName = "campaign-kit.trigger" | "campaign-kit.execution" | "campaign-kit.batch";

/** The counters the dispatcher adds to, once per ledger write: messages `sent`, `failed` and `excluded`. */
export type TelemetryCounter = "sent" | "failed" | "excluded";

/** A span the kit opened, as the kit handles it. */
export interface TelemetrySpan {
  /** Adds attributes (outcome counts, statuses) known only once the work is done. */
  setAttributes(attributes: TelemetryAttributes): void;
  /** Marks the span failed with `error` (recorded as an exception). */
  fail(error: unknown): void;
  /** Ends the span; the kit calls it exactly once. */
  end(): void;
}

/**
 * How the kit traces and counts. Every method is called on the hot path's batch boundaries, never per
 * message, and must not throw.
 */
export interface Telemetry {
  /**
   * Opens a span. `parent` is the span the kit knows it belongs to (an execution's trigger, a batch's
   * execution); without one, an implementation uses whatever context is active (an HTTP request's span
   * around a trigger call), or starts a trace.
   */
  startSpan(
    name: TelemetrySpanName,
    options: { attributes: TelemetryAttributes; parent?: TelemetrySpan | undefined },
  ): TelemetrySpan;
  /**
   * Runs `work` with `span` as the active context, so that spans made inside it by other instrumentation
   * (the `pg` driver's, an HTTP client's) nest under it. Optional: without it they don't.
   */
  withSpan?<T>(span: TelemetrySpan, work: () => T): T;
  /**
   * Adds `value` messages to a counter. Attributes: `campaign_kit.channel`, `campaign_kit.category` and,
   * for `excluded`, `campaign_kit.reason`; never campaign or recipient ids (their cardinality is unbounded).
   */
  count(counter: TelemetryCounter, value: number, attributes: TelemetryAttributes): void;
}

const NO_SPAN: TelemetrySpan = { setAttributes() {}, fail() {}, end() {} };

/**
 * `telemetry` made safe for the kit's path: a method that throws is ignored (a span that can't start becomes
 * a span that records nothing), since tracing trouble must never fail a send. `undefined` stays `undefined`,
 * so the kit skips building attributes when nobody traces.
 */
export function safeTelemetry(telemetry: Telemetry | undefined): Telemetry | undefined {
  if (telemetry === undefined || safeOnes.has(telemetry)) return telemetry;
  const guard = (span: TelemetrySpan): TelemetrySpan => ({
    setAttributes(attributes) {
      try {
        span.setAttributes(attributes);
      } catch {}
    },
    fail(error) {
      try {
        span.fail(error);
      } catch {}
    },
    end() {
      try {
        span.end();
      } catch {}
    },
  });
  const inner = new WeakMap<TelemetrySpan, TelemetrySpan>();
  const safe: Telemetry = {
    startSpan(name, { attributes, parent }) {
      try {
        const span = telemetry.startSpan(name, {
          attributes,
          parent: parent === undefined ? undefined : (inner.get(parent) ?? parent),
        });
        const guarded = guard(span);
        inner.set(guarded, span);
        return guarded;
      } catch {
        return NO_SPAN;
      }
    },
    count(counter, value, attributes) {
      try {
        telemetry.count(counter, value, attributes);
      } catch {}
    },
  };
  if (telemetry.withSpan) {
    const withSpan = telemetry.withSpan.bind(telemetry);
    safe.withSpan = (span, work) => {
      const own = inner.get(span);
      // Only the wrapping can fail before `work` runs; `work`'s own errors pass through.
      return own === undefined ? work() : withSpan(own, work);
    };
  }
  safeOnes.add(safe);
  return safe;
}

/** What {@link safeTelemetry} made: the kit hands its own to the dispatcher, which must not wrap it twice. */
const safeOnes = new WeakSet<Telemetry>();
