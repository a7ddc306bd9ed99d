import { CampaignKitError, isCampaignKitError } from "../errors.js";
import type { CampaignKit } from "../kit/create-campaign-kit.js";
import type { HandlerContext } from "./handler.js";
import { toProblemDocument } from "./problems.js";
import type { FeedbackWebhook } from "./webhooks/provider.js";

/** Options for {@link feedbackEndpoints}. */
export interface FeedbackEndpointsOptions {
  /** The providers' webhooks served, each at `POST {basePath}/webhooks/{name}`. */
  webhooks?: readonly FeedbackWebhook[];
  /**
   * Path prefix of the routes; defaults to `/campaign-kit`. It must match the kit's `tracking.baseUrl` path
   * for the tracking routes to be found.
   */
  basePath?: string;
  /** The largest webhook body read, in bytes; default 5 MB (SendGrid posts batches of events). */
  maxBodyBytes?: number;
  /** Called with the error behind every 5xx answer, whose problem document says nothing of its cause. */
  onError?(error: unknown, request: Request): void;
}

/** What {@link feedbackEndpoints} returns. */
export interface FeedbackEndpoints {
  /** The handler: mount it under {@link FeedbackEndpoints.basePath} in your framework. */
  handler: (request: Request, context?: HandlerContext) => Promise<Response>;
  /** The path prefix, without a trailing slash. */
  basePath: string;
}

// The smallest transparent GIF: what an open pixel answers.
const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const NO_STORE = { "cache-control": "no-store, private", "referrer-policy": "no-referrer" };

