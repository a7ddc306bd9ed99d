/**
 * A local stand-in for the Firebase Cloud Messaging HTTP v1 API, answering with the request and response
 * shapes Firebase documents. Test code: no network.
 *
 * - `POST /v1/projects/{project}/messages:send` with `Authorization: Bearer <OAuth2 token>` and a JSON body
 *   `{ validate_only?, message }`; `200` with the Message, `{ "name": "projects/{project}/messages/{id}" }`
 *   (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send). `validate_only` checks
 *   the request and delivers nothing.
 * - Errors are Google API errors, `{ error: { code, message, status, details } }`, where an `FcmError` detail
 *   carries FCM's `errorCode` (https://firebase.google.com/docs/cloud-messaging/error-codes,
 *   https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode): a missing or wrong token is `401`
 *   `UNAUTHENTICATED`; another project `404` `NOT_FOUND`; a malformed registration token `400`
 *   `INVALID_ARGUMENT`; a non-string data value `400` `INVALID_ARGUMENT` with a `google.rpc.BadRequest`
 *   field violation (the documented example); a token of an uninstalled app `404` `UNREGISTERED`.
 * - Throttling and outages, through `enqueue`: {@link fcmQuotaExceeded} (`429` `RESOURCE_EXHAUSTED` /
 *   `QUOTA_EXCEEDED`), {@link fcmUnavailable} (`503` `UNAVAILABLE`, optionally with `Retry-After`), and
 *   {@link fcmError} for any other.
 */
import { hex, type StubAnswer, type StubRequest, type StubServer, startStubServer } from "./server.js";

export const TEST_PROJECT = "campaign-kit-test";
export const TEST_ACCESS_TOKEN = "ya29.test-access-token";

/** A message as the stub accepted it. */
export interface FcmStubMessage {
  name: string;
  token: string;
  notification?: { title?: string; body?: string };
  data?: Record<string, string>;
  /** The whole `message` object as sent, platform blocks included. */
  raw: Record<string, unknown>;
}

const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

/** A Google API error; `errorCode` adds the `FcmError` detail. */
export function fcmError(code: number, status: string, message: string, errorCode?: string): StubAnswer {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        status,
        ...(errorCode === undefined ? {} : { details: [{ "@type": FCM_ERROR, errorCode }] }),
      },
    },
  };
}

/** `429` `QUOTA_EXCEEDED`; `retryAfter` in seconds when given. */
export function fcmQuotaExceeded(retryAfter?: number): StubAnswer {
  return {
    ...fcmError(
      429,
      "RESOURCE_EXHAUSTED",
      "Quota exceeded for quota metric 'Send requests'",
      "QUOTA_EXCEEDED",
    ),
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } }),
  };
}

/** `503` `UNAVAILABLE`; `retryAfter` in seconds when given. */
export function fcmUnavailable(retryAfter?: number): StubAnswer {
  return {
    ...fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"),
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } }),
  };
}

export interface FcmStub extends StubServer {
  /** Messages delivered, in order (dry runs excluded). */
  messages: FcmStubMessage[];
  /** Tokens of uninstalled apps: sending to them answers `UNREGISTERED`. */
  unregistered: Set<string>;
  /** Access tokens the stub accepts; starts with {@link TEST_ACCESS_TOKEN}. */
  accessTokens: Set<string>;
}

// Registration tokens are long opaque strings of URL-safe characters and ':'; the stub refuses anything else.
const TOKEN = /^[\w:-]{8,4096}$/;

export async function startFcmStub(): Promise<FcmStub> {
  const messages: FcmStubMessage[] = [];
  const unregistered = new Set<string>();
  const accessTokens = new Set([TEST_ACCESS_TOKEN]);

  function handle(request: StubRequest): StubAnswer {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    if (bearer === undefined || !accessTokens.has(bearer))
      return fcmError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      );
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(request.path);
    if (request.method !== "POST" || !match)
      return fcmError(404, "NOT_FOUND", "Requested entity was not found.");
    if (match[1] !== TEST_PROJECT) return fcmError(404, "NOT_FOUND", "Requested entity was not found.");
    const body = request.json as { validate_only?: boolean; message?: Record<string, unknown> } | undefined;
    if (body === undefined) return fcmError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    const message = body.message;
    if (typeof message !== "object" || message === null)
      return fcmError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT");
    const data = (message.data ?? {}) as Record<string, unknown>;
    for (const [i, value] of Object.values(data).entries()) {
      if (typeof value !== "string") {
        const description = `Invalid value at 'message.data[${i}].value' (TYPE_STRING), ${JSON.stringify(value)}`;
        return {
          status: 400,
          body: {
            error: {
              code: 400,
              message: description,
              status: "INVALID_ARGUMENT",
              details: [
                {
                  "@type": "type.googleapis.com/google.rpc.BadRequest",
                  fieldViolations: [{ field: `message.data[${i}].value`, description }],
                },
              ],
            },
          },
        };
      }
    }
    const token = message.token;
    if (message.topic === undefined) {
      if (typeof token !== "string" || !TOKEN.test(token))
        return fcmError(
          400,
          "INVALID_ARGUMENT",
          "The registration token is not a valid FCM registration token",
          "INVALID_ARGUMENT",
        );
      if (unregistered.has(token))
        return fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED");
    }
    const name = `projects/${TEST_PROJECT}/messages/0:${Date.now()}%${hex(16)}`;
    if (body.validate_only !== true && typeof token === "string") {
      messages.push({
        name,
        token,
        ...(message.notification === undefined
          ? {}
          : { notification: message.notification as { title?: string; body?: string } }),
        ...(message.data === undefined ? {} : { data: message.data as Record<string, string> }),
        raw: message,
      });
    }
    return { status: 200, body: { name } };
  }

  const server = await startStubServer(handle);
  return Object.assign(server, { messages, unregistered, accessTokens });
}
