/**
 * The execution API mounted the way each framework's users mount things, on a real port, answering the
 * same: node:http, Express (after and before `express.json()`), Fastify (leaving bodies to the handler, or
 * handing over what its JSON parser made), Hono on @hono/node-server. The recipes are docs/http.md's.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as serveHono } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ExecutionApi, executionApi } from "../../src/http/handler.js";
import { toNodeHandler } from "../../src/http/node.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { resetKit } from "../kit/fixtures.js";
import { authenticate, type RawAnswer, type RawRequest, rawRequest } from "../kit/http-server.js";

interface Mounted {
  port: number;
  close(): Promise<void>;
}

interface Framework {
  name: string;
  /** Whether the handler reads the body itself; else a framework's parser did, and refuses what it can't parse. */
  readsBody: boolean;
  mount(api: ExecutionApi): Promise<Mounted>;
}

async function listen(server: Server): Promise<Mounted> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const frameworks: Framework[] = [
  {
    name: "node:http",
    readsBody: true,
    mount: (api) => listen(createServer(toNodeHandler(api))),
  },
  {
    // A handler toNodeHandler doesn't know (wrapped): it goes through a web Request and Response, where the
    // kit's own handler takes the node lane. Both must answer alike.
    name: "node:http, through web Request and Response",
    readsBody: true,
    mount: (api) => listen(createServer(toNodeHandler((request, context) => api.handler(request, context)))),
  },
  {
    name: "Express, after express.json()",
    readsBody: false,
    mount: (api) => {
      const app = express();
      app.use(express.json({ limit: "1mb" }));
      app.use(api.basePath, toNodeHandler(api));
      return listen(createServer(app));
    },
  },
  {
    name: "Express, before express.json()",
    readsBody: true,
    mount: (api) => {
      const app = express();
      app.use(api.basePath, toNodeHandler(api));
      app.use(express.json());
      return listen(createServer(app));
    },
  },
  {
    name: "Fastify, bodies left to the handler",
    readsBody: true,
    mount: async (api) => {
      const fastify = Fastify();
      const executions = toNodeHandler(api);
      await fastify.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
        scope.all(`${api.basePath}/*`, (request, reply) => {
          reply.hijack();
          return executions(request.raw, reply.raw);
        });
      });
      await fastify.listen({ port: 0, host: "127.0.0.1" });
      return { port: (fastify.server.address() as AddressInfo).port, close: () => fastify.close() };
    },
  },
  {
    name: "Fastify, with its JSON parser",
    readsBody: false,
    mount: async (api) => {
      const fastify = Fastify();
      const executions = toNodeHandler(api);
      fastify.all(`${api.basePath}/*`, (request, reply) => {
        reply.hijack();
        return executions(Object.assign(request.raw, { body: request.body }), reply.raw);
      });
      await fastify.listen({ port: 0, host: "127.0.0.1" });
      return { port: (fastify.server.address() as AddressInfo).port, close: () => fastify.close() };
    },
  },
  {
    name: "Hono on @hono/node-server",
    readsBody: true,
    mount: async (api) => {
      const app = new Hono();
      app.all(`${api.basePath}/*`, (c) => api.handler(c.req.raw));
      const server = serveHono({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
      if (!server.listening) await once(server, "listening");
      return {
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((resolve) => server.close(() => resolve())),
      };
    },
  },
];

// Small, so a body over it is cheap to send; large enough for every valid call below.
const MAX_BODY_BYTES = 64 * 1024;
const JSON_TYPE = { "x-api-key": "secret", "content-type": "application/json" };

const unitary = (requestId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    requestId,
    campaignId: "reset",
    recipients: [{ type: "aep", namespace: "email", userId: "ana@example.com", context: { link: "x" } }],
    ...extra,
  });

function expectProblem(answer: RawAnswer, status: number, code: string) {
  expect(answer.status, answer.body.slice(0, 200)).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/problem+json");
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  expect(Object.keys(problem).sort()).toEqual(["detail", "report", "status", "title", "type"]);
  expect(problem).toMatchObject({ status, type: `urn:campaign-kit:error:${code}` });
  return problem;
}

