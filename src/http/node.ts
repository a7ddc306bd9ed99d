import type { IncomingMessage, ServerResponse } from "node:http";
import { CampaignKitError } from "../errors.js";
import { parseJson, screenBody, tooLarge, unfinishedBody } from "./body.js";
import {
  EXCHANGE,
  type Exchange,
  type ExchangeAnswer,
  type ExchangeHandler,
  type ExecutionApi,
  type ExecutionApiHandler,
  type HandlerContext,
} from "./handler.js";
import { toProblemDocument } from "./problems.js";

/** A `node:http` request listener, as {@link toNodeHandler} makes it; it never rejects. */
export type NodeHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

// Methods the Fetch API refuses to put in a `Request`; node:http still receives them.
const FETCH_FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
// A Host header that can only be a host: anything else (a path, spaces) must not steer the URL.
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The request body as a web stream that reads `incoming` only as it is read, one chunk at a time: a body
 * nobody reads is left for node:http to discard, and a cancelled one (the handler's 413) is let flow away
 * unread, since destroying the request would cut off the answer too.
 */
function bodyStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  let onData: ((chunk: Buffer) => void) | undefined;
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (onData === undefined) {
          const settle = (error?: unknown) => {
            if (finished) return;
            finished = true;
            if (error === undefined) controller.close();
            else controller.error(error);
          };
          onData = (chunk) => {
            if (finished) return;
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
          };
          incoming.on("data", onData);
          incoming.once("end", () => settle());
          incoming.on("error", settle);
          incoming.once("close", () => {
            if (!incoming.complete) settle(new Error("The connection closed before the whole body arrived."));
          });
        }
        incoming.resume();
      },
      cancel() {
        finished = true;
        if (onData) incoming.off("data", onData);
        incoming.resume();
      },
    },
    // Nothing is read ahead of the reader.
    { highWaterMark: 0 },
  );
}

/**
 * The web `Request` for `incoming`, with what a framework's body parser left on it (`req.body`). Without
 * `withBody` it carries the method, URL and headers only (the node lane reads the body from `incoming`).
 */
function toRequest(
  incoming: IncomingMessage,
  withBody = true,
): { request: Request; context: HandlerContext; hasBody: boolean; url: string } {
  const { host } = incoming.headers;
  const secure = (incoming.socket as { encrypted?: boolean } | null)?.encrypted === true;
  // Express's `app.use(path, handler)` strips `path` from `url` and keeps the whole path in `originalUrl`.
  const target = (incoming as { originalUrl?: string }).originalUrl ?? incoming.url ?? "/";
  const path = target.startsWith("/") ? target : `/${target}`;
  const method = incoming.method ?? "GET";
  const forbidden = FETCH_FORBIDDEN_METHODS.has(method.toUpperCase());
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.startsWith(":")) continue;
    try {
      headers.append(name, raw[i + 1] as string);
    } catch {
      // A header the Fetch API can't hold names nothing the execution API reads.
    }
  }
  const parsed = (incoming as { body?: unknown }).body;
  const hasBody = method !== "GET" && method !== "HEAD" && !forbidden;
  const init: RequestInit & { duplex?: "half" } = { method: forbidden ? "GET" : method, headers };
  if (withBody && hasBody && parsed === undefined) {
    init.body = bodyStream(incoming);
    init.duplex = "half";
  }
  const origin = `${secure ? "https" : "http"}://${host !== undefined && PLAIN_HOST.test(host) ? host : "localhost"}`;
  let request: Request;
  try {
    request = new Request(`${origin}${path}`, init);
  } catch {
    // A Host the URL parser still refuses (a port over 65535): the path is what routes, not the host.
    request = new Request(`http://localhost${path}`, init);
  }
  // The handler answers these with a 405 like any other method it doesn't serve.
  if (forbidden) Object.defineProperty(request, "method", { value: method });
  return {
    request,
    context: hasBody && parsed !== undefined ? { body: parsed } : {},
    hasBody,
    // Routing reads the path only, on a fixed origin: a Host header never steers it.
    url: `http://localhost${path}`,
  };
}

/**
 * Reads `incoming`'s body as UTF-8 text, refusing with `PAYLOAD_TOO_LARGE` once the bytes read pass
 * `maxBytes`: the rest is let flow away unread (the 413 closes the connection).
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  if (incoming.readableEnded) {
    // The host's set-up, not the caller's fault: a 500, with this message for the host's `onError`.
    return Promise.reject(
      new Error(
        "The request body was already read, by a body parser before this handler: leave what it parsed on " +
          "`req.body`, or mount the handler before the parser.",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        stop();
        incoming.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8");
      // As the web path's TextDecoder does: a UTF-8 byte order mark is not part of the text.
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onError = (error: unknown) => {
      stop();
      reject(unfinishedBody(error));
    };
    const onClose = () => {
      if (incoming.complete) return;
      stop();
      reject(unfinishedBody(new Error("The connection closed before the whole body arrived.")));
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.on("error", onError);
    incoming.once("close", onClose);
  });
}

/** Writes the core's answer: a small JSON document, written whole with its length. */
function write(incoming: IncomingMessage, outgoing: ServerResponse, answer: ExchangeAnswer): void {
  if (outgoing.headersSent || outgoing.destroyed) return;
  const headers: Record<string, string | number> = answer.headers;
  if (incoming.method !== "HEAD") headers["content-length"] = Buffer.byteLength(answer.body ?? "");
  outgoing.writeHead(answer.status, headers);
  outgoing.end(answer.body ?? undefined);
}

