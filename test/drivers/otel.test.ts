import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  type DataPoint,
  MeterProvider,
  MetricReader,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { openTelemetry } from "../../src/drivers/otel.js";
import type { CampaignDraftInput } from "../../src/model/campaign.js";
import type { Storage } from "../../src/ports/storage.js";
import { ADMIN, people, promotion } from "../kit/fixtures.js";
import { observedKit } from "../kit/support/observe.js";
import { rejection } from "../support/outcomes.js";
import { storageTargets } from "../support/storages.js";

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown() {}
  protected override async onForceFlush() {}
}

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

function otel() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const telemetry = openTelemetry({ tracerProvider, meterProvider });
  /** Each counter's points, as `{ attributes, value }`. */
  const counters = async () => {
    const { resourceMetrics } = await reader.collect();
    const out: Record<string, { attributes: Record<string, unknown>; value: number }[]> = {};
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics as SumMetricData[])
        out[metric.descriptor.name] = metric.dataPoints.map((p: DataPoint<number>) => ({
          attributes: p.attributes,
          value: p.value,
        }));
    return out;
  };
  return { telemetry, spans, counters, tracerProvider };
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;

const reset: CampaignDraftInput & { id: string } = {
  id: "reset",
  type: "api-triggered",
  category: "transactional",
  name: "Password reset",
  identityNamespace: "email",
  actions: [
    {
      channel: "email",
      channelConfigurationId: "email-transactional",
      content: { subject: "Reset, {{profile.firstName}}", text: "Use {{context.link}}" },
    },
  ],
};

async function kitWithReset(storage: Storage, telemetry: ReturnType<typeof openTelemetry>) {
  const { kit } = await observedKit(storage, { size: 3, telemetry });
  await kit.configurations.register({
    actor: ADMIN,
    configuration: {
      id: "email-transactional",
      name: "Transactional",
      channel: "email",
      purpose: "transactional",
      status: "active",
      settings: {
        fromName: "Acme",
        fromAddress: "no-reply@mail.acme.example",
        subdomain: "mail.acme.example",
      },
    },
  });
  await kit.campaigns.create({ actor: ADMIN, campaign: reset });
  await kit.campaigns.activate({ actor: ADMIN, id: "reset" });
  return kit;
}

