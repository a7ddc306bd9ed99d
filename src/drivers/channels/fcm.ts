/**
 * The Firebase Cloud Messaging push channel (`campaign-kit/channels/fcm`): sends each message through the FCM
 * HTTP v1 API with `fetch`; the host supplies OAuth2 access tokens, so no Google library is needed.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/fcm
 */
import { PermanentDeliveryError } from "../../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../../ports/channel.js";
import { type HttpAnswer, type HttpChannelOptions, httpClient, record } from "./http.js";
import { optionError } from "./options.js";
import { addressOf, partsFor } from "./outbound.js";

export type { HttpChannelOptions } from "./http.js";

/**
 * The FCM v1 `Message` {@link fcmChannel} sends (https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages):
 * the fields it fills, plus the platform blocks a `customize` hook may add, passed through as given.
 */
export interface FcmMessage {
  /** The registration token: the message's address. */
  token: string;
  /** The rendered title and body. */
  notification?: { title?: string; body?: string; image?: string };
  /** The rendered data payload; FCM takes string values only. */
  data?: Record<string, string>;
  /** Android options (`priority`, `ttl`, `notification.channel_id`...). */
  android?: Record<string, unknown>;
  /** APNs options (`headers`, `payload.aps`...). */
  apns?: Record<string, unknown>;
  /** Web push options (`headers`, `fcm_options.link`...). */
  webpush?: Record<string, unknown>;
  /** Platform-independent options (`analytics_label`). */
  fcm_options?: { analytics_label?: string };
}

/** Options for {@link fcmChannel}. */
export interface FcmChannelOptions extends HttpChannelOptions {
  /** The Firebase project id (or number) messages are sent from. */
  projectId: string;
  /**
   * Returns an OAuth2 access token with the `https://www.googleapis.com/auth/firebase.messaging` scope; called
   * before every request, so cache and refresh in it (google-auth-library's `getAccessToken()` does). A throw
   * or an empty token fails the send with a retried error.
   *
   * @example
   * ```ts
   * import { GoogleAuth } from "google-auth-library";
   * const auth = new GoogleAuth({ scopes: "https://www.googleapis.com/auth/firebase.messaging" });
   * fcmChannel({ projectId: "my-app", getAccessToken: () => auth.getAccessToken() });
   * ```
   */
  getAccessToken: () => Promise<string | null | undefined> | string | null | undefined;
  /**
   * Adjusts each FCM message before it is sent: add `android`, `apns` or `webpush` options, by the channel
   * configuration's `platform` for instance. Return the message to send.
   *
   * @example
   * ```ts
   * customize: ({ fcmMessage }) => ({ ...fcmMessage, apns: { payload: { aps: { sound: "default" } } } })
   * ```
   */
  customize?: (input: { message: OutboundMessage; fcmMessage: FcmMessage }) => FcmMessage;
  /** A name for logs and reports; defaults to `"fcm"`. */
  name?: string;
}

// FCM asks to back off at least a minute when the project's rate is exceeded, unless Retry-After says otherwise
// (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode, QUOTA_EXCEEDED).
const DEFAULTS = { baseUrl: "https://fcm.googleapis.com", timeoutMs: 10_000, defaultRetryAfterMs: 60_000 };

// FCM error codes that condemn the message or its token; the rest (auth, quota, server) are retried.
const PERMANENT_CODES = new Set(["INVALID_ARGUMENT", "UNREGISTERED", "SENDER_ID_MISMATCH"]);

/**
 * The FCM error code of a Google API error body: the `FcmError` detail's `errorCode` when present (it tells
 * UNREGISTERED from a plain NOT_FOUND), else the canonical `status`; the same reading as the Firebase Admin SDK.
 */
function fcmError(answer: HttpAnswer): { code?: string; message?: string } {
  const error = record(record(answer.json)?.error);
  if (error === undefined) return {};
  const details = Array.isArray(error.details) ? error.details.map(record) : [];
  const fcm = details.find((d) => d?.["@type"] === "type.googleapis.com/google.firebase.fcm.v1.FcmError");
  const code = typeof fcm?.errorCode === "string" ? fcm.errorCode : error.status;
  return {
    ...(typeof code === "string" ? { code } : {}),
    ...(typeof error.message === "string" ? { message: error.message } : {}),
  };
}

