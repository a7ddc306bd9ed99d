import type { IncomingMessage, ServerResponse } from "node:http";
import { CampaignKitError } from "../errors.js";
import type { ActorRef } from "../kit/context.js";
import type { CampaignKit } from "../kit/create-campaign-kit.js";
import { MAX_CONTEXT_BYTES, MAX_UNITARY_RECIPIENTS, toProblemDocument } from "../kit/trigger-payloads.js";

/** Options for {@link executionApiHandler}. */
export interface ExecutionApiHandlerOptions {
  /**
   * Who is calling: return the actor the kit checks permissions for (it needs `campaign.publish` to trigger,
   * `campaign.read` to read), or throw a `CampaignKitError("FORBIDDEN")` to refuse. Authentication is the
   * host's: this handler trusts what you return.
   */
  authenticate(request: IncomingMessage): ActorRef | Promise<ActorRef>;
  /** Path prefix the routes live under; defaults to `/im/executions`. */
  basePath?: string;
}

// The largest body a valid call can have: 20 recipients each with a full context, plus the envelope.
const MAX_BODY_BYTES = (MAX_UNITARY_RECIPIENTS + 1) * (MAX_CONTEXT_BYTES + 4096);

function send(response: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  response.writeHead(status, { "content-type": type });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new CampaignKitError("VALIDATION_FAILED", "The request body is too large.", {
        details: { issues: [{ path: "", message: `At most ${MAX_BODY_BYTES} bytes` }] },
      });
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new CampaignKitError("VALIDATION_FAILED", "The request body is not JSON.", {
      cause: error,
      details: { issues: [{ path: "", message: "Expected a JSON object" }] },
    });
  }
}

/**
 * A `node:http` request handler serving the reference execution API on a kit, so other systems can trigger
 * campaigns over REST:
 * - `POST {basePath}/unitary` -> 202 `{ executionId, requestId, createdAt }`
 * - `POST {basePath}/audience` -> 202 `{ executionId, requestId, createdAt }`
 * - `GET {basePath}/audience/{executionId}` (and `/unitary/{executionId}`) -> 200 the execution's status
 * Refusals answer with the reference problem document (`{ type, title, status, report }`) and its status.
 * Returns `false` for requests outside its routes, so it can sit in front of other handlers.
 *
 * @example
 * ```ts
 * const handle = executionApiHandler(kit, { authenticate: (req) => apiKeys.actorFor(req.headers["x-api-key"]) });
 * http.createServer(async (req, res) => {
 *   if (!(await handle(req, res))) res.writeHead(404).end();
 * }).listen(8080);
 * ```
 */
export function executionApiHandler(
  kit: Pick<CampaignKit, "executions">,
  options: ExecutionApiHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const base = (options.basePath ?? "/im/executions").replace(/\/$/, "");
  return async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (!path.startsWith(`${base}/`)) return false;
    const route = path.slice(base.length + 1).split("/");
    try {
      const [kind, id, ...rest] = route;
      if (rest.length > 0 || (kind !== "unitary" && kind !== "audience")) return false;
      if (request.method === "POST" && id === undefined) {
        const actor = await options.authenticate(request);
        const body = (await readJson(request)) as never;
        const accepted =
          kind === "unitary"
            ? await kit.executions.triggerUnitary({ actor, request: body })
            : await kit.executions.triggerAudience({ actor, request: body });
        const { created: _created, ...answer } = accepted;
        send(response, 202, answer);
        return true;
      }
      if (request.method === "GET" && id !== undefined) {
        const actor = await options.authenticate(request);
        let executionId: string;
        try {
          executionId = decodeURIComponent(id);
        } catch (error) {
          throw new CampaignKitError(
            "VALIDATION_FAILED",
            "The execution id in the path is not URL-encoded properly.",
            {
              cause: error,
              details: { issues: [{ path: "executionId", message: "Expected a URL-encoded id" }] },
            },
          );
        }
        send(response, 200, await kit.executions.status({ actor, id: executionId }));
        return true;
      }
      return false;
    } catch (error) {
      const problem = toProblemDocument(error);
      send(response, problem.status, problem, "application/problem+json");
      return true;
    }
  };
}
