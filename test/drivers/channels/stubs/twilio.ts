/**
 * A local stand-in for Twilio's Programmable Messaging API, answering with the request and response shapes
 * Twilio documents. Test code: no network.
 *
 * - Create a Message, `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`,
 *   `MessagingServiceSid`, `Body`, `StatusCallback`; `201 Created` with the Message resource (`sid` `SM...`,
 *   `status: "queued"`, RFC 2822 dates, `num_segments` a string):
 *   https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 * - List Messages, `GET .../Messages.json?PageSize=n`: `{ messages, page, page_size, uri, ... }`, same page.
 * - HTTP basic auth with the Account SID and auth token, or an API key SID and secret; otherwise `401` with
 *   error 20003 (https://www.twilio.com/docs/errors/20003). A path account other than the credentials' own:
 *   `404` with 20404 (https://www.twilio.com/docs/errors/20404).
 * - Errors are Twilio's JSON exception, `{ code, message, more_info, status }`
 *   (https://www.twilio.com/docs/usage/twilios-response): 21604 no `To`, 21211 invalid `To`
 *   (https://www.twilio.com/docs/errors/21211), 21603 no `From`/`MessagingServiceSid`, 21602 no `Body`,
 *   21617 body over 1,600 characters, 21610 a recipient who replied STOP
 *   (https://www.twilio.com/docs/errors/21610), all `400`.
 * - Throttling, through `enqueue`: {@link twilioTooManyRequests} is `429` with 20429, "never processed and
 *   always safe to retry" (https://www.twilio.com/docs/errors/20429); {@link twilioQueueFull} is `400` with
 *   21611, the sender's queue holding over 10 hours of messages (https://www.twilio.com/docs/errors/21611).
 */
import { hex, type StubAnswer, type StubRequest, type StubServer, startStubServer } from "./server.js";

export const TEST_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
export const TEST_AUTH_TOKEN = "test-auth-token";
export const TEST_API_KEY = { sid: "SK0123456789abcdef0123456789abcdef", secret: "test-api-secret" };

/** A Message as the stub accepted it. */
export interface TwilioStubMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
}

/** Twilio's JSON exception body. */
export function twilioException(status: number, code: number, message: string): StubAnswer {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

/** `429` / 20429: too many concurrent requests; `retryAfter` in seconds when given. */
export function twilioTooManyRequests(retryAfter?: number): StubAnswer {
  return {
    ...twilioException(429, 20429, "Too Many Requests"),
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } }),
  };
}

/** `400` / 21611: the sender's queue is full. */
export const twilioQueueFull = (): StubAnswer =>
  twilioException(400, 21611, "This 'From' number has exceeded the maximum number of queued messages");

export interface TwilioStub extends StubServer {
  /** Messages accepted, in order. */
  messages: TwilioStubMessage[];
  /** Numbers that replied STOP: sending to them answers 21610. */
  unsubscribed: Set<string>;
}

const E164 = /^\+[1-9]\d{1,14}$/;

export async function startTwilioStub(): Promise<TwilioStub> {
  const messages: TwilioStubMessage[] = [];
  const unsubscribed = new Set<string>();
  const credentials = new Map([
    [TEST_ACCOUNT_SID, TEST_AUTH_TOKEN],
    [TEST_API_KEY.sid, TEST_API_KEY.secret],
  ]);

  const resource = (m: TwilioStubMessage) => {
    const date = new Date().toUTCString().replace("GMT", "+0000");
    const uri = `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages/${m.sid}.json`;
    return {
      account_sid: TEST_ACCOUNT_SID,
      api_version: "2010-04-01",
      body: m.body,
      date_created: date,
      date_sent: null,
      date_updated: date,
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      // A Messaging Service assigns the sender later, so Twilio answers 0 segments then.
      num_media: "0",
      num_segments: m.messagingServiceSid ? "0" : "1",
      price: null,
      price_unit: "USD",
      sid: m.sid,
      status: "queued",
      subresource_uris: { media: uri.replace(/\.json$/, "/Media.json") },
      to: m.to,
      uri,
    };
  };

  function handle(request: StubRequest): StubAnswer {
    const [user, password] = Buffer.from(
      /^Basic (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "",
      "base64",
    )
      .toString("utf8")
      .split(":");
    if (!user || credentials.get(user) !== password)
      return {
        ...twilioException(401, 20003, "Authenticate"),
        headers: { "www-authenticate": 'Basic realm="Twilio API"' },
      };
    const url = new URL(request.path, "http://stub");
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (!match) return twilioException(404, 20404, "The requested resource was not found");
    if (match[1] !== TEST_ACCOUNT_SID)
      return twilioException(404, 20404, `The requested resource ${url.pathname} was not found`);

    if (request.method === "GET") {
      const size = Number(url.searchParams.get("PageSize") ?? 50);
      return {
        status: 200,
        body: {
          messages: messages.slice(-size).reverse().map(resource),
          page: 0,
          page_size: size,
          start: 0,
          end: Math.min(size, messages.length) - 1,
          first_page_uri: `${url.pathname}?PageSize=${size}&Page=0`,
          next_page_uri: null,
          previous_page_uri: null,
          uri: `${url.pathname}?PageSize=${size}&Page=0`,
        },
      };
    }
    if (request.method !== "POST") return twilioException(405, 20004, "Method not allowed");
    // Parameters are read from a form body only; anything else reads as no parameters at all.
    const isForm = /^application\/x-www-form-urlencoded\b/.test(request.headers["content-type"] ?? "");
    const form = new URLSearchParams(isForm ? request.text : "");
    const to = form.get("To") ?? "";
    if (to === "") return twilioException(400, 21604, "A 'To' phone number is required.");
    const from = form.get("From");
    const service = form.get("MessagingServiceSid");
    const body = form.get("Body");
    if (!E164.test(to))
      return twilioException(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service)
      return twilioException(
        400,
        21603,
        "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
      );
    if (!body) return twilioException(400, 21602, "Message body is required.");
    // Twilio counts characters, not UTF-16 code units.
    if ([...body].length > 1600)
      return twilioException(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    if (unsubscribed.has(to)) return twilioException(400, 21610, "Attempt to send to unsubscribed recipient");
    const message = {
      sid: `SM${hex(32)}`,
      to,
      from: from ?? null,
      messagingServiceSid: service ?? null,
      body,
      statusCallback: form.get("StatusCallback"),
    };
    messages.push(message);
    return { status: 201, body: resource(message) };
  }

  const server = await startStubServer(handle);
  return Object.assign(server, { messages, unsubscribed });
}
