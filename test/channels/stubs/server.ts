/**
 * The plumbing under each provider stub: a real `node:http` server on 127.0.0.1 that reads the whole request
 * and lets the stub answer it, plus a queue of canned answers so a test can make the next request(s) fail the
 * way the provider documents (status, body, headers) without teaching the stub every fault.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the stub received it. */
export interface StubRequest {
  method: string;
  /** The path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer: status, JSON body (or none) and extra headers. */
export interface StubReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A running stub. */
export interface StubServer {
  /** `http://127.0.0.1:<port>`: the `baseUrl` to give the adapter. */
  url: string;
  /** Every request received, canned answers included. */
  requests: StubRequest[];
  /** Answers the next request with `reply` instead of handling it; queued answers go first in, first out. */
  enqueue(...replies: StubReply[]): void;
  close(): Promise<void>;
}

/** Starts a stub answering with `handle`, or never answering when it returns `null` (to test timeouts). */
export async function startStub(handle: (request: StubRequest) => StubReply | null): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const queue: StubReply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(request);
      let reply: StubReply | null;
      try {
        reply = queue.shift() ?? handle(request);
      } catch (error) {
        reply = { status: 500, body: { stubError: String(error) } };
      }
      if (reply === null) return;
      const headers: Record<string, string> = { ...reply.headers };
      if (reply.body !== undefined) headers["content-type"] ??= "application/json";
      res.writeHead(reply.status, headers);
      res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A random id of `length` lowercase hex digits, as providers' ids carry. */
export function hex(length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}
