import { randomUUID } from "node:crypto";
import { RateLimitedError } from "../errors.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import type { ChannelAdapter, OutboundMessage, RenderedContent, SendContext } from "../ports/channel.js";
import { vitest } from "./vitest.js";

/**
 * One message as the backend behind an adapter received it: the suite's only way to observe delivery. Build
 * it from what the backend really got (the SMTP envelope and parsed MIME, the HTTP request body...), not from
 * what the adapter was asked to send, or the suite proves nothing.
 */
export interface ReceivedMessage {
  /** The address it was delivered to; absent for webhooks. */
  to?: string | undefined;
  /** The idempotency key the backend saw (a header, a provider field), when the transport carries one. */
  idempotencyKey?: string | undefined;
  /** What arrived, in the shape it was rendered in. */
  content: RenderedContent;
}

/** A fresh adapter and a view of its backend, made by {@link ChannelSuiteOptions.create} for one test. */
export interface ChannelSuiteHarness {
  /** The adapter under test, wired to the backend `received` observes. */
  adapter: ChannelAdapter;
  /** Everything the backend received since `create`, in any order. */
  received: () => Promise<ReceivedMessage[]>;
  /** Called after the test: close servers and clients `create` opened. */
  cleanup?: () => Promise<void>;
  /**
   * The configuration to send with when it depends on what `create` started (a server's URL or port);
   * defaults to {@link ChannelSuiteOptions.configuration}.
   */
  configuration?: ChannelConfiguration;
}

/** Options for {@link runChannelSuite}. */
export interface ChannelSuiteOptions {
  /** The name of the `describe` block. Default `"ChannelAdapter"`. */
  name?: string;
  /** Makes an adapter over an empty, healthy backend; called before each test. */
  create: () => Promise<ChannelSuiteHarness> | ChannelSuiteHarness;
  /** The configuration messages are sent with; its `channel` must be the adapter's. */
  configuration: ChannelConfiguration;
  /**
   * The i-th test message (i from 0), sent with `configuration` (the harness's, else the suite's). Each call
   * must give a distinct id and, except for webhooks, a distinct address. Default: a message rendered for the
   * configuration's channel, with non-ASCII text.
   */
  message?: (i: number, configuration: ChannelConfiguration) => OutboundMessage;
  /**
   * Makes an adapter whose backend fails (refuses connections, answers 5xx...): the suite checks failures
   * reach the caller as errors. Skipped when absent.
   */
  failing?: () => Promise<Omit<ChannelSuiteHarness, "received">> | Omit<ChannelSuiteHarness, "received">;
}

const text = (value: string | undefined): string | undefined =>
  value?.replace(/\r\n/g, "\n").replace(/\s+$/, "");

// Transports legitimately rewrite line endings and trailing whitespace (SMTP's CRLF, MIME encoders); nothing else.
function normalize(content: RenderedContent): RenderedContent {
  switch (content.channel) {
    case "email":
      return {
        channel: "email",
        subject: content.subject,
        html: text(content.html),
        text: text(content.text),
      } as RenderedContent;
    case "webhook":
      return { channel: "webhook", payload: text(content.payload)! };
    default:
      return content;
  }
}

function defaultMessage(configuration: ChannelConfiguration, run: string, i: number): OutboundMessage {
  const base = {
    id: `m:suite:${run}:${i}`,
    campaignId: "suite-campaign",
    executionId: `suite-${run}`,
    recipientId: `p-${i}`,
    category: configuration.purpose,
    configuration,
  } as const;
  switch (configuration.channel) {
    case "email":
      return {
        ...base,
        channel: "email",
        to: `recipient-${i}@example.com`,
        content: {
          channel: "email",
          subject: `Bonjour Zoë, n°${i}`,
          html: `<p>Bonjour <b>Zoë</b> ✓ message ${i}</p>`,
          text: `Bonjour Zoë ✓ message ${i}`,
        },
      };
    case "sms":
      return {
        ...base,
        channel: "sms",
        to: `+1555010${1000 + i}`,
        content: { channel: "sms", body: `Zoë ✓ ${i}` },
      };
    case "push":
      return {
        ...base,
        channel: "push",
        to: `token-${run}-${i}`,
        content: { channel: "push", title: `Zoë ${i}`, body: `✓ message ${i}`, data: { i: String(i) } },
      };
    case "webhook":
      return {
        ...base,
        channel: "webhook",
        content: { channel: "webhook", payload: JSON.stringify({ message: i, text: "Zoë ✓" }) },
      };
  }
}

