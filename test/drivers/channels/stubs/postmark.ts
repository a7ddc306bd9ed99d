/**
 * A local stand-in for Postmark's API, answering with the shapes Postmark documents:
 * - POST /email and POST /email/batch (https://postmarkapp.com/developer/user-guide/send-email-with-api,
 *   .../batch-emails): `X-Postmark-Server-Token`; `{ To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK" }`;
 *   a batch (at most 500) answers 200 with one such result per message, in order, each with its own
 *   `ErrorCode` (non-zero for a refused message).
 * - Errors (https://postmarkapp.com/developer/api/overview#error-codes): 401 without a valid token, 422
 *   `{ ErrorCode, Message }` (300 invalid request, 406 inactive recipient, 410 too many batch messages,
 *   1235 unknown message stream...), 429 (no Retry-After: Postmark documents none), 500.
 * - Metadata values at most 80 characters (Postmark's custom-metadata FAQ).
 * - GET /server answers the server's settings.
 * Recipients pick failures: `inactive@` (406), `throttle@` (429), `crash@` (500), `flaky@` (500 once),
 * `maintenance@` (ErrorCode 100).
 */
import { randomUUID } from "node:crypto";
import { type StubAnswer, type StubRequest, type StubServer, scenarios, startStubServer } from "./server.js";

export interface PostmarkMessage {
  MessageID: string;
  From: string;
  To: string;
  Subject: string;
  HtmlBody?: string;
  TextBody?: string;
  ReplyTo?: string;
  MessageStream: string;
  Tag?: string;
  Headers?: Array<{ Name: string; Value: string }>;
  Metadata?: Record<string, string>;
}

export interface PostmarkStub extends StubServer {
  /** Messages accepted, in order. */
  messages: PostmarkMessage[];
}

export const POSTMARK_TOKEN = "pm-stub-server-token";
const STREAMS = new Set(["outbound", "broadcast"]);

const refusal = (ErrorCode: number, Message: string) => ({ ErrorCode, Message });

export async function startPostmarkStub(): Promise<PostmarkStub> {
  const messages: PostmarkMessage[] = [];
  const scenario = scenarios();

  /** Postmark's refusal of one message, `{ ErrorCode, Message }` with its status; `undefined` when it is valid. */
  function check(
    message: Record<string, unknown>,
  ): { status: number; body: Record<string, unknown> } | undefined {
    const to = message.To;
    if (typeof message.From !== "string" || typeof to !== "string" || !/@/.test(to))
      return { status: 422, body: refusal(300, "Invalid 'To' address: 'to'.") };
    if (typeof message.HtmlBody !== "string" && typeof message.TextBody !== "string")
      return { status: 422, body: refusal(300, "Provide either email TextBody or HtmlBody or both.") };
    const stream = message.MessageStream ?? "outbound";
    if (typeof stream !== "string" || !STREAMS.has(stream))
      return {
        status: 422,
        body: refusal(1235, `The 'MessageStream' provided does not exist on this server.`),
      };
    const metadata = (message.Metadata ?? {}) as Record<string, unknown>;
    if (Object.values(metadata).some((v) => typeof v !== "string" || v.length > 80))
      return { status: 422, body: refusal(300, "Metadata values must be strings of at most 80 characters.") };
    switch (scenario(to)) {
      case "inactive":
        return {
          status: 422,
          body: refusal(
            406,
            `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${to}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
          ),
        };
      case "throttle":
        return { status: 429, body: refusal(429, "Rate limit exceeded.") };
      case "maintenance":
        return { status: 503, body: refusal(100, "Maintenance.") };
      case "crash":
        return { status: 500, body: refusal(0, "Internal server error.") };
    }
    return undefined;
  }

  function accept(message: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const MessageID = randomUUID();
    const stream = (message.MessageStream as string | undefined) ?? "outbound";
    messages.push({ ...(message as unknown as PostmarkMessage), MessageStream: stream, MessageID });
    return {
      status: 200,
      body: { To: message.To, SubmittedAt: new Date().toISOString(), MessageID, ErrorCode: 0, Message: "OK" },
    };
  }

  function answer(request: StubRequest): StubAnswer {
    if (request.headers["x-postmark-server-token"] !== POSTMARK_TOKEN)
      return {
        status: 401,
        body: refusal(
          10,
          "No Account or Server API tokens were supplied in the HTTP headers. Please add a header for either X-Postmark-Server-Token or X-Postmark-Account-Token.",
        ),
      };
    if (request.method === "GET" && request.path === "/server")
      return { status: 200, body: { ID: 1, Name: "Stub server", DeliveryType: "Live" } };
    if (request.method === "POST" && request.path === "/email") {
      const message = request.json as Record<string, unknown>;
      return check(message) ?? accept(message);
    }
    if (request.method === "POST" && request.path === "/email/batch") {
      const batch = request.json;
      if (!Array.isArray(batch)) return { status: 422, body: refusal(402, "Received invalid JSON input.") };
      if (batch.length > 500) return { status: 422, body: refusal(410, "Too many batch messages.") };
      const refusals = batch.map((m) => check(m as Record<string, unknown>));
      // A throttle or a server fault refuses the whole call, before any message is accepted; validation
      // refusals are per message, in a 200.
      const whole = refusals.find((r) => r !== undefined && (r.status === 429 || r.status >= 500));
      if (whole) return whole;
      return {
        status: 200,
        body: batch.map((m, i) => refusals[i]?.body ?? accept(m as Record<string, unknown>).body),
      };
    }
    return { status: 404, body: refusal(0, "Not found.") };
  }

  const server = await startStubServer(answer);
  return { ...server, messages };
}
