/**
 * The HTTP plumbing that provider channels (Twilio, FCM...) share: one request to a JSON or form API, bounded
 * by a deadline and the dispatch's abort signal, and the default reading of an error answer as the error that
 * steers the dispatcher. A channel only adds what is its provider's own: the path, the auth header, and how
 * to read the provider's error body (`errorDetail`, `classify`).
 */
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../errors.js";

/** The options every HTTP provider channel (Twilio, FCM...) accepts. */
export interface HttpChannelOptions {
  /** The `fetch` to call; defaults to the global one. Pass your own for proxies, tracing or tests. */
  fetch?: typeof fetch;
  /** The API's origin, such as `https://api.twilio.com`; point it at a stub or a regional endpoint. */
  baseUrl?: string;
  /** How long one request may take, body included, in ms. A timeout is retried. */
  timeoutMs?: number;
  /** How long to wait after a `429` without a usable `Retry-After`, in ms. */
  defaultRetryAfterMs?: number;
}

/** One provider answer, body read. */
export interface HttpReply {
  /** The HTTP status. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: unknown;
  /** The `Retry-After` header in ms from now, when present and readable. */
  retryAfterMs: number | undefined;
}

/** One request, relative to the client's base URL. */
export interface HttpCall {
  /** Defaults to `POST`. */
  method?: "GET" | "POST";
  /** The path and query, starting with `/`. */
  path: string;
  /** Extra headers (authorization...). */
  headers?: Record<string, string>;
  /** A JSON body, sent as `application/json`. */
  json?: unknown;
  /** A form body, sent as `application/x-www-form-urlencoded`; `undefined` fields are left out. */
  form?: Record<string, string | undefined>;
  /** The dispatch's signal: aborting it cancels the request and rethrows its reason. */
  signal?: AbortSignal;
}

/** What {@link httpClient} needs to know about the provider. */
export interface HttpClientOptions extends HttpChannelOptions {
  /** The provider's name for error messages (`"Twilio"`). */
  provider: string;
  /** The adapter factory's name for option errors (`"twilioChannel"`). */
  factory: string;
  /** Defaults for `baseUrl`, `timeoutMs` and `defaultRetryAfterMs`. */
  defaults: { baseUrl: string; timeoutMs: number; defaultRetryAfterMs: number };
  /** The provider's own reading of an error body for messages (`"21211 The 'To' number is not valid"`). */
  errorDetail?: (reply: HttpReply) => string | undefined;
  /** The provider's own classification, tried first; `undefined` falls back to {@link httpError}. */
  classify?: (reply: HttpReply, detail: string) => Error | undefined;
}

/**
 * Reads a `Retry-After` header (a delay in seconds, or an HTTP date) as milliseconds from `now`; `undefined`
 * when absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const EXCERPT_LENGTH = 200;
const excerpt = (body: string): string => {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
};

// 4xx where the same request may succeed later: a timeout, "too early".
const RETRYABLE_4XX = new Set([408, 425]);
// 401 and 403 blame the credentials or the account, not the recipient: the message is retried (and ends failed
// if nobody fixes them), so a wrong key never marks a whole audience undeliverable. verify() catches it early.
const ACCOUNT_4XX = new Set([401, 403]);
// 5xx that describe the request rather than the server's health: retrying can't help.
const PERMANENT_5XX = new Set([501, 505]);

/**
 * The default reading of a non-2xx answer: `429`, and `503` with a `Retry-After`, are a
 * {@link RateLimitedError}; `408`, `425`, `401`, `403`, `3xx` and `5xx` (but `501`, `505`) a plain, retried
 * `Error`; other statuses a {@link PermanentDeliveryError}. `detail` becomes the message.
 */