/**
 * The node lane of a handler made by `executionApi`: its core is called with the request's method, URL and
 * headers, and reads the body straight from `incoming`; its answer is written as is. No web body stream or
 * `Response` is built, which under load cost more than the kit's own work on a trigger.
 */
function nodeLane(serve: (exchange: Exchange) => Promise<ExchangeAnswer>): NodeHandler {
  return async (incoming, outgoing) => {
    try {
      let answered: ExchangeAnswer;
      let converted: ReturnType<typeof toRequest> | undefined;
      try {
        converted = toRequest(incoming, false);
      } catch (error) {
        answered = problemAnswer(unreadable(error));
      }
      if (converted !== undefined) {
        const { request, context, url } = converted;
        answered = await serve({
          method: incoming.method ?? "GET",
          url,
          request,
          body: async (maxBytes) => {
            const screened = screenBody(
              request.headers.get("content-type"),
              request.headers.get("content-length"),
              context.body,
              maxBytes,
            );
            return screened.done ? screened.value : parseJson(await readIncoming(incoming, maxBytes));
          },
        });
      }
      write(incoming, outgoing, answered!);
    } catch (error) {
      // The answer can't be written (the socket is gone): nobody is left to answer.
      outgoing.destroy(error instanceof Error ? error : undefined);
    }
  };
}

function problemAnswer(error: unknown): ExchangeAnswer {
  const problem = toProblemDocument(error);
  return {
    status: problem.status,
    headers: { "content-type": "application/problem+json" },
    body: JSON.stringify(problem),
  };
}

async function send(incoming: IncomingMessage, outgoing: ServerResponse, response: Response): Promise<void> {
  // The execution API answers small JSON documents: read whole, written with their length.
  const body = Buffer.from(await response.arrayBuffer());
  if (outgoing.headersSent || outgoing.destroyed) return;
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  if (incoming.method !== "HEAD") headers["content-length"] = String(body.byteLength);
  outgoing.writeHead(response.status, headers);
  outgoing.end(body);
}

function unreadable(cause: unknown): CampaignKitError {
  return new CampaignKitError("VALIDATION_FAILED", "The request can't be read as an HTTP request.", {
    cause,
    details: { issues: [{ path: "", message: "Send a well-formed HTTP request" }] },
  });
}

function problemResponse(error: unknown): Response {
  const answered = problemAnswer(error);
  return new Response(answered.body, { status: answered.status, headers: answered.headers });
}

/**
 * Runs a web-standard handler (the execution API's, from {@link executionApi}) as a `node:http` request
 * listener: the request becomes a `Request` whose body is streamed as the handler reads it (so a body over
 * the limit gets its 413 without being read whole), and the `Response` is written back with its status and
 * headers. The execution API's own handler takes a faster lane with the same answers: its body is read from
 * `incoming` and its answer written to `outgoing` directly, and the `Request` that `authenticate` and
 * `onError` get carries the method, URL and headers but no body. A body that a framework's parser already read (`req.body`, as Express's `express.json()` leaves
 * it) is handed to the handler instead. Express's `app.use(path, ...)` mounts work: the handler sees the
 * whole path (`req.originalUrl`).
 *
 * The handler answers every request it is given (404 for paths outside its routes): give it the requests
 * under its base path, as in the example.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { executionApi, toNodeHandler } from "campaign-kit/http";
 *
 * const api = executionApi(kit, { authenticate: (request) => actorFor(request.headers.get("x-api-key")) });
 * const executions = toNodeHandler(api);
 * createServer((req, res) => {
 *   if (req.url?.startsWith(`${api.basePath}/`)) return executions(req, res);
 *   res.writeHead(404).end();
 * }).listen(8080);
 *
 * // Express, before or after `express.json()`:
 * app.use(api.basePath, toNodeHandler(api));
 * ```
 */
export function toNodeHandler(api: ExecutionApi | ExecutionApiHandler): NodeHandler {
  const handler = typeof api === "function" ? api : api.handler;
  const serve = (handler as ExchangeHandler)[EXCHANGE];
  if (serve !== undefined) return nodeLane(serve);
  const answer = async (incoming: IncomingMessage): Promise<Response> => {
    let converted: ReturnType<typeof toRequest>;
    try {
      converted = toRequest(incoming);
    } catch (error) {
      return problemResponse(unreadable(error));
    }
    // The execution API's handler never rejects; another handler's rejection is still answered.
    return Promise.resolve()
      .then(() => handler(converted.request, converted.context))
      .catch(problemResponse);
  };
  return async (incoming, outgoing) => {
    try {
      await send(incoming, outgoing, await answer(incoming));
    } catch (error) {
      // The answer can't be written (the socket is gone): nobody is left to answer.
      outgoing.destroy(error instanceof Error ? error : undefined);
    }
  };
}