const UNSUBSCRIBE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Unsubscribe</title></head>
<body><form method="post"><p>Stop receiving these emails?</p>
<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
</body></html>`;

function problem(request: Request, error: unknown, options: FeedbackEndpointsOptions, allow?: string[]) {
  const document = toProblemDocument(error);
  if (document.status >= 500) {
    try {
      options.onError?.(error, request);
    } catch {
      // A failing logger must not turn the answer into none.
    }
  }
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (allow) headers.allow = allow.join(", ");
  return new Response(request.method === "HEAD" ? null : JSON.stringify(document), {
    status: document.status,
    headers,
  });
}

/** Reads the body as UTF-8 text, at most `maxBytes`, whatever a framework's parser left. */
async function bodyText(request: Request, parsed: unknown, maxBytes: number): Promise<string> {
  if (Number(request.headers.get("content-length")) > maxBytes) {
    throw new CampaignKitError("PAYLOAD_TOO_LARGE", `The webhook body is over ${maxBytes} bytes.`, {
      details: { maxBytes },
    });
  }
  let text: string;
  if (typeof parsed === "string") text = parsed;
  else if (parsed instanceof Uint8Array) text = new TextDecoder().decode(parsed);
  else if (parsed !== undefined) {
    // A parser that made an object of the body lost the bytes the signature covers.
    throw new Error(
      "A body parser read the webhook body before the feedback handler: signatures cover the raw bytes, so " +
        "mount the handler before the parser or pass the raw body as `handler(request, { body: rawText })`.",
    );
  } else text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) {
    throw new CampaignKitError("PAYLOAD_TOO_LARGE", `The webhook body is over ${maxBytes} bytes.`, {
      details: { maxBytes },
    });
  }
  return text;
}

/**
 * Delivery feedback over HTTP, as a web-standard `(request: Request) => Promise<Response>` handler (mount
 * it like {@link executionApi}, with {@link toNodeHandler} on `node:http`, Express or Fastify):
 * - `POST {basePath}/webhooks/{provider}`: a provider's webhook (`sesWebhook`, `resendWebhook`,
 *   `postmarkWebhook`, `sendgridWebhook`, `twilioWebhook`), its signature verified, its events recorded:
 *   200 `{ recorded, duplicates, unmatched }`. A bad signature is a 401, a malformed body a 400, both as
 *   problem documents; the provider retries only on 5xx, when storage fails.
 * - `GET {basePath}/t/o/{token}`: the open pixel (a 1x1 GIF), recording an open.
 * - `GET {basePath}/t/c/{token}`: a tracked link, recording a click and redirecting (302) to the link the
 *   message carried, the only place a token can point to.
 * - `POST {basePath}/t/u/{token}`: RFC 8058 one-click unsubscription, recording it and suppressing the
 *   address; `GET` answers a page whose button posts it (a prefetch must not unsubscribe anyone).
 *
 * `HEAD` is answered on the tracking routes without recording anything. A token the kit didn't sign is a
 * 404. No route needs the caller to be authenticated: signatures and tokens are the authentication.
 *
 * @example
 * ```ts
 * import { feedbackEndpoints, resendWebhook } from "campaign-kit/http";
 *
 * const feedback = feedbackEndpoints(kit, { webhooks: [resendWebhook({ secret: process.env.RESEND_WEBHOOK_SECRET! })] });
 * // app/campaign-kit/[...path]/route.ts in Next.js:
 * export const GET = feedback.handler, POST = feedback.handler, HEAD = feedback.handler;
 * ```
 */
export function feedbackEndpoints(
  kit: Pick<CampaignKit, "feedback">,
  options: FeedbackEndpointsOptions = {},
): FeedbackEndpoints {
  const basePath = `/${(options.basePath ?? "/campaign-kit").replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");
  const maxBodyBytes = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const webhooks = new Map((options.webhooks ?? []).map((webhook) => [webhook.name, webhook]));

  const handler = async (request: Request, context: HandlerContext = {}): Promise<Response> => {
    let allow: string[] | undefined;
    try {
      const url = new URL(request.url);
      const segments = url.pathname.startsWith(`${basePath}/`)
        ? url.pathname.slice(basePath.length + 1).split("/")
        : [];
      const [first, second, third, ...rest] = segments;
      if (first === "webhooks" && second !== undefined && third === undefined && webhooks.has(second)) {
        allow = ["POST"];
        if (request.method !== "POST") throw notAllowed(request, allow);
        const webhook = webhooks.get(second) as FeedbackWebhook;
        const body = await bodyText(request, context.body, maxBodyBytes);
        let parsed: Awaited<ReturnType<FeedbackWebhook["handle"]>>;
        try {
          parsed = await webhook.handle({
            url: request.url,
            headers: request.headers,
            body,
            now: Date.now(),
          });
        } catch (error) {
          // A parser tripping over a body it didn't expect is the body's fault, not the server's.
          if (isCampaignKitError(error)) throw error;
          throw new CampaignKitError("VALIDATION_FAILED", `This ${webhook.name} webhook body is malformed.`, {
            cause: error,
            details: { issues: [{ path: "", message: "Unexpected body" }] },
          });
        }
        await parsed.confirm?.();
        const result = await kit.feedback.record({ events: parsed.events });
        return Response.json({
          recorded: result.recorded,
          duplicates: result.duplicates,
          unmatched: result.unmatched.length,
        });
      }
      const kinds = { o: "open", c: "click", u: "unsubscribe" } as const;
      if (
        first === "t" &&
        second !== undefined &&
        Object.hasOwn(kinds, second) &&
        third &&
        rest.length === 0
      ) {
        const kind = kinds[second as keyof typeof kinds];
        allow = kind === "unsubscribe" ? ["GET", "HEAD", "POST"] : ["GET", "HEAD"];
        if (!allow.includes(request.method)) throw notAllowed(request, allow);
        if (kind === "unsubscribe" && request.method !== "POST") {
          return new Response(request.method === "HEAD" ? null : UNSUBSCRIBE_PAGE, {
            headers: { "content-type": "text/html; charset=utf-8", ...NO_STORE },
          });
        }
        const tracked = await kit.feedback.track({
          kind,
          token: third,
          method: request.method,
          userAgent: request.headers.get("user-agent"),
        });
        if (kind === "click") {
          return new Response(null, {
            status: 302,
            headers: { location: tracked.url as string, ...NO_STORE },
          });
        }
        if (kind === "open") {
          return new Response(request.method === "HEAD" ? null : PIXEL, {
            headers: { "content-type": "image/gif", "content-length": String(PIXEL.length), ...NO_STORE },
          });
        }
        return new Response(null, { status: 204, headers: NO_STORE });
      }
      throw new CampaignKitError(
        "NOT_FOUND",
        `Nothing is served at this path: the feedback handler answers POST ${basePath}/webhooks/{${[...webhooks.keys()].join("|")}} and ${basePath}/t/{o|c|u}/{token}.`,
      );
    } catch (error) {
      return problem(
        request,
        error,
        options,
        isCampaignKitError(error, "METHOD_NOT_ALLOWED") ? allow : undefined,
      );
    }
  };
  return { handler, basePath };
}

function notAllowed(request: Request, allow: string[]): CampaignKitError {
  return new CampaignKitError(
    "METHOD_NOT_ALLOWED",
    `${request.method.slice(0, 20)} is not served here: this path answers ${allow.join(" and ")}.`,
    { details: { allow } },
  );
}
