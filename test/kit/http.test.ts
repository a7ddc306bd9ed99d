import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/audiences/memory-audiences.js";
import { memoryChannel } from "../../src/channels/memory-channel.js";
import { CampaignKitError } from "../../src/errors.js";
import { executionApiHandler } from "../../src/http/index.js";
import { ADMIN, liveReset, person, seededKit } from "./fixtures.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve() {
  const email = memoryChannel({ channel: "email" });
  const ana = { ...person(1), identities: { email: "ana@example.com" } };
  const kit = await seededKit({ channels: [email], audiences: memoryAudiences({ profiles: [ana] }) });
  await liveReset(kit);
  const handle = executionApiHandler(kit, {
    authenticate: (request) => {
      if (request.headers["x-api-key"] !== "secret")
        throw new CampaignKitError("FORBIDDEN", "Unknown API key.");
      return ADMIN;
    },
  });
  const listening = createServer((req, res) => {
    handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: { "x-api-key": "secret", "content-type": "application/json", ...init.headers },
    });
  return { kit, email, call };
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
