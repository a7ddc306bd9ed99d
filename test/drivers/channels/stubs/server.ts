/**
 * The plumbing under every provider stub: a real `node:http` server on 127.0.0.1 (a random port) that reads
 * each request whole, records it, and lets the stub answer it; plus a queue of canned answers, so a test can
 * make the next request(s) fail the way the provider documents (status, body, headers) without teaching the
 * stub every fault. Test code: no network.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the stub received it. */
export interface StubRequest {
  method: string;
  /** The path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: unknown;
}

/** An answer: a status, extra headers, and a JSON body (`undefined` for none). */
export interface StubAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A running stub. */
export interface StubServer {
  /** `http://127.0.0.1:<port>`: the `baseUrl` to give the adapter. */
  url: string;
  /** Every request received, canned answers included. */
  requests: StubRequest[];
  /** Answers the next requests with `answers` instead of handling them, first in, first out. */
  enqueue(...answers: StubAnswer[]): void;
  close(): Promise<void>;
}

/**
 * Starts a stub answering with `handle`, or never answering when it returns `null` (to test timeouts). A
 * `handle` that throws answers 500, naming the error.
 */
export async function startStubServer(
  handle: (request: StubRequest) => StubAnswer | null,
): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const queue: StubAnswer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const request = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        text,
        json: parse(text),
      };
      requests.push(request);
      let answer: StubAnswer | null;
      try {
        answer = queue.shift() ?? handle(request);
      } catch (error) {
        answer = { status: 500, body: { stubError: String(error) } };
      }
      if (answer === null) return;
      const { status, headers = {}, body } = answer;
      res.writeHead(
        status,
        body === undefined ? headers : { "content-type": "application/json", ...headers },
      );
      res.end(body === undefined ? undefined : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...answers) => queue.push(...answers),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parse(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The scenario a recipient address asks the stubs for, from its local part: `throttle@`, `quota@`,
 * `reject@`, `crash@`, `flaky@` (fails once, then passes)... `undefined` for an ordinary address. Shared by
 * every stub so tests and examples address failures the same way whatever the provider.
 */
export function scenarioOf(address: unknown): string | undefined {
  if (typeof address !== "string") return undefined;
  const local = /^(?:.*<)?([^@<]+)@/.exec(address)?.[1];
  return local?.split(/[-+.]/)[0];
}

/**
 * {@link scenarioOf} for one stub, where a `flaky@` address's first request is a `crash` and its later ones
 * ordinary, so a test sees the retry go through.
 */
export function scenarios(): (address: unknown) => string | undefined {
  const failed = new Set<string>();
  return (address) => {
    const scenario = scenarioOf(address);
    if (scenario !== "flaky") return scenario;
    if (failed.has(String(address))) return undefined;
    failed.add(String(address));
    return "crash";
  };
}

/** A random id of `length` lowercase hex digits, as providers' ids carry. */
export function hex(length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}
