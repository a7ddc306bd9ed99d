/**
 * A local stand-in for Resend's API, answering with the request and response shapes Resend documents:
 * - POST /emails and POST /emails/batch (https://resend.com/docs/api-reference/emails/send-email,
 *   https://resend.com/docs/dashboard/emails/batch-sending): `Authorization: Bearer re_...`; `{ id }`, and
 *   `{ data: [{ id }] }` (plus `errors: [{ index, message }]` with `x-batch-validation: permissive`,
 *   https://resend.com/changelog/batch-validation-modes); at most 100 emails a batch.
 * - Idempotency-Key (https://resend.com/docs/dashboard/emails/idempotency-keys): 1 to 256 characters; the
 *   same key and body answer the first answer without sending again; the same key with another body is 409
 *   `invalid_idempotent_request`.
 * - Errors (https://resend.com/docs/api-reference/errors): `{ statusCode, name, message }`; 401
 *   `missing_api_key`, 403 `invalid_api_key`, 401 `restricted_api_key` for a sending-only key outside
 *   sending, 422 `validation_error`, 429 `rate_limit_exceeded` / `daily_quota_exceeded` /
 *   `monthly_quota_exceeded` with the rate-limit headers (https://resend.com/docs/api-reference/rate-limit),
 *   500 `internal_server_error`.
 * - Tags: names and values of ASCII letters, digits, `_` and `-`, at most 256 characters.
 * Recipients pick failures: `throttle@`, `quota@`, `monthly@`, `unverified@`, `crash@`, `flaky@` (500 once).
 */
import { randomUUID } from "node:crypto";
import { type StubAnswer, type StubRequest, type StubServer, scenarios, startStubServer } from "./server.js";

/** An email the stub accepted (and would have sent). */
export interface ResendEmail {
  id: string;
  /** The request's Idempotency-Key: the message's own from POST /emails, the batch's from /emails/batch. */
  idempotencyKey: string | undefined;
  via: "emails" | "batch";
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  reply_to?: string;
  headers: Record<string, string>;
  tags: Array<{ name: string; value: string }>;
}

export interface ResendStub extends StubServer {
  /** Emails accepted, in order. */
  emails: ResendEmail[];
}

export const RESEND_API_KEY = "re_stub_full";
export const RESEND_SENDING_KEY = "re_stub_sending";

const error = (
  statusCode: number,
  name: string,
  message: string,
  headers?: Record<string, string>,
): StubAnswer => ({
  status: statusCode,
  body: { statusCode, name, message },
  ...(headers ? { headers } : {}),
});

const TAG = /^[A-Za-z0-9_-]{1,256}$/;

