/**
 * What the HTTP fuzzer sends: fast-check arbitraries for requests to the execution API, mostly shaped like
 * the reference payloads with hostile values where it hurts (odd types, `\u0000`, lone surrogates, deep
 * nesting, prototype keys, long ids, odd methods, paths and content types), plus the attacks found by hand.
 */
import fc from "fast-check";

/** One fuzzed request. `body` is sent as is. */
export interface FuzzRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authenticated: boolean;
  body: string | undefined;
}

/** Where the execution API's routes live (the handler's default `basePath`). */
export const BASE = "/im/executions";
/** The live campaigns and known recipient of the fuzzed kit. */
export const KNOWN = { transactional: "reset", marketing: "promo-api", userId: "p1@example.com" };

/** `usual` (a value or an arbitrary) 7 times in 8, else one of `others`. */
const mostly = <T>(usual: T | fc.Arbitrary<T>, others: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof(
    { weight: 7, arbitrary: usual instanceof fc.Arbitrary ? usual : fc.constant(usual) },
    { weight: 1, arbitrary: others },
  );

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** JSON texts a `JSON.stringify` of a plain object can't produce, or shouldn't be walked naively. */
const rawJson = fc.oneof(
  fc.integer({ min: 1, max: 6000 }).map(nested),
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"a":{"__proto__":{"isAdmin":true}},"toString":1,"valueOf":{}}',
    '{"x":"\\u0000nul"}',
    '{"x":"\\ud800 lone surrogate"}',
    '{"system":{"a":1}}',
    '{"x":1e400}',
    '{"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}',
  ),
);

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("", "\u0000", "\ud800", "a\u0000b", "x".repeat(3000), "__proto__", "constructor"),
);

/** A value for a field that should be an id or a string: usually a string, sometimes anything. */
const idLike = (known: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(known) },
    { weight: 3, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constant({ toString: 1 }) },
  );

/** An object value (context, profile, channelData): plain JSON, or a raw hostile text spliced in. */
const objectLike = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .dictionary(hostileString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
      .map((o) => JSON.stringify(o)),
  },
  { weight: 2, arbitrary: rawJson },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
);

/** An object whose optional members are each present or not; raw JSON texts are spliced in as they are. */
function objectText(members: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(members).map(([key, text]) =>
    fc.option(
      text.map((t) => `${JSON.stringify(key)}:${t}`),
      { nil: undefined },
    ),
  );
  return fc.tuple(...entries).map((parts) => `{${parts.filter((p) => p !== undefined).join(",")}}`);
}

const json = <T>(arbitrary: fc.Arbitrary<T>) => arbitrary.map((v) => JSON.stringify(v) ?? "null");

const recipient = objectText({
  type: json(fc.oneof(fc.constantFrom("aep", "external"), hostileString)),
  userId: json(idLike(KNOWN.userId)),
  namespace: json(fc.oneof(fc.constant("email"), hostileString)),
  context: objectLike,
  profile: objectLike,
  channelData: objectLike,
});

const unitaryBody = objectText({
  requestId: json(idLike("r")),
  campaignId: json(idLike(KNOWN.transactional)),
  recipients: fc.oneof(
    fc.array(recipient, { maxLength: 22 }).map((items) => `[${items.join(",")}]`),
    json(fc.jsonValue({ maxDepth: 2 })),
  ),
});

const audienceBody = objectText({
  campaignId: json(idLike(KNOWN.marketing)),
  requestId: json(idLike("r")),
  audience: json(fc.record({ id: idLike("all") })),
  context: objectLike,
  schedule: json(
    fc.record({
      executeAt: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        hostileString,
      ),
    }),
  ),
});

/** A call that passes validation but for one hostile value: what reaches rendering and storage. */
const nearlyValidBody = fc.oneof(
  objectText({
    requestId: json(mostly(fc.uuid(), hostileString)),
    campaignId: json(fc.constant(KNOWN.transactional)),
    recipients: fc
      .tuple(json(mostly(KNOWN.userId, hostileString)), objectLike, objectLike)
      .map(
        ([userId, context, profile]) =>
          `[{"type":"aep","namespace":"email","userId":${userId},"context":${context},"profile":${profile}}]`,
      ),
  }),
  objectText({
    campaignId: json(fc.constant(KNOWN.marketing)),
    requestId: json(mostly(fc.uuid(), hostileString)),
    context: objectLike,
  }),
);

