import type { ValidationIssue } from "../errors.js";
import { CampaignKitError, isCampaignKitError } from "../errors.js";
import type { ActorRef } from "../kit/context.js";
import type { CampaignKit } from "../kit/create-campaign-kit.js";
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from "./body.js";
import { toProblemDocument } from "./problems.js";

/** Options for {@link executionApi}. */
export interface ExecutionApiOptions {
  /**
   * Who is calling: return the actor the kit checks permissions for (it needs `campaign.publish` to trigger,
   * `campaign.read` to read), or throw a `CampaignKitError("FORBIDDEN")` to refuse. Authentication is the
   * host's: the handler trusts what you return. Called before the body is read; under `toNodeHandler` the
   * request carries the method, URL and headers but no body (the handler reads it from node:http after).
   */
  authenticate(request: Request): ActorRef | Promise<ActorRef>;
  /** Path prefix the routes live under; defaults to `/im/executions`. */
  basePath?: string;
  /**
   * The largest body read, in bytes: larger ones get a 413 as soon as their declared length or the bytes
   * read pass it. Defaults to the largest valid call (20 recipients with 200 KB contexts, about 4.3 MB).
   */
  maxBodyBytes?: number;
  /**
   * Called with the error behind every 5xx answer (storage down, a kit set up without an adapter, a throwing
   * `authenticate`), whose problem document says nothing of its cause: log it here. Never called for 4xx.
   */
  onError?(error: unknown, request: Request): void;
}

/** What a framework already knows about the request, for {@link ExecutionApiHandler}. */
export interface HandlerContext {
  /**
   * The body as the framework's parser left it (Express's `req.body` after `express.json()`, Fastify's
   * `request.body`, Hono's `await c.req.json()`): used instead of reading `request.body`, which the parser
   * consumed. A parsed value is validated by the kit as any body is; text or bytes are parsed as JSON here.
   */
  body?: unknown;
}

/**
 * The execution API as a web-standard handler: any `Request` in, a `Response` out, never a rejection. Every
 * answer but a 2xx is a problem document (`application/problem+json`); a path outside the routes gets a 404.
 */
export type ExecutionApiHandler = (request: Request, context?: HandlerContext) => Promise<Response>;

/** What {@link executionApi} returns. */
export interface ExecutionApi {
  /** The handler: mount it under {@link ExecutionApi.basePath} in your framework. */
  handler: ExecutionApiHandler;
  /** The path prefix the routes live under, without a trailing slash (`/im/executions`). */
  basePath: string;
}

const ROUTES = "POST {base}/unitary, POST {base}/audience and GET {base}/(unitary|audience)/{executionId}";

/**
 * One call as the handler's core sees it, whether it came as a web `Request` or straight from node:http
 * ({@link toNodeHandler} skips building a body stream and a `Response` per call).
 * @internal
 */
export interface Exchange {
  /** The method as received (node:http passes some a web `Request` can't carry, such as TRACE). */
  method: string;
  /** The absolute URL; only its path routes. */
  url: string;
  /** What `authenticate` and `onError` get: method, URL and headers. */
  request: Request;
  /** Reads and parses the JSON body, or throws the 413/415/400 refusal. */
  body(maxBytes: number): Promise<unknown>;
}

/** What the handler's core answers: a JSON document, or no body for HEAD. @internal */
export interface ExchangeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * Where a handler made by {@link executionApi} keeps its core, for {@link toNodeHandler}. `Symbol.for`: the
 * CommonJS build bundles each entry point on its own, so two copies of this module may meet.
 * @internal
 */
export const EXCHANGE = Symbol.for("campaign-kit.http.exchange");

/** A handler that also serves {@link Exchange}s directly. @internal */
export type ExchangeHandler = ExecutionApiHandler & {
  [EXCHANGE]?: (exchange: Exchange) => Promise<ExchangeAnswer>;
};

function answer(
  method: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): ExchangeAnswer {
  // A HEAD answer has the headers of the GET answer and no body (RFC 9110).
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: method === "HEAD" ? null : JSON.stringify(body),
  };
}

/** The execution id in a path segment, or `VALIDATION_FAILED` (400) when the segment is badly encoded. */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "The execution id in the path is not URL-encoded properly.",
      { cause: error, details: { issues: [{ path: "executionId", message: "Expected a URL-encoded id" }] } },
    );
  }
}

/** Turns the kit's refusal of an id no execution can have (too long, control characters...) into a 404. */
function asNotFound(error: unknown): unknown {
  const issues = isCampaignKitError(error, "VALIDATION_FAILED")
    ? (error.details.issues as ValidationIssue[])
    : [];
  const issue = issues.find((i) => i.path === "id");
  if (issue === undefined) return error;
  return new CampaignKitError("NOT_FOUND", `No execution has the id in the path: ${issue.message}.`, {
    cause: error,
    details: { issues: [{ path: "executionId", message: issue.message }] },
  });
}

