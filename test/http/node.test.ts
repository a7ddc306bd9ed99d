/**
 * What `toNodeHandler` must get right beyond the handler's answers: methods the Fetch API can't carry, Host
 * headers that must not steer routing, bodies nobody reads on a kept-alive connection, callers who leave
 * mid-body.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionApi } from "../../src/http/handler.js";
import { toNodeHandler } from "../../src/http/node.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { resetKit } from "../kit/fixtures.js";
import { authenticate, rawRequest, serveExecutionApi } from "../kit/http-server.js";

describe("toNodeHandler", () => {
  let kit: CampaignKit;
  let server: Awaited<ReturnType<typeof serveExecutionApi>>;
  const errors: unknown[] = [];
  beforeAll(async () => {
    ({ kit } = await resetKit());
    server = await serveExecutionApi(kit, { onError: (error) => errors.push(error) });
  });
  afterAll(async () => {
    await server.close();
    await kit.close();
    expect(errors).toEqual([]);
  });

  it("answers 405 with `allow` to TRACE, which a web Request can't carry", async () => {
    const answer = await server.raw({ method: "TRACE", path: "/im/executions/unitary/x" });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe("GET, HEAD");
    expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:campaign-kit:error:METHOD_NOT_ALLOWED" });
  });

  it("routes by the path alone, whatever the Host header says", async () => {
    for (const host of ["evil.example/im/executions/unitary?", "a b", "127.0.0.1:99999", "[::1"]) {
      const answer = await server.raw({
        method: "POST",
        path: "/elsewhere",
        headers: { host, "x-api-key": "secret", "content-type": "application/json" },
        body: "{}",
      });
      expect([host, answer.status]).toEqual([host, 404]);
    }
  });

  it("keeps a kept-alive connection usable after a body it never read", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const send = (apiKey: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${server.base}/im/executions/unitary`);
        const outgoing = request(
          url,
          {
            agent,
            method: body === undefined ? "GET" : "POST",
            headers: { "x-api-key": apiKey, "content-type": "application/json" },
          },
          (incoming) => {
            sockets.add(incoming.socket);
            incoming.resume();
            incoming.on("end", () => resolve(incoming.statusCode ?? 0));
          },
        );
        outgoing.on("error", reject);
        outgoing.end(body);
      });
    try {
      // Refused before its body is read: 403, then the same connection serves the next call. Megabytes, since
      // a body node:http can buffer whole would hide a stream that starts reading and then stalls.
      expect(await send("wrong", "x".repeat(4_000_000))).toBe(403);
      expect(await send("secret")).toBe(405);
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it("reads a body that starts with a UTF-8 byte order mark, as the web path does", async () => {
    const body = JSON.stringify({
      requestId: "bom",
      campaignId: "nope",
      recipients: [{ type: "aep", namespace: "email", userId: "a@example.com" }],
    });
    const answer = await server.raw({
      method: "POST",
      path: "/im/executions/unitary",
      headers: { "x-api-key": "secret", "content-type": "application/json" },
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]),
    });
    // Parsed: the refusal is about the campaign, not about JSON.
    expect(answer.status, answer.body).toBe(404);
  });

  it("answers 500, and tells onError why, when something read the body and left nothing on req.body", async () => {
    const seen: unknown[] = [];
    const executions = toNodeHandler(
      executionApi(kit, { authenticate, onError: (error) => seen.push(error) }),
    );
    const host = createServer((req, res) => {
      // A middleware that drains the body without leaving what it read.
      req.resume();
      req.once("end", () => void executions(req, res));
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    try {
      const answer = await rawRequest((host.address() as AddressInfo).port, {
        method: "POST",
        path: "/im/executions/unitary",
        headers: { "x-api-key": "secret", "content-type": "application/json" },
        body: "{}",
      });
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:campaign-kit:error:INTERNAL" });
      expect(String(seen[0])).toMatch(/already read/);
    } finally {
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
  });

  it("survives a caller who leaves mid-body, and answers the next one", async () => {
    await new Promise<void>((resolve) => {
      const outgoing = request(`${server.base}/im/executions/unitary`, {
        method: "POST",
        headers: { "x-api-key": "secret", "content-type": "application/json", "content-length": "1000" },
      });
      outgoing.on("error", () => resolve());
      outgoing.write('{"requestId":', () => setTimeout(() => outgoing.destroy(), 20));
      outgoing.on("close", () => resolve());
    });
    const answer = await server.call("/im/executions/audience/nope");
    expect(answer.status).toBe(404);
  });
});
