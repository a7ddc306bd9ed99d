/**
 * The HTTP plumbing every provider channel over HTTP shares (Resend, Postmark, SendGrid, Twilio, FCM, the
 * webhook): one request with a JSON, form or raw body, bounded by a timeout and the dispatcher's stop signal;
 * the answer read once (JSON when it parses); a non-2xx answer turned into the error that steers the
 * dispatcher. Providers differ in their auth header, their error bodies and a few statuses: those come in as
 * options and hooks, so an adapter states only what is its provider's own.
 *
 * Internal to campaign-kit: adapters import it, hosts don't.
 */
import { PermanentDeliveryError, RateLimitedError } from "../../errors.js";
import { checkNumber, optionError } from "./options.js";

/** The options every HTTP provider channel accepts. */
export interface HttpChannelOptions {
  /** The `fetch` to call; defaults to the global one. Pass your own for proxies, tracing or tests. */
  fetch?: typeof fetch;
  /** The API's origin, such as `https://api.twilio.com`; point it at a stub or a regional endpoint. */
  baseUrl?: string;
  /** How long one request may take, body included, in ms. A timeout is retried. */
  timeoutMs?: number;
  /** How long to wait after a `429` that names no delay, in ms. */
  defaultRetryAfterMs?: number;
}

/** A provider's answer, read whole. */
export interface HttpAnswer {
  /** The HTTP status. */
  status: number;
  /** The response headers. */
  headers: Headers;
  /** The body as text (at most 256 KB of it). */
  text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

/** One request: a `path` under the client's base URL, or a whole `url`. */
export type HttpCall = ({ path: string } | { url: string }) & {
  /** Defaults to `POST` when there is a body, else `GET`. */
  method?: string;
  /** Headers: auth, idempotency key... `accept` is JSON unless given (and for a raw `body`). */
  headers?: Record<string, string> | Headers;
  /** A JSON body, sent as `application/json`. */
  json?: unknown;
  /** A form body, sent as `application/x-www-form-urlencoded`; `undefined` fields are left out. */
  form?: Record<string, string | undefined>;
  /** A body sent as is, with the `content-type` the headers give. */
  body?: string;
  /** The dispatcher's stop signal: aborting it aborts the request and rethrows its reason. */
  signal?: AbortSignal;
  /** Names the provider in this call's errors instead of the client's `provider` (a webhook's origin). */
  provider?: string;
  /** Skip reading a 2xx answer's body, when nothing in it is needed. */
  ignoreSuccessBody?: boolean;
};

/** What {@link httpClient} needs to know about the provider. */
export interface HttpClientOptions extends HttpChannelOptions {
  /** The provider's name for error messages (`"Twilio"`). */
  provider: string;
  /** The adapter factory's name for option errors (`"twilioChannel"`). */
  factory: string;
  /** The defaults of the shared options; without a `baseUrl`, every call gives a whole `url`. */
  defaults: { baseUrl?: string; timeoutMs: number; defaultRetryAfterMs: number };
  /** The provider's own words for a failure, from its error body; else an excerpt of the body is used. */
  describe?: (answer: HttpAnswer) => string | undefined;
  /**
   * The provider's own rules, applied first: return an error to decide, `undefined` for the general rules.
   * `detail` is the ready-made message (`"Resend answered 422: ..."`), `retryAfterMs` what the headers ask
   * (else the default).
   */
  classify?: (answer: HttpAnswer, detail: string, retryAfterMs: number) => Error | undefined;
  /**
   * What 401, 403 and 3xx mean, the answers that blame the sender's setup (credentials, account, base URL)
   * rather than the message. `"fail"` (the default): a {@link PermanentDeliveryError}, a 401 or 403 saying
   * the credentials were refused and to check `credentials`: a wrong key does not fix itself between retries,
   * and failing fast keeps a campaign from grinding through every recipient's backoff. `"retry"`: a plain,
   * retried `Error`, so a wrong key never marks a whole audience undeliverable. `verify()` catches either
   * before a send.
   */
  setupFaults?: "fail" | "retry";
  /** What to check when the credentials are refused; defaults to `"the API key and its permissions"`. */
  credentials?: string;
}

/** Sends calls to one provider, and reads its answers as the dispatcher needs them. */
export interface HttpClient {
  /** Sends `call` and resolves with the 2xx answer; any other status throws the classified error. */
  request(call: HttpCall): Promise<HttpAnswer>;
  /** Sends `call` and resolves with the answer whatever its status, for answers read case by case. */
  exchange(call: HttpCall): Promise<HttpAnswer>;
  /** The error a non-2xx answer means (see {@link httpClient}). */
  failure(answer: HttpAnswer, provider?: string): Error;
}

/** How much of an answer's body is read: provider answers are small; a larger one is cut, not waited for. */
const MAX_BODY_BYTES = 256 * 1024;
const EXCERPT_LENGTH = 200;
// 4xx statuses where the same request may succeed later: a timeout, "too early".
const RETRYABLE_4XX = new Set([408, 425]);
// 5xx that describe the request rather than the server's health: retrying can't help.
const PERMANENT_5XX = new Set([501, 505]);

/** Whether `status` is a success. */
export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * Validates the shared options (a `CampaignKitError` naming the factory) and returns the client. A stop
 * rethrows the signal's reason as is (a stop is not a delivery failure); a timeout or a network failure
 * throws a plain, retried `Error` naming the provider and the cause. Redirects are not followed: a
 * redirected POST may become a GET without its body. A non-2xx answer, after the provider's `classify`:
 * - 429, and 503 with a delay: {@link RateLimitedError}, waiting what the headers say (see
 *   {@link retryAfterFrom}) or `defaultRetryAfterMs`.
 * - 401, 403, 3xx: as `setupFaults` says.
 * - 408, 425, other 5xx: a plain `Error`, retried.
 * - other 4xx, 501, 505: {@link PermanentDeliveryError} with the provider's words.
 * Every classified error's `cause` is `{ status, body }`, the provider's whole answer, for logs.
 */
export function httpClient(options: HttpClientOptions): HttpClient {
  const { factory, defaults } = options;
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? defaults.defaultRetryAfterMs;
  const baseUrl = (options.baseUrl ?? defaults.baseUrl)?.replace(/\/+$/, "");
  if (typeof doFetch !== "function") throw optionError(factory, "no `fetch`; pass one in `options.fetch`.");
  checkNumber(factory, "timeoutMs", timeoutMs, true);
  checkNumber(factory, "defaultRetryAfterMs", defaultRetryAfterMs);
  if (baseUrl !== undefined && !/^https?:\/\/[^/]/.test(baseUrl))
    throw optionError(factory, `\`baseUrl\` must be an http(s) URL, got "${baseUrl}".`);

  function failure(answer: HttpAnswer, provider = options.provider): Error {
    const { status } = answer;
    const said = options.describe?.(answer) ?? excerpt(answer.text);
    const detail = `${provider} answered ${status}${said ? `: ${said}` : ""}`;
    const told = retryAfterFrom(answer.headers);
    const error =
      options.classify?.(answer, detail, told ?? defaultRetryAfterMs) ??
      byStatus(status, detail, told, provider);
    error.cause ??= { status, body: answer.json ?? answer.text };
    return error;
  }

  function byStatus(status: number, detail: string, told: number | undefined, provider: string): Error {
    if (status === 429 || (status === 503 && told !== undefined))
      return new RateLimitedError(detail, { retryAfterMs: told ?? defaultRetryAfterMs });
    const credentials = status === 401 || status === 403;
    if (options.setupFaults === "retry" && (credentials || (status >= 300 && status < 400)))
      return new Error(detail);
    if (credentials) return credentialsRefused(provider, detail, options.credentials);
    if (RETRYABLE_4XX.has(status) || (status >= 500 && !PERMANENT_5XX.has(status))) return new Error(detail);
    return new PermanentDeliveryError(detail);
  }

  async function exchange(call: HttpCall): Promise<HttpAnswer> {
    const provider = call.provider ?? options.provider;
    const { signal } = call;
    const headers = new Headers(call.headers);
    let body = call.body;
    if (call.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(call.json);
    } else if (call.form !== undefined) {
      headers.set("content-type", "application/x-www-form-urlencoded; charset=utf-8");
      const fields = Object.entries(call.form).filter((e): e is [string, string] => e[1] !== undefined);
      body = new URLSearchParams(fields).toString();
    }
    if (call.body === undefined && !headers.has("accept")) headers.set("accept", "application/json");
    const deadline = { provider, timeoutMs, ...(signal ? { signal } : {}) };
    return withDeadline(
      deadline,
      async (bounded) => {
        const response = await doFetch("url" in call ? call.url : `${baseUrl}${call.path}`, {
          method: call.method ?? (body === undefined ? "GET" : "POST"),
          headers,
          ...(body === undefined ? {} : { body }),
          redirect: "manual",
          signal: bounded,
        });
        const skip = call.ignoreSuccessBody && isSuccess(response.status);
        const text = await readText(response, skip ? 0 : MAX_BODY_BYTES);
        return { status: response.status, headers: response.headers, text, json: parseJson(text) };
      },
      (error) => {
        const reason =
          error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
        return new Error(`Request to ${provider} failed: ${reason}`, { cause: error });
      },
    );
  }

  return {
    exchange,
    failure,
    async request(call) {
      const answer = await exchange(call);
      if (isSuccess(answer.status)) return answer;
      throw failure(answer, call.provider);
    },
  };
}

/**
 * Runs one call to `provider` with a signal that aborts on the dispatcher's `signal` or after `timeoutMs`. A
 * stop rethrows the signal's reason as is (a stop is not a delivery failure); a timeout throws a plain,
 * retried `Error` saying so; any other failure throws what `failed` makes of it.
 */
export async function withDeadline<T>(
  deadline: { provider: string; timeoutMs: number; signal?: AbortSignal },
  call: (signal: AbortSignal) => Promise<T>,
  failed: (error: unknown) => Error,
): Promise<T> {
  const { provider, timeoutMs, signal } = deadline;
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await call(signal ? AbortSignal.any([signal, timeout]) : timeout);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted)
      throw new Error(`${provider} did not answer within ${timeoutMs} ms.`, { cause: error });
    throw failed(error);
  }
}

