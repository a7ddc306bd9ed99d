/**
 * A local stand-in for SendGrid's v3 API, answering with the shapes SendGrid documents:
 * - POST /v3/mail/send (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send):
 *   `Authorization: Bearer SG...`; 202 Accepted with an empty body and an `X-Message-Id` header;
 *   `content` with `text/plain` before `text/html`; `custom_args` string values; at most 10 `categories`
 *   of at most 255 characters.
 * - Errors: `{ errors: [{ message, field, help }] }`; 400 for an invalid request, 401 for a bad key, 403 for
 *   a sender that is no verified Sender Identity, 429 with `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 *   `X-RateLimit-Reset` (a Unix time, https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits),
 *   500.
 * - GET /v3/scopes (https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions): `{ scopes }`.
 * Recipients pick failures: `throttle@`, `crash@`, `flaky@` (500 once); `unverified@` as the sender is 403.
 */
import { randomUUID } from "node:crypto";
import { type StubAnswer, type StubRequest, type StubServer, scenarios, startStubServer } from "./server.js";

export interface SendgridMail {
  messageId: string;
  personalizations: Array<{ to: Array<{ email: string; name?: string }> }>;
  from: { email: string; name?: string };
  reply_to?: { email: string };
  subject: string;
  content: Array<{ type: string; value: string }>;
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
  categories?: string[];
  ip_pool_name?: string;
}

export interface SendgridStub extends StubServer {
  /** Mail accepted, in order. */
  mails: SendgridMail[];
}

export const SENDGRID_API_KEY = "SG.stub-key";
/** A valid key without the mail.send scope. */
export const SENDGRID_READ_ONLY_KEY = "SG.stub-read-only";

const errors = (
  status: number,
  message: string,
  field: string | null = null,
  headers?: Record<string, string>,
) => ({
  status,
  body: { errors: [{ message, field, help: null }] },
  ...(headers ? { headers } : {}),
});

export async function startSendgridStub(): Promise<SendgridStub> {
  const mails: SendgridMail[] = [];
  const scenario = scenarios();

  function mailSend(mail: Partial<SendgridMail>): StubAnswer {
    const to = mail.personalizations?.[0]?.to?.[0]?.email;
    if (typeof to !== "string" || !/^[^@\s]+@[^@\s]+$/.test(to))
      return errors(400, "Does not contain a valid address.", "personalizations.0.to.0.email");
    if (typeof mail.from?.email !== "string") return errors(400, "The from object must be provided.", "from");
    if (scenario(mail.from.email) === "unverified")
      return errors(
        403,
        "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.",
        "from",
      );
    const content = mail.content ?? [];
    if (content.length === 0 || content.some((c) => typeof c.value !== "string" || c.value === ""))
      return errors(
        400,
        "The content value must be a string at least one character in length.",
        "content.0.value",
      );
    if (content.length > 1 && content[0]?.type !== "text/plain")
      return errors(400, "If present, text/plain content must be first.", "content.0.type");
    if (Object.values(mail.custom_args ?? {}).some((v) => typeof v !== "string"))
      return errors(400, "Custom args values must be strings.", "custom_args");
    const categories = mail.categories ?? [];
    if (categories.length > 10 || categories.some((c) => c.length > 255))
      return errors(400, "Too many categories, or a category over 255 characters.", "categories");
    switch (scenario(to)) {
      case "throttle":
        return errors(429, "too many requests", null, {
          "x-ratelimit-limit": "600",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 2),
        });
      case "crash":
        return errors(500, "internal server error");
    }
    const messageId = randomUUID().replace(/-/g, "").slice(0, 22);
    mails.push({ ...(mail as SendgridMail), messageId });
    return { status: 202, headers: { "x-message-id": messageId } };
  }

  function answer(request: StubRequest): StubAnswer {
    const key = request.headers.authorization?.replace(/^Bearer /, "");
    if (key !== SENDGRID_API_KEY && key !== SENDGRID_READ_ONLY_KEY)
      return errors(401, "The provided authorization grant is invalid, expired, or revoked");
    if (request.method === "GET" && request.path === "/v3/scopes")
      return {
        status: 200,
        body: { scopes: key === SENDGRID_API_KEY ? ["mail.send", "stats.read"] : ["stats.read"] },
      };
    if (request.method === "POST" && request.path === "/v3/mail/send") {
      if (key !== SENDGRID_API_KEY) return errors(403, "access forbidden");
      return mailSend(request.json as Partial<SendgridMail>);
    }
    return errors(404, "resource not found");
  }

  const server = await startStubServer(answer);
  return { ...server, mails };
}
