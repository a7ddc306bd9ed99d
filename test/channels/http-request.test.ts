import { afterEach, describe, expect, it } from "vitest";
import { httpClient, parseRetryAfter } from "../../src/drivers/channels/http-request.js";
import { PermanentDeliveryError, RateLimitedError } from "../../src/errors.js";
import { type StubReply, type StubServer, startStub } from "./stubs/server.js";

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );
const defaults = { baseUrl: "http://127.0.0.1:1", timeoutMs: 5000, defaultRetryAfterMs: 1000 };

describe("the shared HTTP request helper", () => {
  let stub: StubServer | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });
  const client = async (
    answer: () => StubReply | null,
    extra: Partial<Parameters<typeof httpClient>[0]> = {},
  ) => {
    stub = await startStub(answer);
    return httpClient({ provider: "Acme", factory: "acmeChannel", defaults, baseUrl: stub.url, ...extra });
  };

  it("sends JSON and form bodies, leaving undefined form fields out", async () => {
    const request = await client(() => ({ status: 200, body: { ok: true } }));
    const json = await request({ path: "/j", json: { a: "é" } });
    expect(json).toMatchObject({ status: 200, json: { ok: true } });
    await request({ path: "/f", form: { To: "+1 555", Skip: undefined, Body: "a&b=c ✓" } });
    const [sentJson, sentForm] = stub!.requests;
    expect(sentJson?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(sentJson?.body).toBe('{"a":"é"}');
    expect(sentForm?.headers["content-type"]).toBe("application/x-www-form-urlencoded; charset=utf-8");
    expect(Object.fromEntries(new URLSearchParams(sentForm?.body))).toEqual({
      To: "+1 555",
      Body: "a&b=c ✓",
    });
  });

  it.each<[number, string]>([
    [429, "rate-limited"],
    [408, "retryable"],
    [401, "retryable"],
    [403, "retryable"],
    [302, "retryable"],
    [500, "retryable"],
    [503, "retryable"],
    [400, "permanent"],
    [422, "permanent"],
    [501, "permanent"],
  ])("reads %i by default as %s", async (status, kind) => {
    const request = await client(() => ({ status, body: { error: "nope" }, headers: { location: "/x" } }));
    const error = await failure(request({ path: "/" }));
    expect(error).toBeInstanceOf(Error);
    const actual =
      error instanceof RateLimitedError
        ? "rate-limited"
        : error instanceof PermanentDeliveryError
          ? "permanent"
          : "retryable";
    expect(actual).toBe(kind);
    expect((error as Error).message).toBe(`Acme answered ${status}: {"error":"nope"}`);
  });

  it("lets the provider's hooks word and classify first", async () => {
    const request = await client(() => ({ status: 400, body: { code: 7 } }), {
      errorDetail: (reply) => `code ${(reply.json as { code: number }).code}`,
      classify: (_reply, detail) => new RateLimitedError(detail, { retryAfterMs: 42 }),
    });
    const error = (await failure(request({ path: "/" }))) as RateLimitedError;
    expect(error.message).toBe("Acme answered 400: code 7");
    expect(error.retryAfterMs).toBe(42);
  });

  it("retries a timeout and a refused connection, and rethrows a stop's own reason", async () => {
    const slow = await client(() => null, { timeoutMs: 100 });
    expect(((await failure(slow({ path: "/" }))) as Error).message).toBe(
      "Acme did not answer within 100 ms.",
    );

    const stop = new AbortController();
    const pending = failure(slow({ path: "/", signal: stop.signal }));
    stop.abort(new Error("stopped"));
    expect(await pending).toEqual(new Error("stopped"));

    const closed = stub!.url;
    await stub!.close();
    stub = undefined;
    const refused = httpClient({ provider: "Acme", factory: "acmeChannel", defaults, baseUrl: closed });
    const error = (await failure(refused({ path: "/" }))) as Error;
    expect(error).not.toBeInstanceOf(PermanentDeliveryError);
    expect(error.message).toMatch(/^Acme request failed: .*ECONNREFUSED/);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
