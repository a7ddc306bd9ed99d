import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../src/ports/storage.js";
import { databaseUrl } from "../support/database.js";
import { postgresSchemas } from "../support/postgres.js";
import { resetKit } from "./fixtures.js";
import { serveExecutionApi } from "./http-server.js";

// Fixed, so a failure replays; fast-check prints the seed and the shrunk request of any failure.
const SEED = 20_261_128;

/** Any bytes, percent-encoded: what a path segment can carry once decoded. */
const encodedBytes = fc
  .uint8Array({ maxLength: 24 })
  .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""));
const segment = fc.oneof(
  fc.constantFrom("unitary", "audience", "", "..", "%00abc", "%", "%E0%A4%A", "%ED%A0%80", "x".repeat(300)),
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,20}$/),
  encodedBytes,
);
const path = fc.oneof(
  fc.constantFrom("/im/executions/unitary", "/im/executions/audience", "/", "//", "/im/executions/"),
  fc
    .tuple(fc.constantFrom("unitary", "audience"), segment)
    .map(([kind, id]) => `/im/executions/${kind}/${id}`),
  fc.array(segment, { maxLength: 4 }).map((segments) => `/im/executions/${segments.join("/")}`),
);

const anyString = fc.string({ unit: "binary", maxLength: 40 });
const hostileKey = fc.oneof(
  anyString,
  fc.constantFrom("__proto__", "constructor", "prototype", "system", "toString", "a\u0000b", "\ud800"),
);
const anyJson = fc.jsonValue({ stringUnit: "binary", maxDepth: 4 });
const hostileObject = fc.dictionary(hostileKey, anyJson, { maxKeys: 6 });
const recipient = fc.record(
  {
    type: fc.oneof(fc.constantFrom("aep", "external"), anyJson),
    userId: fc.oneof(fc.constant("ana@example.com"), anyString, anyJson),
    namespace: fc.oneof(fc.constant("email"), anyString),
    context: fc.oneof(hostileObject, anyJson),
    profile: fc.oneof(hostileObject, anyJson),
    channelData: fc.oneof(fc.record({ emailAddress: anyString }), hostileObject),
  },
  { requiredKeys: [] },
);
const payload = fc.record(
  {
    requestId: fc.oneof(fc.uuid(), anyString, anyJson, fc.constant({ toString: 1 })),
    campaignId: fc.oneof(fc.constant("reset"), anyString, anyJson),
    recipients: fc.oneof(fc.array(recipient, { maxLength: 22 }), anyJson),
    audience: fc.oneof(fc.record({ id: anyString }), anyJson),
    context: fc.oneof(hostileObject, anyJson),
    schedule: fc.oneof(fc.record({ executeAt: fc.oneof(anyString, fc.date().map(String)) }), anyJson),
  },
  { requiredKeys: [] },
);
/** Calls that are valid but for what `hostileObject` may slip into a context. */
const nearlyValid = fc.record({
  requestId: fc.uuid(),
  campaignId: fc.constant("reset"),
  recipients: fc.array(
    fc.record({
      type: fc.constantFrom("aep", "external"),
      userId: fc.constantFrom("ana@example.com", "bob@example.com"),
      namespace: fc.constant("email"),
      context: fc.oneof(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), anyJson, { maxKeys: 4 }),
        hostileObject,
      ),
      channelData: fc.constant({ emailAddress: "bob@example.com" }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});
/** `{"a":` nested `depth` times: deep bodies, written out since `JSON.stringify` would overflow the stack. */
const deep = fc
  .integer({ min: 0, max: 3_000 })
  .map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.json({ stringUnit: "binary", maxDepth: 4 }),
  payload.map((value) => JSON.stringify(value)),
  deep,
);
const contentType = fc.oneof(
  fc.constantFrom(
    undefined,
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.acme+json",
    "application/json; charset=latin1",
    "text/plain",
    "multipart/form-data; boundary=x",
  ),
  fc.string({ maxLength: 40 }),
);
const anything = fc.record({
  method: fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path,
  contentType,
  apiKey: fc.constantFrom("secret", "wrong", undefined),
  body,
});
/** Mostly calls that reach the kit: triggers with JSON bodies and status reads; the rest anything at all. */
const request = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      method: fc.constant("POST"),
      path: fc.constantFrom("/im/executions/unitary", "/im/executions/audience"),
      contentType: fc.oneof({ weight: 5, arbitrary: fc.constant("application/json") }, contentType),
      apiKey: fc.constant("secret"),
      body: fc.oneof(
        { weight: 3, arbitrary: nearlyValid.map((value) => JSON.stringify(value)) },
        { weight: 3, arbitrary: payload.map((value) => JSON.stringify(value)) },
        body,
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      method: fc.constantFrom("GET", "HEAD"),
      path: fc
        .tuple(fc.constantFrom("unitary", "audience"), segment)
        .map(([k, id]) => `/im/executions/${k}/${id}`),
      contentType: fc.constant(undefined),
      apiKey: fc.constant("secret"),
      body: fc.constant(undefined),
    }),
  },
  { weight: 2, arbitrary: anything },
);

const url = databaseUrl("fuzzing the execution API on PostgreSQL");
const postgres = url === undefined ? undefined : postgresSchemas(url, "ck_fuzz");
afterAll(() => postgres?.close());

const backends: Array<[string, () => Promise<Storage>, number]> = [
  ["memory", async () => memoryStorage(), 300],
];
if (postgres) backends.push(["PostgreSQL", () => postgres.storage(), 100]);

describe.each(backends)("the execution API under fuzzing, on %s storage", (_name, storage, numRuns) => {
  let kit: CampaignKit;
  let server: Awaited<ReturnType<typeof serveExecutionApi>>;
  beforeAll(async () => {
    ({ kit } = await resetKit({ storage: await storage() }));
    server = await serveExecutionApi(kit);
  });
  afterAll(async () => {
    await kit.idle();
    await server.close();
  });

  it("never answers 5xx, answers every refusal with a problem document, and pollutes no prototype", async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, contentType, apiKey, body }) => {
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers["content-type"] = contentType;
        if (apiKey !== undefined) headers["x-api-key"] = apiKey;
        const answer = await server.raw({ method, path, headers, ...(body === undefined ? {} : { body }) });
        expect(answer.status).toBeLessThan(500);
        // Every request reaches the handler: paths outside its routes get its 404 problem document too.
        if (answer.status >= 300 && method !== "HEAD") {
          expect(answer.headers["content-type"]).toBe("application/problem+json");
          const problem = JSON.parse(answer.body) as Record<string, unknown>;
          expect(Object.keys(problem).sort()).toEqual(["detail", "report", "status", "title", "type"]);
          expect(problem.status).toBe(answer.status);
        }
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { seed: SEED, numRuns },
    );
  });
});

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