/**
 * The conformance suite of the {@link ChannelAdapter} contract: registers vitest tests that check the adapter
 * declares a coherent name, channel and capabilities; that `send` delivers exactly what was rendered (content
 * and address, compared up to line endings and trailing whitespace) through the backend; that `sendBatch`, when
 * declared, returns one result per message; that two sends with one idempotency key deliver once when
 * `idempotencyKeys` is declared; that `verify`, when present, resolves against a healthy backend; and, with
 * `failing`, that a failing backend makes `send` throw rather than report success. Every adapter shipped with
 * campaign-kit passes it; run it on yours.
 *
 * Call it at the top level of a vitest test file (it uses `describe`, `it`, `expect` and the hooks).
 *
 * @example
 * ```ts
 * // test/my-sms-channel.test.ts
 * import { runChannelSuite } from "campaign-kit/testing";
 * import { mySmsChannel } from "../src/my-sms-channel.js";
 *
 * runChannelSuite({
 *   name: "mySmsChannel",
 *   configuration: smsConfiguration,
 *   create: async () => {
 *     const sandbox = await startProviderSandbox();
 *     return {
 *       adapter: mySmsChannel({ client: sandbox.client }),
 *       received: async () => (await sandbox.messages()).map((m) => ({ to: m.to, content: { channel: "sms", body: m.body } })),
 *       cleanup: () => sandbox.stop(),
 *     };
 *   },
 * });
 * ```
 */
