/**
 * The small HTTP server every provider stub runs on: 127.0.0.1, a random port, JSON bodies read whole, every
 * request recorded. Each stub decides its answers; this only carries them. Test code: no network.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the stub received it. */
export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: unknown;
}

/** What a stub answers: a status, headers, and a JSON body (`undefined` for none). */
export interface StubAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A running stub: its base URL, what it received, and how to stop it. */
export interface StubServer {
  url: string;
  requests: StubRequest[];
  close: () => Promise<void>;
}

export async function startStubServer(answer: (request: StubRequest) => StubAnswer): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
    });
    req.on("end", () => {
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const request = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, text, json };
      requests.push(request);
      const { status, headers = {}, body } = answer(request);
      const payload = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(
        status,
        body === undefined ? headers : { "content-type": "application/json", ...headers },
      );
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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