describe.each(frameworks)("the execution API in $name", ({ readsBody, mount }) => {
  let kit: CampaignKit;
  let mounted: Mounted;
  const send = (request: RawRequest) => rawRequest(mounted.port, request);
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
    send({ method: "POST", path: `/im/executions/${path}`, headers, body });

  beforeAll(async () => {
    ({ kit } = await resetKit());
    mounted = await mount(executionApi(kit, { authenticate, maxBodyBytes: MAX_BODY_BYTES }));
  });
  afterAll(async () => {
    await kit.idle();
    await mounted.close();
    await kit.close();
  });

  it("answers a trigger with 202 and serves its status to GET and HEAD", async () => {
    const accepted = await post("unitary", unitary("ok"));
    expect(accepted.status, accepted.body).toBe(202);
    const { executionId, ...rest } = JSON.parse(accepted.body) as { executionId: string };
    expect(Object.keys(rest).sort()).toEqual(["createdAt", "requestId"]);
    await kit.idle();
    const path = `/im/executions/unitary/${executionId}`;
    const status = await send({ method: "GET", path, headers: { "x-api-key": "secret" } });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({
      executionId,
      status: "Succeeded",
      targetedProfileCount: 1,
    });
    const head = await send({ method: "HEAD", path, headers: { "x-api-key": "secret" } });
    expect([head.status, head.body]).toEqual([200, ""]);
  });

  it("answers 400 with the kit's issues, 403 to an unknown key, 404 to an id no execution has", async () => {
    const invalid = expectProblem(
      await post("unitary", unitary("bad", { recipients: [] })),
      400,
      "VALIDATION_FAILED",
    );
    expect(invalid).toMatchObject({
      report: {
        additionalContext: { issues: [{ path: "recipients", message: "Name at least 1 recipient" }] },
      },
    });
    expectProblem(
      await post("unitary", unitary("anonymous"), { ...JSON_TYPE, "x-api-key": "wrong" }),
      403,
      "FORBIDDEN",
    );
    const missing = await send({
      method: "GET",
      path: "/im/executions/audience/%00abc",
      headers: { "x-api-key": "secret" },
    });
    expectProblem(missing, 404, "NOT_FOUND");
  });

  it("answers 405 with `allow` to another method on a route", async () => {
    const get = await send({
      method: "GET",
      path: "/im/executions/unitary",
      headers: { "x-api-key": "secret" },
    });
    expectProblem(get, 405, "METHOD_NOT_ALLOWED");
    expect(get.headers.allow).toBe("POST");
    const del = await send({
      method: "DELETE",
      path: "/im/executions/audience/x",
      headers: { "x-api-key": "secret" },
    });
    expectProblem(del, 405, "METHOD_NOT_ALLOWED");
    expect(del.headers.allow).toBe("GET, HEAD");
  });

  it("answers 415 to a body that isn't JSON by its content type", async () => {
    const answer = await post("unitary", unitary("text"), {
      "x-api-key": "secret",
      "content-type": "text/plain",
    });
    expectProblem(answer, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 413 to a declared length over the limit", async () => {
    const body = unitary("big", { padding: "x".repeat(MAX_BODY_BYTES) });
    const answer = await post("audience", body);
    expectProblem(answer, 413, "PAYLOAD_TOO_LARGE");
    expect(answer.headers.connection).toBe("close");
  });

  it.runIf(readsBody)(
    "answers what no parser read first: chunked over the limit, not JSON, untyped",
    async () => {
      const chunked = { ...JSON_TYPE, "transfer-encoding": "chunked" };
      const huge = Buffer.alloc(4 * MAX_BODY_BYTES, 0x20);
      expectProblem(await post("audience", huge, chunked), 413, "PAYLOAD_TOO_LARGE");
      expectProblem(await post("audience", "{"), 400, "VALIDATION_FAILED");
      const untyped = await post("unitary", unitary("untyped"), { "x-api-key": "secret" });
      expectProblem(untyped, 415, "UNSUPPORTED_MEDIA_TYPE");
    },
  );

  it.runIf(!readsBody)(
    "leaves a body its parser can't read to the framework, which answers 400",
    async () => {
      const answer = await post("audience", "{");
      expect(answer.status).toBe(400);
      expect(answer.headers["content-type"]).not.toBe("application/problem+json");
    },
  );
});