export async function startResendStub(): Promise<ResendStub> {
  const emails: ResendEmail[] = [];
  const idempotent = new Map<string, { body: string; answer: StubAnswer }>();
  const scenario = scenarios();

  /** Why one email is invalid, or a failure its recipient asks for; `undefined` when it is accepted. */
  function refuse(email: Record<string, unknown>): StubAnswer | undefined {
    const to = Array.isArray(email.to) ? email.to : [email.to];
    if (typeof email.from !== "string" || !/<?[^@\s]+@[^@\s>]+>?$/.test(email.from))
      return error(422, "validation_error", "Invalid `from` field.");
    if (to.length === 0 || to.some((t) => typeof t !== "string" || !/^[^@\s]+@[^@\s]+$/.test(t)))
      return error(
        422,
        "validation_error",
        "Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
      );
    if (typeof email.subject !== "string")
      return error(422, "missing_required_field", "Missing `subject` field.");
    if (typeof email.html !== "string" && typeof email.text !== "string")
      return error(422, "missing_required_field", "Missing `html` or `text` field.");
    const tags = (email.tags ?? []) as Array<{ name?: unknown; value?: unknown }>;
    for (const tag of tags)
      if (
        typeof tag.name !== "string" ||
        !TAG.test(tag.name) ||
        typeof tag.value !== "string" ||
        !TAG.test(tag.value)
      )
        return error(
          422,
          "validation_error",
          "Tags should only contain ASCII letters, numbers, underscores, or dashes.",
        );
    const limits = { "ratelimit-limit": "2", "ratelimit-remaining": "0", "ratelimit-reset": "1" };
    switch (scenario(to[0])) {
      case "throttle":
        return error(
          429,
          "rate_limit_exceeded",
          "Too many requests. You can only make 2 requests per second.",
          {
            ...limits,
            "retry-after": "1",
          },
        );
      case "quota":
        return error(429, "daily_quota_exceeded", "You have reached your daily email sending quota.");
      case "monthly":
        return error(429, "monthly_quota_exceeded", "You have reached your monthly email sending quota.");
      case "unverified":
        return error(403, "validation_error", "You can only send testing emails to your own email address.");
      case "crash":
        return error(500, "internal_server_error", "An unexpected error occurred.");
    }
    return undefined;
  }

  function accept(email: Record<string, unknown>, key: string | undefined, via: ResendEmail["via"]): string {
    const id = randomUUID();
    emails.push({
      ...(email as Omit<ResendEmail, "id" | "idempotencyKey" | "via">),
      id,
      idempotencyKey: key,
      via,
    });
    return id;
  }

  function answer(request: StubRequest): StubAnswer {
    const auth = request.headers.authorization;
    if (auth === undefined)
      return error(401, "missing_api_key", "Missing API key in the authorization header.");
    const key = auth.replace(/^Bearer /, "");
    if (key !== RESEND_API_KEY && key !== RESEND_SENDING_KEY)
      return error(403, "invalid_api_key", "API key is invalid.");
    if (request.method === "GET" && request.path === "/domains")
      return key === RESEND_API_KEY
        ? { status: 200, body: { data: [] } }
        : error(401, "restricted_api_key", "This API key is restricted to only send emails.");
    if (request.method !== "POST" || (request.path !== "/emails" && request.path !== "/emails/batch"))
      return error(404, "not_found", "The requested endpoint does not exist.");

    const idempotencyKey = request.headers["idempotency-key"] as string | undefined;
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length < 1 || idempotencyKey.length > 256)
        return error(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
      const seen = idempotent.get(idempotencyKey);
      if (seen && seen.body !== request.text)
        return error(
          409,
          "invalid_idempotent_request",
          "Same idempotency key used with a different request payload.",
        );
      if (seen) return seen.answer;
    }
    const remember = (result: StubAnswer): StubAnswer => {
      if (idempotencyKey !== undefined && result.status < 300)
        idempotent.set(idempotencyKey, { body: request.text, answer: result });
      return result;
    };

    if (request.path === "/emails") {
      const email = request.json as Record<string, unknown>;
      const refused = refuse(email);
      return refused ?? remember({ status: 200, body: { id: accept(email, idempotencyKey, "emails") } });
    }
    const batch = request.json;
    if (!Array.isArray(batch) || batch.length === 0 || batch.length > 100)
      return error(422, "validation_error", "The batch must contain between 1 and 100 emails.");
    const refusals = batch.map((email) => refuse(email as Record<string, unknown>));
    const permissive = request.headers["x-batch-validation"] === "permissive";
    // A throttle or a server error refuses the whole request, whatever the validation mode.
    const whole = refusals.find(
      (r) => r !== undefined && (r.status === 429 || r.status >= 500 || r.status === 403),
    );
    if (whole) return whole;
    if (!permissive) {
      const first = refusals.find((r) => r !== undefined);
      if (first) return first;
    }
    const data: Array<{ id: string }> = [];
    const errors: Array<{ index: number; message: string }> = [];
    batch.forEach((email, index) => {
      const refused = refusals[index];
      if (refused) errors.push({ index, message: (refused.body as { message: string }).message });
      else data.push({ id: accept(email as Record<string, unknown>, idempotencyKey, "batch") });
    });
    return remember({ status: 200, body: permissive ? { data, errors } : { data } });
  }

  const server = await startStubServer(answer);
  return { ...server, emails };
}