export function httpError(reply: HttpReply, detail: string, defaultRetryAfterMs: number): Error {
  const { status, retryAfterMs } = reply;
  const cause = causeOf(reply);
  if (status === 429)
    return new RateLimitedError(detail, { retryAfterMs: retryAfterMs ?? defaultRetryAfterMs, cause });
  if (status === 503 && retryAfterMs !== undefined)
    return new RateLimitedError(detail, { retryAfterMs, cause });
  const retryable =
    RETRYABLE_4XX.has(status) ||
    ACCOUNT_4XX.has(status) ||
    (status >= 300 && status < 400) ||
    (status >= 500 && !PERMANENT_5XX.has(status));
  return retryable ? new Error(detail, { cause }) : new PermanentDeliveryError(detail, { cause });
}

/** The `cause` a classified error carries: the status and the provider's body, for whoever logs it. */
export function causeOf(reply: HttpReply): { status: number; body: unknown } {
  return { status: reply.status, body: reply.json ?? reply.text };
}

const positive = (value: number) => Number.isFinite(value) && value > 0;
const nonNegative = (value: number) => Number.isFinite(value) && value >= 0;

/**
 * Validates the shared options and returns `request`, which sends one call and resolves with the reply when
 * the status is 2xx; otherwise it throws the classified error (see {@link httpError}). A network failure or a
 * timeout throws a plain, retried `Error`; an aborted `signal` throws its reason untouched, since a stop is not
 * a delivery failure. Redirects are not followed.
 */
export function httpClient(options: HttpClientOptions): (call: HttpCall) => Promise<HttpReply> {
  const { provider, factory, defaults } = options;
  const invalid = (message: string) => new CampaignKitError("VALIDATION_FAILED", `${factory}: ${message}`);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? defaults.defaultRetryAfterMs;
  const baseUrl = (options.baseUrl ?? defaults.baseUrl).replace(/\/+$/, "");
  if (typeof doFetch !== "function") throw invalid("no `fetch`; pass one in `options.fetch`.");
  if (!positive(timeoutMs)) throw invalid("`timeoutMs` must be a positive number.");
  if (!nonNegative(defaultRetryAfterMs))
    throw invalid("`defaultRetryAfterMs` must be a non-negative number.");
  if (!/^https?:\/\/[^/]/.test(baseUrl))
    throw invalid(`\`baseUrl\` must be an http(s) URL, got "${baseUrl}".`);

  return async function request(call: HttpCall): Promise<HttpReply> {
    const headers = new Headers(call.headers);
    headers.set("accept", "application/json");
    let body: string | undefined;
    if (call.json !== undefined) {
      headers.set("content-type", "application/json; charset=utf-8");
      body = JSON.stringify(call.json);
    } else if (call.form !== undefined) {
      headers.set("content-type", "application/x-www-form-urlencoded; charset=utf-8");
      const fields = Object.entries(call.form).filter((e): e is [string, string] => e[1] !== undefined);
      body = new URLSearchParams(fields).toString();
    }
    call.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    let reply: HttpReply;
    try {
      const response = await doFetch(`${baseUrl}${call.path}`, {
        method: call.method ?? "POST",
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: "manual",
        signal,
      });
      const text = await response.text();
      reply = {
        status: response.status,
        headers: response.headers,
        text,
        json: parseJson(text),
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), Date.now()),
      };
    } catch (error) {
      if (call.signal?.aborted) throw call.signal.reason;
      if (timeout.aborted)
        throw new Error(`${provider} did not answer within ${timeoutMs} ms.`, { cause: error });
      const reason =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new Error(`${provider} request failed: ${reason}`, { cause: error });
    }
    if (reply.status >= 200 && reply.status < 300) return reply;
    const said = options.errorDetail?.(reply) ?? excerpt(reply.text);
    const detail = `${provider} answered ${reply.status}${said ? `: ${said}` : ""}`;
    throw options.classify?.(reply, detail) ?? httpError(reply, detail, defaultRetryAfterMs);
  };
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `value` as a plain object, or `undefined`: for reading provider bodies defensively. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