describe.each(storageTargets("OpenTelemetry"))("campaign-kit/otel on $name storage", (target) => {
  it("traces a trigger, its execution and its batch as one trace, under the caller's span", async () => {
    const { telemetry, spans, tracerProvider } = otel();
    const kit = await kitWithReset(await target.create(), telemetry);
    const request = await tracerProvider.getTracer("host").startActiveSpan("POST /reset", async (root) => {
      try {
        return await kit.executions.triggerUnitary({
          actor: ADMIN,
          request: {
            requestId: "r1",
            campaignId: "reset",
            recipients: [
              { type: "aep", namespace: "email", userId: "p1@example.com", context: { link: "x" } },
            ],
          },
        });
      } finally {
        root.end();
      }
    });
    await kit.executions.wait({ id: request.executionId });
    const finished = spans.getFinishedSpans();
    const [host] = named(finished, "POST /reset");
    const [trigger] = named(finished, "campaign-kit.trigger");
    const [execution] = named(finished, "campaign-kit.execution");
    const batches = named(finished, "campaign-kit.batch");
    expect(batches).toHaveLength(1);
    expect(parentOf(trigger)).toBe(host?.spanContext().spanId);
    expect(parentOf(execution)).toBe(trigger?.spanContext().spanId);
    expect(parentOf(batches[0])).toBe(execution?.spanContext().spanId);
    expect(new Set(finished.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(trigger?.attributes).toMatchObject({
      "campaign_kit.trigger.kind": "unitary",
      "campaign_kit.campaign.id": "reset",
      "campaign_kit.execution.id": request.executionId,
      "campaign_kit.trigger.recipients": 1,
      "campaign_kit.execution.created": true,
    });
    expect(execution?.attributes).toMatchObject({
      "campaign_kit.execution.kind": "unitary",
      "campaign_kit.execution.status": "succeeded",
      "campaign_kit.messages.sent": 1,
    });
    expect(batches[0]?.attributes).toMatchObject({
      "campaign_kit.channel": "email",
      "campaign_kit.category": "transactional",
      "campaign_kit.batch.recipients": 1,
      "campaign_kit.messages.sent": 1,
    });
    // Never a recipient in a span.
    expect(JSON.stringify(finished.map((s) => s.attributes))).not.toMatch(/@example\.com|p1\b/);
  });

  it("counts a scheduled send's messages by channel, category and exclusion reason, one batch span each", async () => {
    const { telemetry, spans, counters } = otel();
    const members = people(120).map((p, i) => (i % 10 === 0 ? { ...p, consent: { email: false } } : p));
    const { kit } = await observedKit(await target.create(), { members, size: 120, telemetry });
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    await kit.scheduler.tick();

    const finished = spans.getFinishedSpans();
    const [execution] = named(finished, "campaign-kit.execution");
    expect(parentOf(execution)).toBeUndefined();
    expect(execution?.attributes).toMatchObject({
      "campaign_kit.campaign.id": "sale",
      "campaign_kit.execution.kind": "occurrence",
      "campaign_kit.execution.status": "succeeded",
      "campaign_kit.execution.targeted": 120,
      "campaign_kit.messages.sent": 108,
      "campaign_kit.messages.excluded": 12,
    });
    const batches = named(finished, "campaign-kit.batch");
    expect(batches).toHaveLength(3); // 120 recipients in batches of 50
    expect(batches.every((b) => parentOf(b) === execution?.spanContext().spanId)).toBe(true);
    expect(batches.reduce((n, b) => n + Number(b.attributes["campaign_kit.messages.sent"]), 0)).toBe(108);

    const metrics = await counters();
    const by = { "campaign_kit.channel": "email", "campaign_kit.category": "marketing" };
    expect(metrics["campaign_kit.messages.sent"]).toEqual([{ attributes: by, value: 108 }]);
    expect(metrics["campaign_kit.messages.excluded"]).toEqual([
      { attributes: { ...by, "campaign_kit.reason": "no-consent" }, value: 12 },
    ]);
    expect(metrics["campaign_kit.messages.failed"] ?? []).toEqual([]);
  });
});

describe("campaign-kit/otel", () => {
  it("marks a refused trigger's span failed with its code, and counts failures", async () => {
    const { telemetry, spans, counters } = otel();
    const email = memoryChannel({ channel: "email", failFor: () => "permanent" });
    const { kit } = await observedKit(memoryStorage(), {
      size: 5,
      telemetry,
      channels: [email, memoryChannel({ channel: "sms" })],
    });
    const refusal = await rejection(
      kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId: "r1",
          campaignId: "nope",
          recipients: [{ type: "aep", namespace: "email", userId: "a@example.com" }],
        },
      }),
    );
    expect(refusal).toMatchObject({ code: "NOT_FOUND" });
    const [trigger] = named(spans.getFinishedSpans(), "campaign-kit.trigger");
    expect(trigger?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(trigger?.attributes["campaign_kit.error.code"]).toBe("NOT_FOUND");
    expect(trigger?.events.some((e) => e.name === "exception")).toBe(true);

    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    await kit.scheduler.tick();
    const [execution] = named(spans.getFinishedSpans(), "campaign-kit.execution");
    expect(execution?.status.code).toBe(2);
    expect(execution?.attributes["campaign_kit.execution.status"]).toBe("failed");
    expect((await counters())["campaign_kit.messages.failed"]).toEqual([
      { attributes: { "campaign_kit.channel": "email", "campaign_kit.category": "marketing" }, value: 5 },
    ]);
  });

  it("uses the global providers by default, and a no-op API traces nothing without failing", async () => {
    const { kit } = await observedKit(memoryStorage(), { size: 2, telemetry: openTelemetry() });
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "sale" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "sale" });
    await kit.scheduler.tick();
    expect((await kit.reports.campaign({ actor: ADMIN, id: "sale" })).outcomes.sent).toBe(2);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
