import { afterAll, afterEach, describe, expect, it } from "vitest";
import { postgresStorage } from "../../src/drivers/postgres/index.js";
import type { Storage } from "../../src/ports/storage.js";
import { databaseUrl } from "../support/database.js";
import { postgresSchemas } from "../support/postgres.js";
import { resetKit } from "./fixtures.js";
import { serveExecutionApi } from "./http-server.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(storage?: Storage) {
  const { kit, email } = await resetKit(storage ? { storage } : {});
  const server = await serveExecutionApi(kit);
  closers.push(server.close);
  return { kit, email, ...server };
}

describe("the execution API over HTTP", () => {
  it("answers 202 to a unitary call, sends, and serves the status", async () => {
    const { kit, email, call } = await serve();
    const body = {
      requestId: "r1",
      campaignId: "reset",
      recipients: [
        { type: "aep", namespace: "email", userId: "ana@example.com", context: { link: "https://x/1" } },
      ],
    };
    const response = await call("/im/executions/unitary", { method: "POST", body: JSON.stringify(body) });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { executionId: string; requestId: string; createdAt: string };
    expect(Object.keys(accepted).sort()).toEqual(["createdAt", "executionId", "requestId"]);
    await kit.idle();
    expect(email.sent.map((m) => m.content)).toEqual([
      { channel: "email", subject: "Reset", text: "https://x/1" },
    ]);
    const status = await call(`/im/executions/unitary/${accepted.executionId}`);
    expect(await status.json()).toMatchObject({
      executionId: accepted.executionId,
      status: "Succeeded",
      targetedProfileCount: 1,
    });
  });

  it("answers refusals with problem documents", async () => {
    const { call } = await serve();
    const bad = await call("/im/executions/unitary", {
      method: "POST",
      body: JSON.stringify({ requestId: "r", campaignId: "reset", recipients: [] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect(await bad.json()).toMatchObject({
      type: "urn:campaign-kit:error:VALIDATION_FAILED",
      status: 400,
      report: {
        additionalContext: { issues: [{ path: "recipients", message: "Name at least 1 recipient" }] },
      },
    });
    const notJson = await call("/im/executions/audience", { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    const missing = await call("/im/executions/audience/nope");
    expect(missing.status).toBe(404);
    const anonymous = await call("/im/executions/unitary", {
      method: "POST",
      body: "{}",
      headers: { "x-api-key": "wrong" },
    });
    expect(anonymous.status).toBe(403);
    const malformed = await call("/im/executions/audience/%E0%A4%A");
    expect(malformed.status).toBe(400);
    const elsewhere = await call("/health");
    expect(elsewhere.status).toBe(404);
  });
});

const unitary = (requestId: string, context: unknown = { link: "https://x/1" }) =>
  JSON.stringify({
    requestId,
    campaignId: "reset",
    recipients: [{ type: "aep", namespace: "email", userId: "ana@example.com", context }],
  });

function expectProblem(answer: { status: number; headers: Record<string, unknown> }, body: unknown) {
  expect(answer.headers["content-type"]).toBe("application/problem+json");
  expect(body).toMatchObject({ status: answer.status, type: expect.any(String), title: expect.any(String) });
  expect(Object.keys(body as object).sort()).toEqual(["detail", "report", "status", "title", "type"]);
}

describe("what the execution API refuses at the door", () => {
  it("answers 415 to a missing or non-JSON content type, and accepts JSON with parameters", async () => {
    const { raw } = await serve();
    const post = (requestId: string, type: string | undefined) =>
      raw({
        method: "POST",
        path: "/im/executions/unitary",
        headers: { "x-api-key": "secret", ...(type === undefined ? {} : { "content-type": type }) },
        body: unitary(requestId),
      });
    for (const type of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/jsonx",
      "application/json; charset=latin1",
    ]) {
      const answer = await post("refused", type);
      expect(answer.status, String(type)).toBe(415);
      expectProblem(answer, JSON.parse(answer.body));
      expect(JSON.parse(answer.body).type).toBe("urn:campaign-kit:error:UNSUPPORTED_MEDIA_TYPE");
    }
    const accepted = ["application/json; charset=UTF-8", "Application/JSON", "application/vnd.acme+json"];
    for (const [i, type] of accepted.entries()) {
      expect((await post(`ok-${i}`, type)).status, type).toBe(202);
    }
  });

  it("answers 413 to a body over the limit, whether its length is declared or streamed", async () => {
    const { raw } = await serve();
    const huge = Buffer.alloc(8 * 1024 * 1024, 0x20);
    for (const headers of [{}, { "transfer-encoding": "chunked" }]) {
      const answer = await raw({
        method: "POST",
        path: "/im/executions/audience",
        headers: { "x-api-key": "secret", "content-type": "application/json", ...headers },
        body: huge,
      });
      expect(answer.status).toBe(413);
      expectProblem(answer, JSON.parse(answer.body));
      expect(JSON.parse(answer.body).type).toBe("urn:campaign-kit:error:PAYLOAD_TOO_LARGE");
    }
  });

  it("answers 405 with `allow` to a wrong method on a known route", async () => {
    const { raw } = await serve();
    const cases = [
      ["GET", "/im/executions/unitary", "POST"],
      ["PUT", "/im/executions/audience", "POST"],
      ["POST", "/im/executions/audience/some-id", "GET, HEAD"],
      ["DELETE", "/im/executions/unitary/some-id", "GET, HEAD"],
    ] as const;
    for (const [method, path, allow] of cases) {
      const answer = await raw({ method, path, headers: { "x-api-key": "secret" } });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      expectProblem(answer, JSON.parse(answer.body));
    }
  });

  it("refuses `__proto__`, `constructor` and `prototype` keys, naming them, and pollutes nothing", async () => {
    const { call } = await serve();
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const body = unitary(`proto-${key}`).replace('"context":{', `"context":{"${key}":{"polluted":1},`);
      const response = await call("/im/executions/unitary", { method: "POST", body });
      expect(response.status, key).toBe(400);
      const problem = (await response.json()) as { report: { additionalContext: { issues: unknown[] } } };
      expect(problem.report.additionalContext.issues).toEqual([
        { path: `recipients.0.context.${key}`, message: expect.stringContaining(key) },
      ]);
    }
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("answers 400, not 500, to a requestId that isn't a string and to nesting 5,000 levels deep", async () => {
    const { call } = await serve();
    const odd = await call("/im/executions/unitary", {
      method: "POST",
      body: unitary("x").replace('"requestId":"x"', '"requestId":{"toString":1}'),
    });
    expect(odd.status).toBe(400);
    expect(await odd.json()).toMatchObject({
      report: { additionalContext: { issues: [{ path: "requestId" }] } },
    });
    const deep = await call("/im/executions/unitary", {
      method: "POST",
      body: unitary("deep").replace(
        '"context":{',
        `"context":{"deep":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)},`,
      ),
    });
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({
      report: {
        additionalContext: {
          issues: [{ path: expect.stringMatching(/^recipients\.0\.context\.deep(\.a)+$/) }],
        },
      },
    });
  });

  it("refuses 1,400,000 recipients (4.2 MB) on their count, before parsing them", async () => {
    const { call } = await serve();
    const body = `{"requestId":"many","campaignId":"reset","recipients":[${"{},".repeat(1_399_999)}{}]}`;
    const response = await call("/im/executions/unitary", { method: "POST", body });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      report: {
        additionalContext: { issues: [{ path: "", message: expect.stringContaining("100000 values") }] },
      },
    });
  });

  it("answers 404 to a GET of an id no execution can have", async () => {
    const { raw } = await serve();
    for (const id of ["%00abc", "a%0Ab", "x".repeat(3_000)]) {
      const answer = await raw({
        method: "GET",
        path: `/im/executions/audience/${id}`,
        headers: { "x-api-key": "secret" },
      });
      expect(answer.status, id.slice(0, 20)).toBe(404);
      expectProblem(answer, JSON.parse(answer.body));
      expect(answer.body.length).toBeLessThan(1_000);
    }
  });
});

const url = databaseUrl("the execution API on PostgreSQL");

(url === undefined ? describe.skip : describe)("the execution API over HTTP on PostgreSQL", () => {
  const postgres = postgresSchemas(url ?? "", "ck_http");
  afterAll(() => postgres.close());

  it("answers 400 to NUL and unpaired surrogates in a body and 404 to NUL in a path, never 503", async () => {
    const { call } = await serve(await postgres.storage());
    for (const [i, context] of [{ link: "a\u0000b" }, { "k\u0000": "v" }, { link: "\ud800" }].entries()) {
      const response = await call("/im/executions/unitary", {
        method: "POST",
        body: unitary(`s${i}`, context),
      });
      expect(response.status, JSON.stringify(context)).toBe(400);
    }
    const missing = await call("/im/executions/audience/%00abc");
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/invalid byte sequence|PostgreSQL/);
  });

  it("answers 503 without PostgreSQL's message when storage fails", async () => {
    const schema = await postgres.schema();
    const { call } = await serve(postgresStorage({ pool: postgres.pool, schema }));
    await postgres.pool.query(`ALTER TABLE "${schema}".documents RENAME TO documents_gone`);
    const response = await call("/im/executions/audience/some-id");
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toMatch(/PostgreSQL said|relation|does not exist|documents/);
    expect(JSON.parse(text)).toMatchObject({ type: "urn:campaign-kit:error:STORAGE_FAILED", status: 503 });
  });
});
