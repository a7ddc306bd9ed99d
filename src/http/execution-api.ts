import type { IncomingMessage, ServerResponse } from "node:http";
import type { ValidationIssue } from "../errors.js";
import { CampaignKitError, isCampaignKitError } from "../errors.js";
import { MAX_CONTEXT_BYTES, MAX_UNITARY_RECIPIENTS, toProblemDocument } from "../executions/payloads.js";
import type { ActorRef } from "../kit/context.js";
import type { CampaignKit } from "../kit/create-campaign-kit.js";
import { screenJsonText, validationFailed } from "../model/input-guard.js";

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

// `application/json`, or a type built on it such as `application/vnd.acme+json`; parameters come after `;`.
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/i;

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** Throws `UNSUPPORTED_MEDIA_TYPE` (415) unless the request says its body is JSON in UTF-8. */
function requireJson(request: IncomingMessage): void {
  const header = request.headers["content-type"];
  const [type = "", ...parameters] = (header ?? "").split(";").map((part) => part.trim());
  const charset = parameters
    .find((parameter) => parameter.toLowerCase().startsWith("charset="))
    ?.slice("charset=".length)
    .replaceAll('"', "")
    .toLowerCase();
  const utf8 = charset === undefined || charset === "utf-8" || charset === "utf8";
  if (JSON_MEDIA_TYPE.test(type) && utf8) return;
  throw new CampaignKitError(
    "UNSUPPORTED_MEDIA_TYPE",
    header === undefined
      ? "The request has no content-type: send the body as JSON with `content-type: application/json`."
      : `The request body is '${header.slice(0, 100)}': send it as JSON in UTF-8, with \`content-type: application/json\`.`,
    { details: { accepted: ["application/json", "application/*+json"] } },
  );
}

function tooLarge(): CampaignKitError {
  return new CampaignKitError(
    "PAYLOAD_TOO_LARGE",
    `The request body is over ${MAX_BODY_BYTES} bytes, more than any valid call ` +
      `(${MAX_UNITARY_RECIPIENTS} recipients with ${MAX_CONTEXT_BYTES / 1024} KB contexts each).`,
    { details: { maxBytes: MAX_BODY_BYTES } },
  );
}

/**
 * Reads the body as UTF-8, refusing with `PAYLOAD_TOO_LARGE` (413) as soon as it is known to be too large:
 * from its declared length before reading anything, else once the bytes read pass the limit.
 */
function readBody(request: IncomingMessage): Promise<string> {
  if (Number(request.headers["content-length"]) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Keep nothing more, but let the rest flow away: destroying the request would cut off the answer too.
      request.off("data", onData);
      request.resume();
      reject(tooLarge());
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.once("error", reject);
    // After `end` this changes nothing; before it, the caller left, and the call must not wait forever.
    request.once("close", () =>
      reject(
        new CampaignKitError("VALIDATION_FAILED", "The connection closed before the whole body arrived."),
      ),
    );
  });
}

/** Parses a JSON body, counting its values first so a huge one is refused before parsing blocks the loop. */
function parseJson(text: string): unknown {
  const tooMany = screenJsonText(text);
  if (tooMany) throw validationFailed("request body", [tooMany]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CampaignKitError("VALIDATION_FAILED", "The request body is not JSON.", {
      cause: error,
      details: { issues: [{ path: "", message: "Expected a JSON object" }] },
    });
  }
}

/** The execution id in a path segment, or `VALIDATION_FAILED` (400) when the segment is badly encoded. */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
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
    // The path as sent, up to its query: `new URL` would read `//host/...` as a host, and throws on `//`.
    const path = (request.url ?? "/").split(/[?#]/, 1)[0] ?? "";
    if (!path.startsWith(`${base}/`)) return false;
    const [kind, id, ...rest] = path.slice(base.length + 1).split("/");
    if (rest.length > 0 || (kind !== "unitary" && kind !== "audience")) return false;
    const allow = id === undefined ? ["POST"] : ["GET", "HEAD"];
    try {
      if (!allow.includes(request.method ?? "")) {
        throw new CampaignKitError(
          "METHOD_NOT_ALLOWED",
          `${request.method} is not served here: this path answers ${allow.join(" and ")}.`,
          { details: { allow } },
        );
      }
      const actor = await options.authenticate(request);
      if (id === undefined) {
        requireJson(request);
        const body = parseJson(await readBody(request)) as never;
        const accepted =
          kind === "unitary"
            ? await kit.executions.triggerUnitary({ actor, request: body })
            : await kit.executions.triggerAudience({ actor, request: body });
        const { created: _created, ...answer } = accepted;
        send(response, 202, answer);
      } else {
        const status = await kit.executions.status({ actor, id: decodeId(id) }).catch((error: unknown) => {
          throw asNotFound(error);
        });
        send(response, 200, status);
      }
    } catch (error) {
      const problem = toProblemDocument(error);
      const headers: Record<string, string> = { "content-type": "application/problem+json" };
      if (problem.status === 405) headers.allow = allow.join(", ");
      // Whatever of a too-large body is still coming is not worth reading: close once answered.
      if (problem.status === 413) headers.connection = "close";
      send(response, problem.status, problem, headers);
    }
    return true;
  };
}