/**
 * The permanent error for refused credentials, saying what to fix. Exported so providers whose refusals
 * arrive another way (an error code in the body, an SDK exception) word it alike.
 */
export function credentialsRefused(
  provider: string,
  detail: string,
  check = "the API key and its permissions",
  cause?: unknown,
): PermanentDeliveryError {
  return new PermanentDeliveryError(
    `${detail} (${provider} refused the credentials: check ${check}; no message is sent until it is fixed)`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads a `Retry-After` header (a delay in seconds, or an HTTP date) as milliseconds from `now`; `undefined`
 * when absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long a throttled answer asks to wait, in ms: `Retry-After` first, then the IETF draft's
 * `RateLimit-Reset` (seconds until the window resets, as Resend sends it), then `X-RateLimit-Reset` (a Unix
 * time in seconds, as SendGrid sends it; a small number is read as seconds from now). `undefined` when none
 * is usable.
 */
export function retryAfterFrom(headers: Headers, now: number = Date.now()): number | undefined {
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = headers.get("ratelimit-reset")?.trim();
  if (reset !== undefined && /^\d+$/.test(reset)) return Number(reset) * 1000;
  const resetAt = headers.get("x-ratelimit-reset")?.trim();
  if (resetAt !== undefined && /^\d+$/.test(resetAt)) {
    const value = Number(resetAt);
    // Epoch seconds are > 1e9 since 2001; anything smaller is a delay.
    return value > 1e9 ? Math.max(0, value * 1000 - now) : value * 1000;
  }
  return undefined;
}

/** `text` on one line, cut to 200 characters. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
}

/** `value` as a plain object, or `undefined`: for reading provider bodies defensively. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The body of `response` as UTF-8, up to `limit` bytes; the rest is cancelled rather than waited for. A
 * failed read keeps what arrived: after a 2xx the message went, and a connection reset while reading the
 * answer must not turn it into a retried (duplicated) one.
 */
async function readText(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // Keep what arrived.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString("utf8");
}
