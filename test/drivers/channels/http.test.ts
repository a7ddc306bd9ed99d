import { afterEach, describe, expect, it } from "vitest";
import {
  type HttpClientOptions,
  httpClient,
  parseRetryAfter,
  retryAfterFrom,
} from "../../../src/drivers/channels/http.js";
import { PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import { failure } from "../../support/outcomes.js";
import { type StubAnswer, type StubServer, startStubServer } from "./stubs/server.js";

const defaults = { baseUrl: "http://127.0.0.1:1", timeoutMs: 5000, defaultRetryAfterMs: 1000 };

/** How the dispatcher reads an error. */
const kindOf = (error: unknown): string =>
  error instanceof RateLimitedError
    ? "rate-limited"
    : error instanceof PermanentDeliveryError
      ? "permanent"
      : "retryable";

describe("the shared HTTP client of provider channels", () => {
  let stub: StubServer | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });
  const client = async (answer: () => StubAnswer | null, extra: Partial<HttpClientOptions> = {}) => {
    stub = await startStubServer(answer);
    return httpClient({ provider: "Acme", factory: "acmeChannel", defaults, baseUrl: stub.url, ...extra });
  };

  it("sends JSON, form and raw bodies, leaving undefined form fields out", async () => {
    const http = await client(() => ({ status: 200, body: { ok: true } }));
    expect(await http.request({ path: "/j", json: { a: "é" } })).toMatchObject({
      status: 200,
      json: { ok: true },
    });
    await http.request({ path: "/f", form: { To: "+1 555", Skip: undefined, Body: "a&b=c ✓" } });
    await http.request({
      url: `${stub!.url}/raw`,
      method: "PUT",
      body: "plain",
      headers: { "content-type": "text/plain" },
    });
    const [json, form, raw] = stub!.requests;
    expect(json).toMatchObject({ method: "POST", path: "/j", text: '{"a":"é"}' });
    expect(json?.headers).toMatchObject({ "content-type": "application/json", accept: "application/json" });
    expect(form?.headers["content-type"]).toBe("application/x-www-form-urlencoded; charset=utf-8");
    expect(Object.fromEntries(new URLSearchParams(form?.text))).toEqual({ To: "+1 555", Body: "a&b=c ✓" });
    expect(raw).toMatchObject({ method: "PUT", path: "/raw", text: "plain" });
    expect(raw?.headers).toMatchObject({ "content-type": "text/plain" });
    expect(raw?.headers.accept).not.toBe("application/json");
  });

  it.each<[number, string, string]>([
    [429, "rate-limited", "rate-limited"],
    [408, "retryable", "retryable"],
    [500, "retryable", "retryable"],
    [503, "retryable", "retryable"],
    [400, "permanent", "permanent"],
    [422, "permanent", "permanent"],
    [501, "permanent", "permanent"],
    [401, "permanent", "retryable"],
    [403, "permanent", "retryable"],
    [302, "permanent", "retryable"],
  ])("reads %i as %s, or %s when setup faults are retried", async (status, failing, retrying) => {
    const http = await client(() => ({ status, body: { error: "nope" }, headers: { location: "/x" } }));
    const error = await failure(http.request({ path: "/" }));
    expect(kindOf(error)).toBe(failing);
    expect((error as Error).message).toMatch(new RegExp(`^Acme answered ${status}: \\{"error":"nope"\\}`));
    expect((error as Error).cause).toEqual({ status, body: { error: "nope" } });
    const lenient = httpClient({
      provider: "Acme",
      factory: "a",
      defaults,
      baseUrl: stub!.url,
      setupFaults: "retry",
    });
    expect(kindOf(await failure(lenient.request({ path: "/" })))).toBe(retrying);
  });

  it("says refused credentials are to be fixed, and what to check", async () => {
    const http = await client(() => ({ status: 401, body: "bad key" }), { credentials: "the token" });
    const error = await failure(http.request({ path: "/" }));
    expect((error as Error).message).toMatch(
      /Acme refused the credentials: check the token; no message is sent/,
    );
  });

  it("lets the provider's hooks word and classify first, and keeps the answer as the cause", async () => {
    const http = await client(() => ({ status: 400, body: { code: 7 }, headers: { "retry-after": "3" } }), {
      describe: (answer) => `code ${(answer.json as { code: number }).code}`,
      classify: (_answer, detail, retryAfterMs) => new RateLimitedError(detail, { retryAfterMs }),
    });
    const error = (await failure(http.request({ path: "/" }))) as RateLimitedError;
    expect(error.message).toBe("Acme answered 400: code 7");
    expect(error.retryAfterMs).toBe(3000);
    expect(error.cause).toEqual({ status: 400, body: { code: 7 } });
  });

  it("resolves any answer with exchange, and names the provider a call gives", async () => {
    const http = await client(() => ({ status: 404, body: { missing: true } }));
    const answer = await http.exchange({ path: "/" });
    expect(answer).toMatchObject({ status: 404, json: { missing: true } });
    expect(http.failure(answer).message).toMatch(/^Acme answered 404/);
    const named = await failure(http.request({ path: "/", provider: "Webhook http://x" }));
    expect((named as Error).message).toMatch(/^Webhook http:\/\/x answered 404/);
  });

  it("retries a timeout and a refused connection, and rethrows a stop's own reason", async () => {
    const slow = await client(() => null, { timeoutMs: 100 });
    expect(((await failure(slow.request({ path: "/" }))) as Error).message).toBe(
      "Acme did not answer within 100 ms.",
    );
    const stop = new AbortController();
    const pending = failure(slow.request({ path: "/", signal: stop.signal }));
    stop.abort(new Error("stopped"));
    expect(await pending).toEqual(new Error("stopped"));

    const closed = stub!.url;
    await stub!.close();
    stub = undefined;
    const refused = httpClient({ provider: "Acme", factory: "acmeChannel", defaults, baseUrl: closed });
    const error = (await failure(refused.request({ path: "/" }))) as Error;
    expect(kindOf(error)).toBe("retryable");
    expect(error.message).toMatch(/^Request to Acme failed: .*ECONNREFUSED/);
  });

  it("rejects bad shared options with a CampaignKitError naming the factory", () => {
    const bad = (extra: Partial<HttpClientOptions>, text: string) =>
      expect(() => httpClient({ provider: "Acme", factory: "acmeChannel", defaults, ...extra })).toThrow(
        expect.objectContaining({
          name: "CampaignKitError",
          message: expect.stringContaining(`acmeChannel: ${text}`),
        }),
      );
    bad({ timeoutMs: 0 }, "`timeoutMs`");
    bad({ defaultRetryAfterMs: -1 }, "`defaultRetryAfterMs`");
    bad({ baseUrl: "api.acme.test" }, "`baseUrl`");
    bad({ fetch: "nope" as unknown as typeof fetch }, "no `fetch`");
  });
});

describe("reading how long a throttled answer asks to wait", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("falls back to RateLimit-Reset (seconds) and X-RateLimit-Reset (a Unix time, or seconds)", () => {
    const read = (headers: Record<string, string>) => retryAfterFrom(new Headers(headers), now);
    expect(read({ "retry-after": "2", "ratelimit-reset": "9" })).toBe(2000);
    expect(read({ "ratelimit-reset": "9" })).toBe(9000);
    expect(read({ "x-ratelimit-reset": String(now / 1000 + 4) })).toBe(4000);
    expect(read({ "x-ratelimit-reset": "5" })).toBe(5000);
    expect(read({})).toBeUndefined();
  });
});
