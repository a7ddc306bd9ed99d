/**
 * The HTTP plumbing every JSON-over-HTTP provider channel shares: one request with a timeout and the
 * dispatcher's stop signal, the answer read once (JSON when it parses), and the answer turned into the error
 * that steers the dispatcher. Providers differ in their auth header, their error bodies and a few statuses;
 * those come in as options and hooks, so an adapter states only what is particular to its provider.
 *
 * Internal to campaign-kit: adapters import it, hosts don't.
 */
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../errors.js";

/** How much of an answer's body is read: provider answers are small; a larger one is cut, not waited for. */
const MAX_BODY_BYTES = 256 * 1024;
const EXCERPT_LENGTH = 200;

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

/** One JSON request to a provider. */
export interface JsonRequest {
  /** The provider's name, for error messages (`"Resend"`). */
  provider: string;
  /** The `fetch` to call. */
  fetch: typeof fetch;
  /** The full URL. */
  url: string;
  /** Defaults to `POST` when there is a body, else `GET`. */
  method?: string;
  /** Headers: auth, idempotency key... `content-type` and `accept` are set for JSON unless given. */
  headers?: Record<string, string>;
  /** Serialized as JSON. */
  body?: unknown;
  /** The dispatcher's stop signal: aborting it aborts the request and rethrows its reason. */
  signal?: AbortSignal;
  /** How long the request may take, body included, in ms. */
  timeoutMs: number;
}

/**
 * Sends one JSON request and reads the answer, whatever its status. A stop rethrows the signal's reason as
 * is (a stop is not a delivery failure); a timeout or a network failure throws a plain, retried `Error`
 * naming the provider and the cause.
 */
export async function requestJson(request: JsonRequest): Promise<HttpAnswer> {
  const { provider, signal, timeoutMs } = request;
  signal?.throwIfAborted();
  const headers = new Headers(request.headers);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  if (request.body !== undefined && !headers.has("content-type"))
    headers.set("content-type", "application/json");
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request.fetch(request.url, {
      method: request.method ?? (request.body === undefined ? "GET" : "POST"),
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      // A redirected POST may become a GET without its body: a provider API never redirects a send.
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await readText(response, MAX_BODY_BYTES);
    return { status: response.status, headers: response.headers, text, json: parseJson(text) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted)
      throw new Error(`${provider} did not answer within ${timeoutMs} ms.`, { cause: error });
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`Request to ${provider} failed: ${reason}`, { cause: error });
  }
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

/**
 * The start of an error response's body, flattened, for an error message; reading stops after a few KB, so a
 * huge or endless body can't hold the send, and a failed read only loses the excerpt.
 */
export async function readExcerpt(response: Response): Promise<string> {
  return excerpt(await readText(response, 4096));
}

/** `text` on one line, cut to 200 characters. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
}

/**
 * Reads a `Retry-After` header (delay in seconds, or an HTTP date) as milliseconds from `now`; `undefined`
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
  const reset = headers.get("ratelimit-reset");
  if (reset !== null && /^\d+$/.test(reset.trim())) return Number(reset.trim()) * 1000;
  const resetAt = headers.get("x-ratelimit-reset");
  if (resetAt !== null && /^\d+$/.test(resetAt.trim())) {
    const value = Number(resetAt.trim());
    // Epoch seconds are > 1e9 since 2001; anything smaller is a delay.
    return value > 1e9 ? Math.max(0, value * 1000 - now) : value * 1000;
  }
  return undefined;
}

/** Options for {@link classifyAnswer}. */
export interface ClassifyOptions {
  /** The provider's name, for error messages. */
  provider: string;
  /** How long to wait after a throttled answer that names no delay, in ms. */
  defaultRetryAfterMs: number;
  /** The provider's own words for the failure, from its error body; else an excerpt of the body is used. */
  describe?: (answer: HttpAnswer) => string | undefined;
  /**
   * The provider's own rules, applied first: return an error to decide, `undefined` for the general rules.
   * `detail` is the ready-made message ("Resend answered 422: ...").
   */
  classify?: (answer: HttpAnswer, detail: string, retryAfterMs: number) => Error | undefined;
}

// 4xx statuses where the same request may succeed later.
const RETRYABLE_4XX = new Set([408, 425]);
// 5xx that describe the request rather than the server's health.
const PERMANENT_5XX = new Set([501, 505]);

/**
 * Turns a non-2xx answer into the error that steers the dispatcher. After the provider's own `classify`:
 * - 429: {@link RateLimitedError}, waiting what the headers say (see {@link retryAfterFrom}) or the default;
 *   a 503 with a `Retry-After` too.
 * - 401, 403: {@link PermanentDeliveryError} saying the provider refused the credentials: a wrong or revoked
 *   key does not fix itself between retries, and failing fast keeps a campaign from grinding through every
 *   recipient's backoff; `verify()` at start-up catches it before any send.
 * - 408, 425, other 5xx: a plain `Error`, retried.
 * - other 4xx, 501, 505, 3xx: {@link PermanentDeliveryError} with the provider's message.
 */
export function classifyAnswer(answer: HttpAnswer, options: ClassifyOptions): Error {
  const { status } = answer;
  const said = options.describe?.(answer) ?? excerpt(answer.text);
  const detail = `${options.provider} answered ${status}${said ? `: ${said}` : ""}`;
  const retryAfterMs = retryAfterFrom(answer.headers);
  const own = options.classify?.(answer, detail, retryAfterMs ?? options.defaultRetryAfterMs);
  if (own) return own;
  if (status === 429)
    return new RateLimitedError(detail, { retryAfterMs: retryAfterMs ?? options.defaultRetryAfterMs });
  if (status === 503 && retryAfterMs !== undefined) return new RateLimitedError(detail, { retryAfterMs });
  if (status === 401 || status === 403) return credentialsRefused(options.provider, detail);
  if (RETRYABLE_4XX.has(status) || (status >= 500 && !PERMANENT_5XX.has(status))) return new Error(detail);
  return new PermanentDeliveryError(detail);
}

/**
 * The permanent error for refused credentials, saying what to fix. Exported so providers whose refusals
 * arrive another way (an error code in the body, an SDK exception) word it alike.
 */
export function credentialsRefused(
  provider: string,
  detail: string,
  check = "the API key and its permissions",
): PermanentDeliveryError {
  return new PermanentDeliveryError(
    `${detail} (${provider} refused the credentials: check ${check}; no message is sent until it is fixed)`,
  );
}

/** Checks a channel's numeric option, throwing a `CampaignKitError` that names it. */
export function checkNonNegative(factory: string, name: string, value: number, positive = false): void {
  if (!(Number.isFinite(value) && (positive ? value > 0 : value >= 0)))
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `${factory}: \`${name}\` must be a ${positive ? "positive" : "non-negative"} number.`,
    );
}

/** Checks a channel's required string option (an API key), throwing a `CampaignKitError` that names it. */
export function checkString(factory: string, name: string, value: unknown): void {
  if (typeof value !== "string" || value.trim() === "")
    throw new CampaignKitError("VALIDATION_FAILED", `${factory}: \`${name}\` must be a non-empty string.`);
}

/** The `fetch` a channel calls: the given one, else the global one; throws when there is none. */
export function fetchOf(factory: string, given: typeof fetch | undefined): typeof fetch {
  const chosen = given ?? globalThis.fetch;
  if (typeof chosen !== "function")
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `${factory}: no \`fetch\`; pass one in \`options.fetch\`.`,
    );
  return chosen;
}

/** `base` and `path` joined with exactly one slash, so `baseUrl` may or may not end with one. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
