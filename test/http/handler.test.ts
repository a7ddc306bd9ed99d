/**
 * The web-standard handler called as Next.js, Bun, Deno or a Worker call it: a `Request` in, a `Response`
 * out, no server. What a framework already parsed, the host's error hook, base paths, and problem documents
 * for errors from another copy of the package.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CampaignKitError } from "../../src/errors.js";
import { type ExecutionApiOptions, executionApi } from "../../src/http/handler.js";
import { toProblemDocument } from "../../src/http/problems.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { resetKit } from "../kit/fixtures.js";
import { authenticate } from "../kit/http-server.js";

const call = (requestId: string) => ({
  requestId,
  campaignId: "reset",
  recipients: [{ type: "aep", namespace: "email", userId: "ana@example.com", context: { link: "x" } }],
});

function post(path: string, body?: string, headers: Record<string, string> = {}) {
  return new Request(`https://api.example.com${path}`, {
    method: "POST",
    headers: { "x-api-key": "secret", "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

async function problemOf(response: Response) {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const problem = (await response.json()) as { status: number; type: string; detail: string };
  expect(problem.status).toBe(response.status);
  return problem;
}

/** A kit whose status reads fail with `error`, as a storage outage or a bug would make them. */
const failingKit = (error: unknown) =>
  ({
    executions: {
      status: async () => {
        throw error;
      },
    },
  }) as unknown as Pick<CampaignKit, "executions">;

describe("the execution API's web handler", () => {
  let kit: CampaignKit;
  const api = (options: Partial<ExecutionApiOptions> = {}) => executionApi(kit, { authenticate, ...options });
  beforeAll(async () => {
    ({ kit } = await resetKit());
  });

  it("takes the body a framework already parsed, as a value, text or bytes", async () => {
    const { handler } = api();
    const json = JSON.stringify(call("bytes"));
    for (const [requestId, body] of [
      ["parsed", call("parsed")],
      ["text", JSON.stringify(call("text"))],
      ["bytes", new TextEncoder().encode(json)],
    ] as const) {
      // The stream is gone, as after `express.json()`: only `body` holds the call.
      const response = await handler(post("/im/executions/unitary"), { body });
      expect(response.status, requestId).toBe(202);
      expect(await response.json()).toMatchObject({ requestId });
    }
  });

  it("still refuses a parsed body by its content type, its declared length and its contents", async () => {
    const { handler } = api({ maxBodyBytes: 1024 });
    const body = call("refused");
    const text = await handler(post("/im/executions/unitary", undefined, { "content-type": "text/plain" }), {
      body,
    });
    expect((await problemOf(text)).status).toBe(415);
    const long = await handler(post("/im/executions/unitary", undefined, { "content-length": "2048" }), {
      body,
    });
    expect((await problemOf(long)).status).toBe(413);
    const polluted = await handler(post("/im/executions/unitary"), {
      body: JSON.parse('{"requestId":"p","campaignId":"reset","recipients":[],"__proto__":{"x":1}}'),
    });
    expect((await problemOf(polluted)).detail).toContain("__proto__");
  });

  it("answers 500 and tells the host through onError when a parser read the body without handing it over", async () => {
    const errors: unknown[] = [];
    const { handler } = api({ onError: (error) => errors.push(error) });
    const request = post("/im/executions/unitary", JSON.stringify(call("lost")));
    await request.text();
    const response = await handler(request);
    expect((await problemOf(response)).status).toBe(500);
    expect(String(errors[0])).toContain("handler(request, { body })");
  });

  it("hides a 5xx's cause from the caller and hands it to onError, even when onError throws", async () => {
    const outage = new CampaignKitError("STORAGE_FAILED", 'relation "executions" does not exist');
    const seen: unknown[] = [];
    for (const onError of [
      (error: unknown) => seen.push(error),
      () => {
        throw new Error("the logger is down");
      },
    ]) {
      const { handler } = executionApi(failingKit(outage), { authenticate, onError });
      const response = await handler(
        new Request("http://h/im/executions/audience/x", { headers: { "x-api-key": "secret" } }),
      );
      const problem = await problemOf(response);
      expect(problem.status).toBe(503);
      expect(JSON.stringify(problem)).not.toContain("relation");
    }
    expect(seen).toEqual([outage]);
    const crashing = executionApi(kit, {
      authenticate: () => {
        throw new TypeError("apiKeys is undefined");
      },
      onError: (error) => seen.push(error),
    });
    const response = await crashing.handler(post("/im/executions/unitary", "{}"));
    expect((await problemOf(response)).detail).not.toContain("apiKeys");
    expect(seen[1]).toBeInstanceOf(TypeError);
  });

  it("recognises a CampaignKitError thrown by another copy of the package (the CommonJS build's)", async () => {
    const foreign = Object.assign(new Error("Invalid id"), {
      name: "CampaignKitError",
      code: "VALIDATION_FAILED",
      details: { issues: [{ path: "x", message: "bad" }] },
    });
    expect(toProblemDocument(foreign)).toMatchObject({
      status: 400,
      report: { additionalContext: { issues: [{ path: "x" }] } },
    });
    const impostor = Object.assign(new Error("x"), { name: "CampaignKitError", code: "toString" });
    expect(toProblemDocument(impostor).status).toBe(500);
  });

  it("serves its routes under basePath and answers 404 problem documents elsewhere", async () => {
    for (const basePath of ["/api/campaigns/", "api/campaigns", "/"]) {
      const { handler, basePath: base } = api({ basePath });
      const accepted = await handler(post(`${base}/unitary`, JSON.stringify(call(`base-${basePath}`))));
      expect(accepted.status, basePath).toBe(202);
      for (const path of ["/im/executions/unitary", `${base}/unitary/x/y`, `${base}/other`, "/"]) {
        const elsewhere = await handler(post(path, "{}"));
        expect((await problemOf(elsewhere)).status, `${basePath} ${path}`).toBe(404);
      }
    }
  });

  it("answers HEAD with the GET answer's status and headers and no body", async () => {
    const { handler } = api();
    const accepted = (await (
      await handler(post("/im/executions/unitary", JSON.stringify(call("head"))))
    ).json()) as {
      executionId: string;
    };
    const head = await handler(
      new Request(`http://h/im/executions/unitary/${accepted.executionId}`, {
        method: "HEAD",
        headers: { "x-api-key": "secret" },
      }),
    );
    expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([
      200,
      "application/json",
      "",
    ]);
  });
});