export function runChannelSuite(options: ChannelSuiteOptions): void {
  const { afterEach, beforeEach, describe, expect, it } = vitest();
  describe(options.name ?? "ChannelAdapter", () => {
    let current: ChannelSuiteHarness | undefined;
    let run = "";
    const harness = (): ChannelSuiteHarness => {
      if (current === undefined)
        throw new Error("runChannelSuite: no adapter; `create` did not run or failed.");
      return current;
    };
    const message = (i: number, from: Omit<ChannelSuiteHarness, "received"> = harness()): OutboundMessage => {
      const configuration = from.configuration ?? options.configuration;
      return options.message?.(i, configuration) ?? defaultMessage(configuration, run, i);
    };
    const context = (key: string): SendContext => ({
      idempotencyKey: key,
      attempt: 1,
      signal: new AbortController().signal,
    });
    const expectReceived = async (messages: OutboundMessage[]): Promise<void> => {
      const byTo = (a: ReceivedMessage, b: ReceivedMessage) =>
        JSON.stringify([a.to, a.content]) < JSON.stringify([b.to, b.content]) ? -1 : 1;
      const received = (await harness().received()).map((r) => ({ to: r.to, content: normalize(r.content) }));
      const expected = messages.map((m) => ({ to: m.to, content: normalize(m.content) }));
      expect(received.sort(byTo)).toEqual(expected.sort(byTo));
    };

    beforeEach(async () => {
      run = randomUUID().slice(0, 8);
      current = await options.create();
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.cleanup?.();
    });

    it("declares a coherent name, channel and capabilities", () => {
      const { adapter } = harness();
      expect(typeof adapter.name).toBe("string");
      expect(adapter.name.length).toBeGreaterThan(0);
      expect(adapter.channel).toBe(options.configuration.channel);
      expect(typeof adapter.capabilities.batch).toBe("boolean");
      expect(typeof adapter.capabilities.idempotencyKeys).toBe("boolean");
      // The dispatcher calls sendBatch exactly when `batch` is declared, so the two must agree.
      expect(typeof adapter.sendBatch === "function").toBe(adapter.capabilities.batch);
      const max = adapter.capabilities.maxBatchSize;
      if (adapter.capabilities.batch && max !== undefined) {
        expect(Number.isInteger(max)).toBe(true);
        expect(max).toBeGreaterThanOrEqual(1);
      }
    });

    it("send delivers exactly what was rendered, to the message's address", async () => {
      const sent = message(0);
      const result = await harness().adapter.send(sent, context(sent.id));
      if (result?.providerMessageId !== undefined) expect(typeof result.providerMessageId).toBe("string");
      await expectReceived([sent]);
      const [received] = await harness().received();
      if (received?.idempotencyKey !== undefined) expect(received.idempotencyKey).toBe(sent.id);
    });

    it("send delivers each of several messages once", async () => {
      const sent = [message(0), message(1), message(2)];
      for (const m of sent) await harness().adapter.send(m, context(m.id));
      await expectReceived(sent);
    });

    it("sendBatch, when declared, returns one result per message and delivers them all", async (test) => {
      const { adapter } = harness();
      if (!adapter.capabilities.batch || adapter.sendBatch === undefined) return test.skip();
      const size = Math.min(adapter.capabilities.maxBatchSize ?? 100, 3);
      const sent = Array.from({ length: size }, (_, i) => message(i));
      const results = await adapter.sendBatch(sent, { attempt: 1, signal: new AbortController().signal });
      expect(results).toHaveLength(sent.length);
      for (const result of results) expect(result).toMatchObject({ ok: true });
      const ids = results.flatMap((r) =>
        r.ok && r.providerMessageId !== undefined ? [r.providerMessageId] : [],
      );
      expect(new Set(ids).size).toBe(ids.length);
      await expectReceived(sent);
    });

    it("idempotencyKeys, when declared: two sends with one key deliver once", async (test) => {
      const { adapter } = harness();
      if (!adapter.capabilities.idempotencyKeys) return test.skip();
      const [first, second] = [message(0), message(1)];
      await adapter.send(first, context(first.id));
      await adapter.send(first, { ...context(first.id), attempt: 2 });
      await adapter.send(second, context(second.id));
      if (adapter.sendBatch !== undefined) {
        const again = await adapter.sendBatch([first, second], {
          attempt: 3,
          signal: new AbortController().signal,
        });
        for (const result of again) expect(result).toMatchObject({ ok: true });
      }
      await expectReceived([first, second]);
    });

    it("verify, when present, resolves against a healthy backend", async (test) => {
      const { adapter } = harness();
      if (adapter.verify === undefined) return test.skip();
      await expect(adapter.verify()).resolves.toBeUndefined();
    });

    it("a failing backend makes send throw an Error, never report success", async (test) => {
      if (options.failing === undefined) return test.skip();
      const failing = await options.failing();
      try {
        const sent = message(0, failing);
        const error = await failing.adapter.send(sent, context(sent.id)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        // Permanent, rate-limited or anything else (retried) are all valid; a rate limit must say how long.
        if (error instanceof RateLimitedError) {
          expect(Number.isFinite(error.retryAfterMs)).toBe(true);
          expect(error.retryAfterMs).toBeGreaterThanOrEqual(0);
        }
        if (failing.adapter.sendBatch !== undefined) {
          const batch = failing.adapter.sendBatch([sent], {
            attempt: 1,
            signal: new AbortController().signal,
          });
          const results = await batch.catch(() => undefined);
          if (results !== undefined) expect(results).toEqual([{ ok: false, error: expect.any(Error) }]);
        }
      } finally {
        await failing.cleanup?.();
      }
    });
  });
}