/**
 * A {@link ChannelAdapter} that sends push notifications through Firebase Cloud Messaging's HTTP v1 API: one
 * `POST /v1/projects/{projectId}/messages:send` per message, JSON, with `Authorization: Bearer <token>` from
 * `getAccessToken`. The FCM message is `{ token: message.to, notification: { title, body }, data }` from the
 * rendered push content, then `customize` when given. The result's `providerMessageId` is FCM's message
 * `name` (`projects/{projectId}/messages/{id}`).
 *
 * Capabilities are `{ batch: false, idempotencyKeys: false }`: HTTP v1 sends one message per request (the
 * legacy batch endpoint was shut down) and takes no idempotency key, so a message whose request timed out
 * after FCM accepted it may arrive twice on retry; the ledger bounds that to what was in flight.
 *
 * Answers steer the dispatcher (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode):
 * - `2xx`: sent.
 * - `QUOTA_EXCEEDED` (`429`): `RateLimitedError`, waiting `Retry-After` or `defaultRetryAfterMs` (60 s,
 *   FCM's minimum initial delay). `UNAVAILABLE` (`503`) with `Retry-After`: the same.
 * - `INVALID_ARGUMENT` (`400`: bad token, payload too big, reserved data key), `UNREGISTERED` (`404`: the app
 *   was uninstalled or the token expired; drop the token), `SENDER_ID_MISMATCH` (`403`: the token belongs to
 *   another project): {@link PermanentDeliveryError} naming the code.
 * - `UNAUTHENTICATED` (`401`: a bad access token), `THIRD_PARTY_AUTH_ERROR` (`401`: APNs or web push
 *   credentials), `PERMISSION_DENIED` (`403`), `NOT_FOUND` without `UNREGISTERED` (`404`: an unknown project),
 *   `INTERNAL` (`500`), `UNAVAILABLE` without `Retry-After`, network errors and timeouts: a plain `Error`,
 *   retried; credentials and configuration are not the recipient's fault.
 *
 * @example
 * ```ts
 * import { GoogleAuth } from "google-auth-library";
 * import { createCampaignKit } from "campaign-kit";
 * import { fcmChannel } from "campaign-kit/channels/fcm";
 *
 * const auth = new GoogleAuth({ scopes: "https://www.googleapis.com/auth/firebase.messaging" });
 * const push = fcmChannel({ projectId: "my-app", getAccessToken: () => auth.getAccessToken() });
 * await push.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [push] });
 * ```
 */
export function fcmChannel(options: FcmChannelOptions): ChannelAdapter {
  const factory = "fcmChannel";
  const { projectId, getAccessToken, customize } = options;
  if (typeof projectId !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(projectId))
    throw optionError(
      factory,
      "`projectId` must be your Firebase project id, such as 'my-app-1234', or its number.",
    );
  if (typeof getAccessToken !== "function")
    throw optionError(factory, "`getAccessToken` must be a function returning an OAuth2 access token.");

  const sendPath = `/v1/projects/${projectId}/messages:send`;
  const http = httpClient({
    ...options,
    provider: "FCM",
    factory,
    defaults: DEFAULTS,
    // UNAUTHENTICATED and THIRD_PARTY_AUTH_ERROR (401), PERMISSION_DENIED (403): credentials and
    // configuration are not the recipient's fault.
    setupFaults: "retry",
    describe(answer) {
      const { code, message } = fcmError(answer);
      return [code, message].filter(Boolean).join(" ") || undefined;
    },
    classify(answer, detail) {
      const { code } = fcmError(answer);
      if (code !== undefined && PERMANENT_CODES.has(code)) return new PermanentDeliveryError(detail);
      // A 404 that is not UNREGISTERED names an unknown project: the options, not the recipient.
      if (answer.status === 404) return new Error(detail);
      // QUOTA_EXCEEDED is a 429, UNAVAILABLE a 503 and INTERNAL a 500: the shared reading of those statuses
      // is FCM's.
      return undefined;
    },
  });

  async function authorization(): Promise<string> {
    let token: string | null | undefined;
    try {
      token = await getAccessToken();
    } catch (error) {
      throw new Error(`fcmChannel: getAccessToken failed: ${String(error)}`, { cause: error });
    }
    if (typeof token !== "string" || token === "")
      throw new Error("fcmChannel: getAccessToken returned no token; check the service account and scope.");
    return `Bearer ${token}`;
  }

  function fcmMessageFor(message: OutboundMessage): FcmMessage {
    const { content } = partsFor(message, "push", factory);
    const fcmMessage: FcmMessage = {
      token: addressOf(message, "registration token"),
      notification: { title: content.title, body: content.body },
      ...(content.data === undefined ? {} : { data: content.data }),
    };
    return customize ? customize({ message, fcmMessage }) : fcmMessage;
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const body = { message: fcmMessageFor(message) };
    context.signal.throwIfAborted();
    const answer = await http.request({
      path: sendPath,
      headers: { authorization: await authorization() },
      json: body,
      signal: context.signal,
    });
    const name = record(answer.json)?.name;
    return typeof name === "string" ? { providerMessageId: name } : undefined;
  }

  return {
    name: options.name ?? "fcm",
    channel: "push",
    capabilities: { batch: false, idempotencyKeys: false },
    send,
    // A dry run (`validate_only`) to a topic: FCM checks the token, the project and the permission without
    // delivering anything, and a topic needs no device.
    async verify() {
      await http.request({
        path: sendPath,
        headers: { authorization: await authorization() },
        json: {
          validate_only: true,
          message: { topic: "campaign-kit-verify", notification: { title: "verify", body: "verify" } },
        },
      });
    },
  };
}
