/**
 * Seeded HTTP fuzzing of the execution API: a real `node:http` server running `executionApi(kit).handler`
 * through `toNodeHandler`, every request going to the handler, on a kit (memory storage, then PostgreSQL) with a live transactional and a live marketing API-triggered campaign.
 * The hand-found attacks go first, then fast-check's requests for the printed seed, a few at a time. No
 * answer may be a 5xx; every non-2xx the handler gives must be a problem document; `Object.prototype` must
 * not change; the server must still accept a valid call at the end.
 */
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pLimit from "p-limit";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { CampaignKitError } from "../../src/errors.js";
import { executionApi } from "../../src/http/handler.js";
import { toNodeHandler } from "../../src/http/node.js";
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { liveReset, people } from "../../test/kit/fixtures.js";
import { BASE, type FuzzRequest, KNOWN, knownAttacks, randomRequests } from "./http-requests.js";
import {
  ADMIN,
  AUDIENCE,
  CONFIGURATION,
  type Figure,
  figures,
  fmt,
  readyKit,
  type Scenario,
  sized,
  storageKinds,
  storageOf,
  type TortureOptions,
} from "./support.js";

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Serves the kit's execution API on a free port; every request goes to the handler. */
async function serve(kit: CampaignKit): Promise<{ server: Server; port: number }> {
  const api = executionApi(kit, {
    authenticate: (request) => {
      if (request.headers.get("x-api-key") !== "secret")
        throw new CampaignKitError("FORBIDDEN", "Unknown API key.");
      return ADMIN;
    },
  });
  const server = createServer(toNodeHandler(api));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends one request as is (no URL normalisation); resolves with the answer or the transport error. */
function call(port: number, agent: Agent, fuzz: FuzzRequest): Promise<Answer | Error> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (fuzz.contentType !== undefined) headers["content-type"] = fuzz.contentType;
    if (fuzz.authenticated) headers["x-api-key"] = "secret";
    // Always framed: a body with neither length nor chunking (Node's default for OPTIONS, DELETE) would be
    // read as the next request, and Node's own 400 would be blamed on the handler.
    if (fuzz.body !== undefined) headers["content-length"] = String(Buffer.byteLength(fuzz.body));
    const req = httpRequest(
      { host: "127.0.0.1", port, agent, method: fuzz.method, path: fuzz.path, headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", resolve);
    req.end(fuzz.body);
  });
}

function isProblemDocument(answer: Answer, method: string): boolean {
  if (!answer.contentType.startsWith("application/problem+json")) return false;
  // A HEAD answer has no body by definition (RFC 9110): its status and content type are all there is.
  if (method === "HEAD") return true;
  try {
    const doc = JSON.parse(answer.body) as Record<string, unknown>;
    return typeof doc.type === "string" && typeof doc.title === "string" && doc.status === answer.status;
  } catch {
    return false;
  }
}

const prototypeShape = () =>
  [Object.prototype, Array.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join()).join("|");

async function fuzzedKit(kind: "memory" | "postgres", options: TortureOptions) {
  const { storage, dispose } = await storageOf(kind, options, "http");
  const profiles = people(5);
  const kit = await readyKit({
    storage,
    audiences: memoryAudiences({ profiles, audiences: { [AUDIENCE]: profiles } }),
  });
  await liveReset(kit);
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: KNOWN.marketing,
      type: "api-triggered",
      category: "marketing",
      name: "Promo",
      audienceId: AUDIENCE,
      identityNamespace: "email",
      actions: [
        {
          channel: "email",
          channelConfigurationId: CONFIGURATION,
          content: { subject: "Hi", text: "{{context.code}}" },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: KNOWN.marketing });
  return { kit, dispose };
}

async function runOn(kind: "memory" | "postgres", options: TortureOptions, count: number): Promise<Figure[]> {
  const f = figures("http-fuzz", kind);
  const { kit, dispose } = await fuzzedKit(kind, options);
  const { server, port } = await serve(kit);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const shape = prototypeShape();
  const requests = [...knownAttacks(), ...randomRequests(options.seed, count)];
  const tally = { noAnswer: 0, serverErrors: 0, notProblem: 0, polluted: 0, accepted: 0 };
  const statuses = new Map<number, number>();
  const examples = new Map<string, string[]>();
  // The first three of each kind of failure, cut short: enough to reproduce, not to flood the log.
  const example = (what: string, fuzz: FuzzRequest, detail: string) => {
    const seen = examples.get(what) ?? [];
    const body = (fuzz.body ?? "").slice(0, 100);
    if (seen.length < 3)
      seen.push(`${fuzz.method} ${fuzz.path.slice(0, 60)} ${body} -> ${detail.slice(0, 140)}`);
    examples.set(what, seen);
  };
  try {
    const limit = pLimit(8);
    await Promise.all(
      requests.map((fuzz) =>
        limit(async () => {
          const answer = await call(port, agent, fuzz);
          if (prototypeShape() !== shape || ({} as Record<string, unknown>).polluted !== undefined)
            tally.polluted++;
          if (answer instanceof Error) {
            tally.noAnswer++;
            return example("no answer", fuzz, answer.message);
          }
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status < 300) tally.accepted++;
          else if (answer.status >= 500) {
            tally.serverErrors++;
            example(`${answer.status}`, fuzz, answer.body);
          } else if (!isProblemDocument(answer, fuzz.method)) {
            tally.notProblem++;
            example("not a problem document", fuzz, `${answer.status} ${answer.contentType} ${answer.body}`);
          }
        }),
      ),
    );
    const valid = `{"requestId":"alive","campaignId":"${KNOWN.transactional}","recipients":[{"type":"aep","namespace":"email","userId":"${KNOWN.userId}","context":{"link":"x"}}]}`;
    const last = await call(port, agent, {
      method: "POST",
      path: `${BASE}/unitary`,
      contentType: "application/json",
      authenticated: true,
      body: valid,
    });
    await kit.idle();
    console.log(
      `  ${kind}: ${fmt(requests.length)} requests (${knownAttacks().length} known attacks), ${fmt(tally.accepted)} accepted`,
    );
    for (const [what, lines] of examples) for (const line of lines) console.log(`    ${what}: ${line}`);
    f.info("requests (seed)", `${fmt(requests.length)} (${options.seed})`);
    const byStatus = [...statuses].sort(([a], [b]) => a - b);
    f.info("answers by status", byStatus.map(([status, n]) => `${status}: ${fmt(n)}`).join(", "));
    f.equal("requests without an answer", tally.noAnswer, 0);
    f.equal("5xx answers", tally.serverErrors, 0);
    f.equal("non-2xx answers that are not problem documents", tally.notProblem, 0);
    f.equal("answers after which Object/Array.prototype had changed", tally.polluted, 0);
    f.equal("a valid call afterwards", last instanceof Error ? last.message : last.status, 202);
  } finally {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
    await kit.close();
    await dispose();
  }
  return f.list;
}

export const httpFuzz: Scenario = {
  name: "http-fuzz",
  summary: "seeded fast-check requests to the execution API's handler on a node:http server",
  async run(options) {
    const count = options.requests ?? sized(options, 5_000, 1_000);
    const list: Figure[] = [];
    for (const kind of storageKinds(options)) list.push(...(await runOn(kind, options, count)));
    return list;
  },
};
