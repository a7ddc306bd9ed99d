/**
 * `campaign-kit/otel`: the kit's {@link Telemetry} over the OpenTelemetry API. It needs `@opentelemetry/api`
 * (an optional peer dependency; install it beside your OpenTelemetry SDK), and only this subpath imports it.
 *
 * @packageDocumentation
 * @module campaign-kit/otel
 */
import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Meter,
  type MeterProvider,
  metrics,
  type Span,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { Telemetry, TelemetryCounter, TelemetrySpan, TelemetrySpanName } from "../ports/telemetry.js";

export type {
  Telemetry,
  TelemetryAttributes,
  TelemetryCounter,
  TelemetrySpan,
  TelemetrySpanName,
} from "../ports/telemetry.js";

/** The instrumentation scope's name: how the spans and metrics name their source. */
export const INSTRUMENTATION_NAME = "campaign-kit";

/** Options for {@link openTelemetry}; without any, the global tracer and meter providers are used. */
export interface OpenTelemetryOptions {
  /** The tracer to open spans with; defaults to one from `tracerProvider`. */
  tracer?: Tracer;
  /** Where the default tracer comes from; defaults to the global provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** The meter to make the counters with; defaults to one from `meterProvider`. */
  meter?: Meter;
  /** Where the default meter comes from; defaults to the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
}

/** The counters' names and descriptions: OpenTelemetry's dotted names, `{message}` as the unit. */
export const MESSAGE_COUNTERS: Readonly<Record<TelemetryCounter, { name: string; description: string }>> = {
  sent: {
    name: "campaign_kit.messages.sent",
    description: "Messages the provider accepted, recorded in the ledger.",
  },
  failed: {
    name: "campaign_kit.messages.failed",
    description: "Messages that failed for good: permanent errors, retries or throttling retries used up.",
  },
  excluded: {
    name: "campaign_kit.messages.excluded",
    description:
      "Messages not attempted because an exclusion rule applied (`campaign_kit.reason` says which).",
  },
};

/** A span this telemetry opened: the OpenTelemetry span inside the kit's handle. */
class OpenTelemetrySpan implements TelemetrySpan {
  constructor(readonly span: Span) {}

  setAttributes(attributes: Attributes): void {
    this.span.setAttributes(attributes);
  }

  fail(error: unknown): void {
    const exception = error instanceof Error ? error : new Error(String(error));
    this.span.recordException(exception);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
  }

  end(): void {
    this.span.end();
  }
}

/**
 * The kit's telemetry over OpenTelemetry: pass it as `createCampaignKit({ telemetry: openTelemetry() })`.
 *
 * Spans: `campaign-kit.trigger` (an API trigger call; a child of whatever span is active when you call
 * `executions.trigger*`, such as your HTTP server's), `campaign-kit.execution` (one pass of an execution in
 * this process; a child of its trigger's span, or a root for a scheduled occurrence) and
 * `campaign-kit.batch` (a batch of recipients through one action; a child of its execution's span).
 * Attributes name the campaign, execution, channel and counts (`campaign_kit.*`), never a recipient.
 *
 * Counters: `campaign_kit.messages.sent`, `campaign_kit.messages.failed` and
 * `campaign_kit.messages.excluded`, by `campaign_kit.channel` and `campaign_kit.category` (and
 * `campaign_kit.reason` for exclusions), added to once per ledger write.
 *
 * With an OpenTelemetry context manager registered (the Node SDK registers AsyncLocalStorage's), storage
 * and provider calls that other instrumentation traces (`pg`, `undici`) nest under the trigger or batch span
 * they run in.
 *
 * @example
 * ```ts
 * import { openTelemetry } from "campaign-kit/otel";
 * const kit = await createCampaignKit({ telemetry: openTelemetry(), ...rest });
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Telemetry {
  const tracer =
    options.tracer ?? (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const meter =
    options.meter ?? (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const counters = {} as Record<TelemetryCounter, Counter>;
  for (const [counter, { name, description }] of Object.entries(MESSAGE_COUNTERS)) {
    counters[counter as TelemetryCounter] = meter.createCounter(name, { description, unit: "{message}" });
  }
  const contextOf = (parent: TelemetrySpan | undefined): Context =>
    parent instanceof OpenTelemetrySpan ? trace.setSpan(context.active(), parent.span) : context.active();
  return {
    startSpan(name: TelemetrySpanName, { attributes, parent }) {
      return new OpenTelemetrySpan(tracer.startSpan(name, { attributes }, contextOf(parent)));
    },
    withSpan(span, work) {
      return span instanceof OpenTelemetrySpan
        ? context.with(trace.setSpan(context.active(), span.span), work)
        : work();
    },
    count(counter, value, attributes) {
      counters[counter].add(value, attributes);
    },
  };
}