/**
 * The reference execution API on a kit, as a web-standard `(request: Request) => Promise<Response>` handler
 * that runs in any framework and runtime (node:http through {@link toNodeHandler}, Express, Fastify, Hono,
 * Next.js route handlers, Bun, Deno, Cloudflare Workers):
 * - `POST {basePath}/unitary` -> 202 `{ executionId, requestId, createdAt }`
 * - `POST {basePath}/audience` -> 202 `{ executionId, requestId, createdAt }`
 * - `GET {basePath}/audience/{executionId}` (and `/unitary/{executionId}`) -> 200 the execution's status
 *
 * Refusals answer with the reference problem document (`{ type, title, status, detail, report }`): 400 for
 * invalid input (the body's values are counted before it is parsed), 403 from `authenticate`, 404 for an id
 * no execution can have and for paths outside the routes, 405 with `allow` for another method on a route,
 * 413 for a body over `maxBodyBytes`, 415 unless the body is JSON in UTF-8. A 5xx never carries its cause:
 * `onError` gets it.
 *
 * @example
 * ```ts
 * import { executionApi } from "campaign-kit/http";
 *
 * const api = executionApi(kit, {
 *   authenticate: (request) => apiKeys.actorFor(request.headers.get("x-api-key")),
 *   onError: (error) => logger.error(error),
 * });
 * // A Next.js route handler (app/im/executions/[...path]/route.ts), Bun.serve, Deno.serve, a Worker:
 * export const POST = (request: Request) => api.handler(request);
 * export const GET = (request: Request) => api.handler(request);
 * ```
 */
export function executionApi(
  kit: Pick<CampaignKit, "executions">,
  options: ExecutionApiOptions,
): ExecutionApi {
  const basePath = `/${(options.basePath ?? "/im/executions").replace(/^\/+|\/+$/g, "")}`.replace(/^\/$/, "");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const serve = async (exchange: Exchange): Promise<ExchangeAnswer> => {
    const { method, request } = exchange;
    let allow: string[] = [];
    try {
      const path = new URL(exchange.url).pathname;
      const [kind, id, ...rest] = path.startsWith(`${basePath}/`)
        ? path.slice(basePath.length + 1).split("/")
        : [];
      if (rest.length > 0 || (kind !== "unitary" && kind !== "audience")) {
        throw new CampaignKitError(
          "NOT_FOUND",
          `Nothing is served at this path: the execution API answers ${ROUTES.replaceAll("{base}", basePath)}.`,
        );
      }
      allow = id === undefined ? ["POST"] : ["GET", "HEAD"];
      if (!allow.includes(method)) {
        throw new CampaignKitError(
          "METHOD_NOT_ALLOWED",
          `${method.slice(0, 20)} is not served here: this path answers ${allow.join(" and ")}.`,
          { details: { allow } },
        );
      }
      const actor = await options.authenticate(request);
      if (id !== undefined) {
        const status = await kit.executions.status({ actor, id: decodeId(id) }).catch((error: unknown) => {
          throw asNotFound(error);
        });
        return answer(method, 200, status);
      }
      const body = (await exchange.body(maxBodyBytes)) as never;
      const accepted =
        kind === "unitary"
          ? await kit.executions.triggerUnitary({ actor, request: body })
          : await kit.executions.triggerAudience({ actor, request: body });
      return answer(method, 202, {
        executionId: accepted.executionId,
        requestId: accepted.requestId,
        createdAt: accepted.createdAt,
      });
    } catch (error) {
      const problem = toProblemDocument(error);
      if (problem.status >= 500) {
        try {
          options.onError?.(error, request);
        } catch {
          // A failing logger must not turn the problem document into no answer at all.
        }
      }
      const headers: Record<string, string> = { "content-type": "application/problem+json" };
      if (problem.status === 405) headers.allow = allow.join(", ");
      // Whatever of a too-large body is still coming is not worth reading: close once answered.
      if (problem.status === 413) headers.connection = "close";
      return answer(method, problem.status, problem, headers);
    }
  };

  const handler: ExchangeHandler = async (request, context = {}) => {
    const answered = await serve({
      method: request.method,
      url: request.url,
      request,
      body: (maxBytes) => readJsonBody(request, context.body, maxBytes),
    });
    return new Response(answered.body, { status: answered.status, headers: answered.headers });
  };
  Object.defineProperty(handler, EXCHANGE, { value: serve });
  return { handler, basePath };
}