const anyBody = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(unitaryBody, audienceBody) },
  { weight: 3, arbitrary: nearlyValidBody },
  { weight: 1, arbitrary: json(fc.jsonValue()) },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 1, arbitrary: unitaryBody.map((text) => text.slice(0, Math.floor(text.length / 2))) },
);

/** A path segment for `text`; a lone surrogate, which has no UTF-8, goes as the bytes a CESU-8 client sends. */
const segment = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
};

const pathId = fc.oneof(
  hostileString.map(segment),
  fc.constantFrom("%00abc", "%ZZ", "%E0%A4%A", "..%2F..", "a%2Fb", `${"x".repeat(4000)}`, "%ud800"),
);

const requestArbitrary: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .constantFrom("unitary", "audience")
          .map((kind) => ({ path: `${BASE}/${kind}`, method: "POST" })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom("unitary", "audience"), pathId)
          .map(([kind, id]) => ({ path: `${BASE}/${kind}/${id}`, method: "GET" })),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(pathId, { maxLength: 3 })
          .map((parts) => ({ path: `${BASE}/${parts.join("/")}`, method: "GET" })),
      },
    ),
    otherMethod: mostly(
      undefined,
      fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "POST", "HEAD", "OPTIONS"),
    ),
    contentType: mostly<string | undefined>(
      "application/json",
      fc.constantFrom(
        undefined,
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
      ),
    ),
    authenticated: mostly(true, fc.constant(false)),
    body: anyBody,
    query: mostly("", fc.constantFrom("?a=1", "?__proto__[x]=1", "?%00")),
  })
  .map(({ route, otherMethod, contentType, authenticated, body, query }) => {
    const method = otherMethod ?? route.method;
    return {
      method,
      path: route.path + query,
      contentType,
      authenticated,
      body: method === "GET" || method === "HEAD" ? undefined : body,
    };
  });

/** The attacks found by hand (issue 8), sent before the random ones. */
export function knownAttacks(): FuzzRequest[] {
  const post = (kind: string, body: string, contentType: string | undefined = "application/json") => ({
    method: "POST",
    path: `${BASE}/${kind}`,
    contentType,
    authenticated: true,
    body,
  });
  const unitary = (requestId: string, context: string) =>
    `{"requestId":${requestId},"campaignId":"reset","recipients":[{"type":"aep","namespace":"email","userId":"${KNOWN.userId}","context":${context}}]}`;
  return [
    post("unitary", unitary('{"toString":1}', "{}")),
    post("unitary", unitary('"deep"', nested(5000))),
    post("unitary", unitary('"nul"', '{"x":"\\u0000"}')),
    post("unitary", unitary('"surrogate"', '{"x":"\\ud800"}')),
    post("unitary", unitary('"proto"', '{"__proto__":{"polluted":"yes"}}')),
    post("unitary", unitary(`"${"r".repeat(3000)}"`, "{}")),
    post("unitary", unitary('"plain"', "{}"), "text/plain"),
    post("unitary", unitary('"no-type"', "{}"), undefined),
    post("unitary", " ".repeat(4_400_000)),
    post("unitary", `{"requestId":"big","campaignId":"reset","recipients":[${"{},".repeat(1_400_000)}{}]}`),
    {
      method: "GET",
      path: `${BASE}/audience/%00abc`,
      contentType: undefined,
      authenticated: true,
      body: undefined,
    },
    { method: "GET", path: `${BASE}/unitary`, contentType: undefined, authenticated: true, body: undefined },
    {
      method: "PUT",
      path: `${BASE}/audience`,
      contentType: "application/json",
      authenticated: true,
      body: "{}",
    },
  ];
}

/** `count` random requests, the same ones for the same seed. */
export function randomRequests(seed: number, count: number): FuzzRequest[] {
  return fc.sample(requestArbitrary, { seed, numRuns: count });
}
