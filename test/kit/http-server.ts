import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CampaignKitError } from "../../src/errors.js";
import { type ExecutionApiOptions, executionApi } from "../../src/http/handler.js";
import { toNodeHandler } from "../../src/http/node.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { ADMIN } from "./fixtures.js";

/** What a raw HTTP exchange answered. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request to send byte for byte. */
export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * Sends a request to `127.0.0.1:port` as given (no headers added but its body's length, unless it is
 * chunked), for what `fetch` won't send: any method, path, content type or framing.
 */
export function rawRequest(port: number, options: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    // Node frames a GET's body only when told its length; unframed, the server reads it as the next request.
    if (options.body !== undefined && headers["transfer-encoding"] === undefined) {
      headers["content-length"] = String(Buffer.byteLength(options.body));
    }
    const outgoing = request(
      { host: "127.0.0.1", port, method: options.method, path: options.path, headers },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        incoming.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** API key `secret` acts as {@link ADMIN}; anything else is refused. */
export const authenticate: ExecutionApiOptions["authenticate"] = (request) => {
  if (request.headers.get("x-api-key") !== "secret")
    throw new CampaignKitError("FORBIDDEN", "Unknown API key.");
  return ADMIN;
};

/**
 * Serves the execution API of `kit` on a real `node:http` server on a free port, through `toNodeHandler`,
 * every request going to the handler: API key `secret` acts as {@link ADMIN}, anything else is refused.
 */
export async function serveExecutionApi(
  kit: Pick<CampaignKit, "executions">,
  options: Partial<ExecutionApiOptions> = {},
) {
  const server: Server = createServer(toNodeHandler(executionApi(kit, { authenticate, ...options })));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  /** `fetch` with the API key and a JSON content type unless `init.headers` says otherwise. */
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { "x-api-key": "secret", "content-type": "application/json", ...init.headers },
    });
  const raw = (options: RawRequest) => rawRequest(port, options);
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { base, call, raw, close };
}
