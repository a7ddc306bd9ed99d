import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { webhookChannel } from "../../src/drivers/webhook.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../src/errors.js";
import type { ChannelConfiguration } from "../../src/model/channel-configuration.js";
import type { OutboundMessage } from "../../src/ports/channel.js";
import { type ReceivedMessage, runChannelSuite } from "../../src/testing/index.js";
import { failure } from "../support/outcomes.js";

interface Request {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 that records requests and answers with `reply` (default 204). */
async function receiver(reply?: (request: Request, response: ServerResponse) => void) {
  const requests: Request[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(request);
      if (reply) reply(request, res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/in?token=secret`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const configuration = (
  url: string,
  overrides: Partial<{ method: "POST" | "PUT" }> = {},
): ChannelConfiguration => ({
  id: "hook",
  name: "Orders hook",
  purpose: "transactional",
  status: "active",
  channel: "webhook",
  settings: { url, method: overrides.method ?? "POST", headers: { authorization: "Bearer t0ken" } },
});

runChannelSuite({
  name: "webhookChannel",
  configuration: configuration("http://127.0.0.1/"),
  create: async () => {
    // Like a conforming receiver, it acts once per Idempotency-Key and acknowledges repeats.
    const seen = new Set<string>();
    const accepted: ReceivedMessage[] = [];
    const server = await receiver((request, response) => {
      const key = String(request.headers["idempotency-key"]);
      if (!seen.has(key)) {
        seen.add(key);
        accepted.push({ idempotencyKey: key, content: { channel: "webhook", payload: request.body } });
      }
      response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    return {
      adapter: webhookChannel(),
      configuration: configuration(server.url),
      received: async () => accepted,
      cleanup: server.close,
    };
  },
  failing: async () => {
    const server = await receiver((_request, response) => response.writeHead(500).end("boom"));
    return { adapter: webhookChannel(), configuration: configuration(server.url), cleanup: server.close };
  },
});

const message = (config: ChannelConfiguration, payload = '{"order":42}'): OutboundMessage => ({
  id: "m:1:c:1:e:webhook:p1",
  campaignId: "c",
  executionId: "e",
  recipientId: "p1",
  channel: "webhook",
  category: "transactional",
  content: { channel: "webhook", payload },
  configuration: config,
});
const context = (signal = new AbortController().signal) => ({ idempotencyKey: "key-1", attempt: 1, signal });

describe("webhookChannel requests and responses", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  async function serve(reply?: (request: Request, response: ServerResponse) => void) {
    const server = await receiver(reply);
    close = server.close;
    return server;
  }

  it("sends the configured method, headers, idempotency key and content type", async () => {
    const server = await serve();
    const channel = webhookChannel();
    await channel.send(message(configuration(server.url)), context());
    await channel.send(message(configuration(server.url, { method: "PUT" }), "plain words"), context());
    const [json, text] = server.requests;
    expect(json).toMatchObject({ method: "POST", url: "/hooks/in?token=secret", body: '{"order":42}' });
    expect(json?.headers).toMatchObject({
      authorization: "Bearer t0ken",
      "idempotency-key": "key-1",
      "content-type": "application/json",
    });
    expect(text).toMatchObject({ method: "PUT", body: "plain words" });
    expect(text?.headers["content-type"]).toBe("text/plain; charset=utf-8");
  });

  it("maps 429 and 503 with Retry-After (seconds or HTTP date) to RateLimitedError", async () => {
    const server = await serve((request, response) => {
      if (request.body === '"seconds"') response.writeHead(429, { "retry-after": "7" }).end();
      else if (request.body === '"bare"') response.writeHead(429).end();
      else response.writeHead(503, { "retry-after": new Date(Date.now() + 30_000).toUTCString() }).end();
    });
    const channel = webhookChannel({ defaultRetryAfterMs: 2500 });
    const seconds = await failure(channel.send(message(configuration(server.url), '"seconds"'), context()));
    expect(seconds).toBeInstanceOf(RateLimitedError);
    expect((seconds as RateLimitedError).retryAfterMs).toBe(7000);
    const bare = await failure(channel.send(message(configuration(server.url), '"bare"'), context()));
    expect((bare as RateLimitedError).retryAfterMs).toBe(2500);
    const date = await failure(channel.send(message(configuration(server.url), '"date"'), context()));
    expect(date).toBeInstanceOf(RateLimitedError);
    expect((date as RateLimitedError).retryAfterMs).toBeGreaterThan(25_000);
    expect((date as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it.each([408, 425, 500, 502, 503, 504])("retries %i with a plain Error", async (status) => {
    const server = await serve((_request, response) => response.writeHead(status).end("try later"));
    const error = await failure(webhookChannel().send(message(configuration(server.url)), context()));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentDeliveryError);
    expect(error).not.toBeInstanceOf(RateLimitedError);
    expect((error as Error).message).toContain(String(status));
  });

  it.each([400, 401, 404, 422, 301, 501])(
    "fails %i permanently, with the status and a body excerpt",
    async (status) => {
      const body = `{"error":"bad order","detail":"${"x".repeat(500)}"}`;
      const server = await serve((_request, response) =>
        response.writeHead(status, { location: "http://127.0.0.1:1/elsewhere" }).end(body),
      );
      const error = await failure(webhookChannel().send(message(configuration(server.url)), context()));
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      const text = (error as Error).message;
      expect(text).toContain(`answered ${status}`);
      expect(text).toContain('{"error":"bad order"');
      expect(text.length).toBeLessThan(300);
      expect(text).not.toContain("secret");
    },
  );

  it("retries a timeout and a refused connection", async () => {
    const server = await serve(() => {}); // never answers
    const slow = await failure(
      webhookChannel({ timeoutMs: 100 }).send(message(configuration(server.url)), context()),
    );
    expect(slow).toBeInstanceOf(Error);
    expect(slow).not.toBeInstanceOf(PermanentDeliveryError);
    expect((slow as Error).message).toContain("did not answer within 100 ms");

    const gone = await receiver();
    await gone.close();
    const refused = await failure(webhookChannel().send(message(configuration(gone.url)), context()));
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(PermanentDeliveryError);
    expect((refused as Error).message).toMatch(/failed: .*ECONNREFUSED/);
    expect((refused as Error).message).not.toContain("secret");
  });

  it("aborts a request in flight when the dispatch stops", async () => {
    const stop = new AbortController();
    // The receiver never answers: the dispatch stops once the request has arrived, so it is in flight.
    const server = await serve(() => stop.abort(new Error("stopped")));
    const pending = failure(webhookChannel().send(message(configuration(server.url)), context(stop.signal)));
    expect(await pending).toEqual(new Error("stopped"));
    expect(server.requests).toHaveLength(1);
  });

  it("calls the fetch it is given", async () => {
    const server = await serve();
    const calls: string[] = [];
    const traced: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    await webhookChannel({ fetch: traced }).send(message(configuration(server.url)), context());
    expect(calls).toEqual([server.url]);
    expect(server.requests).toHaveLength(1);
  });

  it("rejects bad options with a CampaignKitError", () => {
    expect(() => webhookChannel({ timeoutMs: 0 })).toThrow(CampaignKitError);
    expect(() => webhookChannel({ defaultRetryAfterMs: -1 })).toThrow(CampaignKitError);
  });
});
