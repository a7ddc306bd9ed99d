/**
 * `npm run bench -- http`: unitary triggers over HTTP, 64 keep-alive connections, against four servers, each
 * in its own child process (`node --import tsx bench/http.ts --serve <kind>`):
 *
 * - `kit-pg`: the kit's server, `toNodeHandler(executionApi(kit))` on node:http with `postgresStorage`;
 * - `hand-pg`: the hand-rolled durable server written out below: parse, INSERT the execution (its request id
 *   unique), answer 202 once committed, then render, send and INSERT the ledger row;
 * - `kit-memory`: the kit's server on memory storage;
 * - `bare`: the hand-rolled server without a database (maps instead of tables).
 *
 * The load generator is this (parent) process: raw keep-alive sockets, one request in flight on each, a
 * fresh request id per request. Rounds alternate kit and baseline; each run warms up, then measures. After
 * each PostgreSQL run the server is killed with SIGKILL and every request that got a 202 must have its
 * execution in the database.
 *
 * Each run reports req/s, p50 and p99 latency, and the server's CPU time per request in the measured window
 * (user + system, all its threads): on a shared machine throughput moves with whatever else runs, CPU per
 * request much less.
 *
 * Options (after `--`): `--duration=<s>` measured seconds per run (default 5), `--warmup=<s>` (default 8),
 * `--connections=<n>` (default 64), `--rounds=<n>` (default 3), `--only=pg|memory|layer` (`layer`: the kit's
 * HTTP layer alone, over a stub kit, through the node lane and through web `Request`/`Response`),
 * `--profile` (one more kit run per storage, profiled by the inspector over its measured window only,
 * summarized; the `.cpuprofile` files go to `bench/profiles/`), `--pool=<n>` (the pg pool size of both
 * PostgreSQL servers, default 16), `--node-flags="..."` (extra Node flags for every server). `DATABASE_URL`
 * names the database (default `postgres://postgres@127.0.0.1:5432/test`); BENCH_HTTP_DEBUG=1 has each server
 * print its CPU use, heap, pool and storage calls every second.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Session } from "node:inspector";
import { connect, type Socket } from "node:net";
import { basename, join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import Handlebars from "handlebars";
import pg from "pg";
import { memoryAudiences } from "../src/drivers/memory/audiences.js";
import { memoryChannel } from "../src/drivers/memory/channel.js";
import { memoryStorage } from "../src/drivers/memory/storage.js";
import { migrate, postgresStorage } from "../src/drivers/postgres/index.js";
import { executionApi } from "../src/http/handler.js";
import { toNodeHandler } from "../src/http/node.js";
import { type CampaignKit, createCampaignKit } from "../src/kit/create-campaign-kit.js";
import { channelConfigurationSchema } from "../src/model/channel-configuration.js";
import { messageIdPrefix } from "../src/model/message-id.js";
import type { OutboundMessage } from "../src/ports/channel.js";
import type { Storage } from "../src/ports/storage.js";
import { executionIdFor } from "../src/repositories/index.js";
import { benchProfiles, median } from "./fixtures.js";

type Kind = "kit-pg" | "hand-pg" | "kit-memory" | "bare" | "api-node" | "api-web";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const KIT_SCHEMA = "bench_http_kit";
const HAND_SCHEMA = "bench_http_hand";
const PROFILES = 1000;
const ADMIN = "root";
const CAMPAIGN = "password-reset";
const PATH = "/im/executions/unitary";

const configuration = {
  id: "email-transactional",
  name: "Transactional email",
  channel: "email",
  purpose: "transactional",
  status: "active",
  settings: { fromName: "Acme", fromAddress: "no-reply@mail.acme.example", subdomain: "mail.acme.example" },
} as const;

const content = {
  subject: "Reset, {{profile.firstName}}",
  text: "Use {{context.resetLink}} within an hour.",
};

/** The reference execution API's unitary payload: one known recipient, a context for the template. */
function payload(requestId: string, n: number): string {
  return JSON.stringify({
    requestId,
    campaignId: CAMPAIGN,
    recipients: [
      {
        type: "aep",
        namespace: "email",
        userId: `p${n % PROFILES}@example.com`,
        context: { resetLink: `https://acme.example/reset?t=${requestId}` },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------
// The servers (child processes)
// ---------------------------------------------------------------------------------------------------------

/**
 * The kit's HTTP layer alone (`--only=layer`): `toNodeHandler(executionApi(...))` over a kit whose trigger
 * answers at once, so what is measured is routing, body reading and validation of JSON, and the answer.
 * `api-node` is the handler as `toNodeHandler` runs it (node lane: no web body stream or `Response`);
 * `api-web` wraps the same handler in a plain function, which `toNodeHandler` can only run through a web
 * `Request` and `Response`, as every call went before.
 */
function layerServer(web: boolean): (req: IncomingMessage, res: ServerResponse) => void {
  const createdAt = new Date().toISOString();
  const api = executionApi(
    {
      executions: {
        triggerUnitary: async ({ request }) => ({
          executionId: `x-${request.requestId}`,
          requestId: request.requestId,
          createdAt,
          created: true,
        }),
      } as CampaignKit["executions"],
    },
    { authenticate: () => ADMIN },
  );
  const handler = toNodeHandler(web ? (request, context) => api.handler(request, context) : api);
  return (req, res) => void handler(req, res);
}

/** Storage calls by operation and collection, for BENCH_HTTP_DEBUG's report. */
const storageCalls = new Map<string, number>();

function countedStorage(storage: Storage): Storage {
  const count = (key: string) => storageCalls.set(key, (storageCalls.get(key) ?? 0) + 1);
  const counted =
    <P extends object, R>(name: string, call: (params: P) => Promise<R>) =>
    (params: P) => {
      const { collection } = params as { collection?: string };
      count(collection === undefined ? name : `${name} ${collection}`);
      return call(params);
    };
  return {
    ...storage,
    insert: counted("insert", storage.insert),
    replace: counted("replace", storage.replace),
    get: counted("get", storage.get),
    list: counted("list", storage.list),
    delete: counted("delete", storage.delete),
    record: counted("ledger record", storage.record),
    findSent: counted("ledger findSent", storage.findSent),
    summarize: counted("ledger summarize", storage.summarize),
    countSentSince: counted("ledger countSentSince", storage.countSentSince),
  };
}

async function kitServer(
  storage: Storage | undefined,
): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  if (storage && process.env.BENCH_HTTP_DEBUG) storage = countedStorage(storage);
  const kit = await createCampaignKit({
    ...(storage ? { storage } : {}),
    channels: [memoryChannel({ channel: "email", record: false })],
    audiences: memoryAudiences({ profiles: [...benchProfiles(PROFILES)] }),
    administrators: [ADMIN],
  });
  await kit.configurations.register({ actor: ADMIN, configuration });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: CAMPAIGN,
      type: "api-triggered",
      category: "transactional",
      name: "Password reset",
      identityNamespace: "email",
      actions: [{ channel: "email", channelConfigurationId: configuration.id, content }],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: CAMPAIGN });
  const api = executionApi(kit, { authenticate: () => ADMIN, onError: (error) => console.error(error) });
  const handler = toNodeHandler(api);
  return (req, res) => void handler(req, res);
}

interface HandExecution {
  id: string;
  requestId: string;
  campaignId: string;
  recipient: { profileId: string; email: string; firstName: string };
  context: Record<string, unknown>;
  createdAt: string;
}

/**
 * The hand-rolled server, as a developer would write it in an afternoon: parse the JSON, check the few
 * fields it needs, look the recipient up, INSERT the execution (the request id's uniqueness is the
 * idempotency), answer 202 once that commit is done, then render, send and record the send in the ledger.
 * `store` is PostgreSQL (`hand-pg`) or maps (`bare`).
 */
function handServer(store: {
  insertExecution(execution: HandExecution): Promise<HandExecution>;
  recordSent(execution: HandExecution, messageId: string): Promise<void>;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const profiles = new Map<string, { id: string; firstName: string }>();
  for (const profile of benchProfiles(PROFILES)) {
    profiles.set(profile.identities.email!, {
      id: profile.id,
      firstName: String(profile.attributes.firstName),
    });
  }
  const subject = Handlebars.compile(content.subject);
  const text = Handlebars.compile(content.text);
  const channel = memoryChannel({ channel: "email", record: false });
  const parsedConfiguration = channelConfigurationSchema.parse(configuration);
  const signal = new AbortController().signal;
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  };

  async function send(execution: HandExecution): Promise<void> {
    const data = { profile: { firstName: execution.recipient.firstName }, context: execution.context };
    const message: OutboundMessage = {
      id: messageIdPrefix(execution.campaignId, execution.id, "email") + execution.recipient.profileId,
      campaignId: execution.campaignId,
      executionId: execution.id,
      recipientId: execution.recipient.profileId,
      channel: "email",
      category: "transactional",
      to: execution.recipient.email,
      content: { channel: "email", subject: subject(data), text: text(data) },
      configuration: parsedConfiguration,
    };
    await channel.send(message, { idempotencyKey: message.id, attempt: 1, signal });
    await store.recordSent(execution, message.id);
  }

  return (req, res) => {
    if (req.method !== "POST" || req.url !== PATH) return reply(res, 404, { title: "not found" });
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      let body: {
        requestId?: unknown;
        campaignId?: unknown;
        recipients?: { userId?: unknown; context?: Record<string, unknown> }[];
      };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(res, 400, { title: "not JSON" });
      }
      const recipient = body.recipients?.[0];
      const profile = typeof recipient?.userId === "string" ? profiles.get(recipient.userId) : undefined;
      if (typeof body.requestId !== "string" || body.campaignId !== CAMPAIGN || !profile) {
        return reply(res, 400, { title: "bad request" });
      }
      try {
        const execution = await store.insertExecution({
          id: `${CAMPAIGN}:${body.requestId}`,
          requestId: body.requestId,
          campaignId: CAMPAIGN,
          recipient: {
            profileId: profile.id,
            email: recipient!.userId as string,
            firstName: profile.firstName,
          },
          context: recipient!.context ?? {},
          createdAt: new Date().toISOString(),
        });
        reply(res, 202, {
          executionId: execution.id,
          requestId: execution.requestId,
          createdAt: execution.createdAt,
        });
        send(execution).catch((error) => console.error(error));
      } catch (error) {
        console.error(error);
        reply(res, 503, { title: "storage failed" });
      }
    });
  };
}

async function handPgStore(pool: pg.Pool) {
  await pool.query(`DROP SCHEMA IF EXISTS ${HAND_SCHEMA} CASCADE`);
  await pool.query(`CREATE SCHEMA ${HAND_SCHEMA}`);
  await pool.query(`CREATE TABLE ${HAND_SCHEMA}.executions (
    id text PRIMARY KEY, request_id text NOT NULL, campaign_id text NOT NULL, body jsonb NOT NULL,
    created_at timestamptz NOT NULL, UNIQUE (campaign_id, request_id))`);
  await pool.query(`CREATE TABLE ${HAND_SCHEMA}.ledger (
    message_id text PRIMARY KEY, execution_id text NOT NULL, recipient_id text NOT NULL, outcome text NOT NULL,
    at timestamptz NOT NULL)`);
  return {
    async insertExecution(execution: HandExecution): Promise<HandExecution> {
      const inserted = await pool.query(
        `INSERT INTO ${HAND_SCHEMA}.executions (id, request_id, campaign_id, body, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
        [execution.id, execution.requestId, execution.campaignId, execution, execution.createdAt],
      );
      if (inserted.rowCount === 1) return execution;
      // The same request id again: answer with the execution the first call stored.
      const found = await pool.query(`SELECT body FROM ${HAND_SCHEMA}.executions WHERE id = $1`, [
        execution.id,
      ]);
      return found.rows[0].body as HandExecution;
    },
    async recordSent(execution: HandExecution, messageId: string): Promise<void> {
      await pool.query(
        `INSERT INTO ${HAND_SCHEMA}.ledger (message_id, execution_id, recipient_id, outcome, at)
         VALUES ($1, $2, $3, 'sent', now()) ON CONFLICT DO NOTHING`,
        [messageId, execution.id, execution.recipient.profileId],
      );
    },
  };
}

function bareStore() {
  const executions = new Map<string, HandExecution>();
  const ledger = new Map<string, { executionId: string; outcome: "sent" }>();
  return {
    async insertExecution(execution: HandExecution): Promise<HandExecution> {
      const found = executions.get(execution.id);
      if (found) return found;
      executions.set(execution.id, execution);
      return execution;
    },
    async recordSent(execution: HandExecution, messageId: string): Promise<void> {
      if (!ledger.has(messageId)) ledger.set(messageId, { executionId: execution.id, outcome: "sent" });
    },
  };
}

/** Child process entry: builds the server of `kind`, listens on an ephemeral port, prints `ready <port>`. */
async function serve(kind: Kind, poolSize: number): Promise<void> {
  let pool: pg.Pool | undefined;
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  if (kind === "kit-pg" || kind === "hand-pg") {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: poolSize });
    if (kind === "kit-pg") {
      await pool.query(`DROP SCHEMA IF EXISTS ${KIT_SCHEMA} CASCADE`);
      await migrate({ pool, schema: KIT_SCHEMA });
      listener = await kitServer(postgresStorage({ pool, schema: KIT_SCHEMA }));
    } else {
      listener = handServer(await handPgStore(pool));
    }
  } else if (kind === "api-node" || kind === "api-web") {
    listener = layerServer(kind === "api-web");
  } else if (kind === "kit-memory") {
    listener = await kitServer(memoryStorage());
  } else {
    listener = handServer(bareStore());
  }
  // The parent asks for the CPU time used so far at the edges of its measured window: CPU per request is the
  // figure this shared machine disturbs least (throughput moves with whatever else runs).
  process.on("SIGUSR2", () => {
    const used = process.cpuUsage();
    process.stdout.write(`cpu ${used.user + used.system}\n`);
  });
  // BENCH_HTTP_DEBUG=1: the server's CPU use (of one core), heap and pool, every second, on stderr.
  if (process.env.BENCH_HTTP_DEBUG) {
    let cpu = process.cpuUsage();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    setInterval(() => {
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      const heap = Math.round(process.memoryUsage().heapUsed / 1e6);
      const clients = pool
        ? `, pool ${pool.totalCount} (${pool.idleCount} idle, ${pool.waitingCount} waiting)`
        : "";
      const lag = `event-loop delay p99 ${Math.round(delay.percentile(99) / 1e6)} ms, max ${Math.round(delay.max / 1e6)} ms`;
      delay.reset();
      console.error(
        `[${kind}] cpu ${Math.round((used.user + used.system) / 1e4)} %, heap ${heap} MB${clients}, ${lag}`,
      );
      const calls = [...storageCalls].map(([key, n]) => `${key} ${n}`).join(", ");
      storageCalls.clear();
      if (calls) console.error(`[${kind}] storage calls in the last second: ${calls}`);
    }, 1000).unref();
  }
  const server = createServer({ keepAliveTimeout: 60_000 }, listener);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(`ready ${typeof address === "object" && address ? address.port : 0}\n`);
  });
  // A profiled run: the parent says when the measured window starts and ends, so start-up and warm-up
  // (module loading, JIT) stay out of the profile.
  if (process.send) {
    const session = new Session();
    session.connect();
    const post = (method: string, params?: object) =>
      new Promise<unknown>((resolve, reject) =>
        session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
      );
    process.on("message", async (message: { profile: "start" } | { profile: "stop"; file: string }) => {
      if (message.profile === "start") {
        await post("Profiler.enable");
        await post("Profiler.setSamplingInterval", { interval: 200 });
        await post("Profiler.start");
        process.send!("started");
      } else {
        const { profile } = (await post("Profiler.stop")) as { profile: unknown };
        writeFileSync(message.file, JSON.stringify(profile));
        process.send!("stopped");
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The load generator (parent process)
// ---------------------------------------------------------------------------------------------------------

interface RunResult {
  kind: Kind;
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 202 during the measured window. */
  errors: number;
  /** Request ids answered 202 (the whole run, warm-up included): what the durability check looks for. */
  accepted: string[];
  /** The server's CPU time (user + system) per answered request in the measured window, in microseconds. */
  cpuPerRequest: number;
  /** The server's CPU use in the measured window, in cores (1 = one core busy all along). */
  cores: number;
}

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  pool: number;
  profile: boolean;
  only: "pg" | "memory" | "layer" | undefined;
  /** Extra Node flags for the servers (`--node-flags="--single-threaded-gc"`), the same for every server. */
  nodeFlags: string[];
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const number = (name: string, fallback: number, min = 1) => {
    const given = value(name);
    if (given === undefined) return fallback;
    const n = Number(given);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number >= ${min}, got '${given}'`);
    return n;
  };
  const only = value("only");
  if (only !== undefined && only !== "pg" && only !== "memory" && only !== "layer") {
    throw new Error(`--only is 'pg', 'memory' or 'layer', got '${only}'`);
  }
  return {
    duration: number("duration", 5, 0.5),
    // Long enough for V8 to optimize the kit's code: on a busy machine its background compiler threads wait
    // for a core too, and a kit measured before they are done runs interpreted, at twice the CPU per call.
    warmup: number("warmup", 8, 0),
    connections: Math.round(number("connections", 64)),
    // 0 rounds with --profile: only the profiled runs.
    rounds: Math.round(number("rounds", 3, 0)),
    pool: Math.round(number("pool", 16)),
    profile: argv.includes("--profile"),
    nodeFlags: (value("node-flags") ?? "").split(" ").filter(Boolean),
    only,
  };
}

const here = fileURLToPath(import.meta.url);
const PROFILE_DIR = join(fileURLToPath(new URL(".", import.meta.url)), "profiles");

async function startServer(kind: Kind, options: Options, profiled = false) {
  const child = spawn(
    process.execPath,
    [...options.nodeFlags, "--import", "tsx", here, "--serve", kind, `--pool=${options.pool}`],
    {
      stdio: ["ignore", "pipe", "inherit", ...(profiled ? (["ipc"] as const) : [])],
    },
  );
  const cpuReadings: ((micros: number) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      for (let end = out.indexOf("\n"); end >= 0; end = out.indexOf("\n")) {
        const line = out.slice(0, end);
        out = out.slice(end + 1);
        const ready = /^ready (\d+)/.exec(line);
        if (ready) resolve(Number(ready[1]));
        const cpu = /^cpu (\d+)/.exec(line);
        if (cpu) cpuReadings.shift()?.(Number(cpu[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`the ${kind} server exited (${code}) before listening`)));
  });
  /** The server's CPU time used so far (user + system), in microseconds. */
  const cpu = () =>
    new Promise<number>((resolve) => {
      cpuReadings.push(resolve);
      child.kill("SIGUSR2");
    });
  return { child, port, cpu };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Drives `connections` keep-alive sockets, one request in flight on each, for `warmup` then `duration`
 * seconds; latencies and answers count only in the measured window. Requests are prebuilt raw HTTP/1.1, and
 * answers parsed just far enough to find their status and end (`content-length`), so the generator costs
 * little of the machine the server needs.
 */
export async function load(
  port: number,
  tag: string,
  options: Options,
  window: { start?: () => Promise<void>; stop?: () => Promise<void> } = {},
): Promise<Omit<RunResult, "kind" | "cpuPerRequest" | "cores"> & { seconds: number }> {
  const latencies: number[] = [];
  const accepted: string[] = [];
  let errors = 0;
  let measuring = false;
  let stopping = false;
  let measuredStart = 0;
  let measuredEnd = 0;
  let completed = 0;
  let counter = 0;

  const perConnection: number[] = [];
  let slowest = 0;
  const drive = (socket: Socket, c: number) =>
    new Promise<void>((resolve, reject) => {
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let requestId = "";
      const next = () => {
        if (stopping) {
          socket.end();
          resolve();
          return;
        }
        requestId = `${tag}-${c}-${counter++}`;
        const body = payload(requestId, counter);
        sentAt = performance.now();
        socket.write(
          `POST ${PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      };
      socket.on("data", (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const headEnd = buffer.indexOf("\r\n\r\n");
          if (headEnd < 0) return;
          const head = buffer.toString("latin1", 0, headEnd);
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length < headEnd + 4 + length) return;
          const status = Number(head.slice(9, 12));
          buffer = buffer.subarray(headEnd + 4 + length);
          const now = performance.now();
          if (status === 202) accepted.push(requestId);
          perConnection[c] = (perConnection[c] ?? 0) + 1;
          if (now - sentAt > slowest) slowest = now - sentAt;
          if (measuring) {
            latencies.push(now - sentAt);
            completed++;
            if (status !== 202) errors++;
          }
          next();
        }
      });
      socket.on("error", (error) => (stopping ? resolve() : reject(error)));
      socket.on("close", () => resolve());
      next();
    });

  const sockets = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(port, "127.0.0.1", () => resolve(socket));
          socket.setNoDelay(true);
          socket.once("error", reject);
        }),
    ),
  );
  const driving = Promise.all(sockets.map((socket, c) => drive(socket, c)));
  await new Promise((resolve) => setTimeout(resolve, options.warmup * 1000));
  await window.start?.();
  measuring = true;
  measuredStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.duration * 1000));
  measuring = false;
  measuredEnd = performance.now();
  await window.stop?.();
  stopping = true;
  // Answers still in flight land in `accepted` if they come; the caller kills the server shortly after.
  await Promise.race([driving, new Promise((resolve) => setTimeout(resolve, 2000))]);
  for (const socket of sockets) socket.destroy();
  latencies.sort((a, b) => a - b);
  if (process.env.BENCH_HTTP_DEBUG) {
    const counts = Array.from({ length: options.connections }, (_, c) => perConnection[c] ?? 0).sort(
      (a, b) => a - b,
    );
    console.error(
      `[load] answers per connection: min ${counts[0]}, median ${counts[counts.length >> 1]}, max ${counts.at(-1)}; slowest ${Math.round(slowest)} ms; lowest ${counts.slice(0, 8).join(" ")}`,
    );
  }
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    rps: completed / ((measuredEnd - measuredStart) / 1000),
    seconds: (measuredEnd - measuredStart) / 1000,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    accepted,
  };
}

/**
 * After a PostgreSQL run whose server was killed with SIGKILL: every request answered 202 must have its
 * execution stored. Returns how many are missing.
 */
async function missingExecutions(kind: Kind, accepted: readonly string[]): Promise<number> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    const ids =
      kind === "kit-pg"
        ? accepted.map((requestId) => executionIdFor(CAMPAIGN, requestId))
        : accepted.map((requestId) => `${CAMPAIGN}:${requestId}`);
    const sql =
      kind === "kit-pg"
        ? `SELECT count(*)::integer AS n FROM ${KIT_SCHEMA}.documents WHERE collection = 'executions' AND id = ANY($1)`
        : `SELECT count(*)::integer AS n FROM ${HAND_SCHEMA}.executions WHERE id = ANY($1)`;
    const { rows } = await pool.query<{ n: number }>(sql, [ids]);
    return ids.length - rows[0]!.n;
  } finally {
    await pool.end();
  }
}

async function measure(kind: Kind, round: number, options: Options): Promise<RunResult> {
  const { child, port, cpu } = await startServer(kind, options);
  try {
    let cpuStart = 0;
    let cpuEnd = 0;
    const { seconds, ...measured } = await load(port, `${kind}-${round}-${Date.now()}`, options, {
      start: async () => {
        cpuStart = await cpu();
      },
      stop: async () => {
        cpuEnd = await cpu();
      },
    });
    const used = cpuEnd - cpuStart;
    const result = {
      ...measured,
      cpuPerRequest: used / Math.max(1, measured.rps * seconds),
      cores: used / 1e6 / seconds,
    };
    child.kill("SIGKILL");
    await exited(child);
    if (kind === "kit-pg" || kind === "hand-pg") {
      const missing = await missingExecutions(kind, result.accepted);
      if (missing > 0) {
        throw new Error(
          `DURABILITY BROKEN: ${missing} of ${result.accepted.length} requests answered 202 by ${kind} have no stored execution`,
        );
      }
    }
    return { kind, ...result };
  } finally {
    child.kill("SIGKILL");
  }
}

/** One profiled kit run: the server profiles its measured window only (inspector), then the summary. */
async function profiled(kind: Kind, options: Options): Promise<void> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const file = join(PROFILE_DIR, `${kind}-${Date.now()}.cpuprofile`);
  const { child, port } = await startServer(kind, options, true);
  const ask = (message: object, answer: string) =>
    new Promise<void>((resolve) => {
      const on = (reply: unknown) => {
        if (reply !== answer) return;
        child.off("message", on);
        resolve();
      };
      child.on("message", on);
      child.send(message);
    });
  try {
    const result = await load(port, `${kind}-profile-${Date.now()}`, options, {
      start: () => ask({ profile: "start" }, "started"),
      stop: () => ask({ profile: "stop", file }, "stopped"),
    });
    console.log(
      `  profiled ${kind}: ${fmt(result.rps)} req/s while profiled; ${join("bench/profiles", basename(file))}`,
    );
    for (const line of summarizeProfile(file)) console.log(`    ${line}`);
  } finally {
    child.kill("SIGKILL");
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Where a frame's code lives: a node module, a folder of `src/`, a Node internal, or a V8 pseudo-frame. */
function placeOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "native";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (module) return module;
  const own = /\/(src|bench)\/(.+?)(?:\.ts)?$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

/**
 * The profile's time (idle included) three ways: self time by place (node internals, pg, zod, each source
 * file...), and by the innermost campaign-kit, pg or bench frame on the stack, which charges Node's internals
 * (web streams, undici's Request, socket writes) to the code that called them: what bounds the server.
 */
export function summarizeProfile(file: string): string[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    self.set(id, (self.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const add = (map: Map<string, number>, key: string, time: number) =>
    map.set(key, (map.get(key) ?? 0) + time);
  const byPlace = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const name = (frame: ProfileNode["callFrame"]) =>
    `${frame.functionName || "(anonymous)"} ${placeOf(frame)}:${frame.lineNumber + 1}`;
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    add(byPlace, placeOf(frame), time);
    // Up the stack to the first frame of ours (or pg's): who asked for this work.
    let at: number | undefined = id;
    let owner: string | undefined;
    while (at !== undefined) {
      const f = byId.get(at)!.callFrame;
      if (/\/(src|bench)\/|node_modules\/(pg|pg-protocol|zod|handlebars|p-limit)\//.test(f.url)) {
        owner = name(f);
        break;
      }
      at = parent.get(at);
    }
    add(
      byOwner,
      owner ?? (frame.url ? `(node, no caller of ours) ${placeOf(frame)}` : frame.functionName),
      time,
    );
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, t]) => `${pct(t)}  ${key}`);
  return [
    `self time by place (${(total / 1e6).toFixed(1)} s sampled):`,
    ...top(byPlace, 16),
    "by the innermost frame of ours on the stack (Node's work charged to its caller):",
    ...top(byOwner, 24),
  ];
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Runs `kit` and `baseline` in alternating order for `rounds` rounds; prints each run and the medians. */
async function pair(kit: Kind, baseline: Kind, options: Options): Promise<void> {
  const results: Record<string, RunResult[]> = { [kit]: [], [baseline]: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? [kit, baseline] : [baseline, kit];
    for (const kind of order) {
      const result = await measure(kind, round, options);
      results[kind]!.push(result);
      const durable = kind.endsWith("-pg") ? `, ${fmt(result.accepted.length)} acknowledged all stored` : "";
      console.log(
        `  round ${round + 1} ${kind.padEnd(10)} ${fmt(result.rps).padStart(7)} req/s  p50 ${ms(result.p50)}  p99 ${ms(result.p99)}` +
          `  cpu ${fmt(result.cpuPerRequest)} us/req (${result.cores.toFixed(2)} cores)` +
          `${result.errors ? `  ${result.errors} non-202` : ""}${durable}`,
      );
    }
  }
  const summary = (kind: Kind) => {
    const runs = results[kind]!;
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpu: median(runs.map((r) => r.cpuPerRequest)),
    };
  };
  const k = summary(kit);
  const b = summary(baseline);
  const ratios = results[kit]!.map((r, i) => (r.rps / results[baseline]![i]!.rps).toFixed(2));
  for (const [kind, m] of [
    [kit, k],
    [baseline, b],
  ] as const) {
    console.log(
      `  median ${kind.padEnd(10)} ${fmt(m.rps).padStart(7)} req/s  p50 ${ms(m.p50)}  p99 ${ms(m.p99)}  cpu ${fmt(m.cpu)} us/req`,
    );
  }
  console.log(`  ratio ${kit}/${baseline}: ${(k.rps / b.rps).toFixed(2)} (per round: ${ratios.join(", ")})`);
  console.log(`  CPU per request ${kit}/${baseline}: ${(k.cpu / b.cpu).toFixed(2)}`);
}

/** `npm run bench -- http [--duration=6] [--connections=64] [--rounds=3] [--only=pg|memory] [--profile]`. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  console.log(
    `http: unitary triggers, ${options.connections} keep-alive connections, ${options.warmup} s warm-up + ` +
      `${options.duration} s measured per run, ${options.rounds} rounds alternating, pg pool ${options.pool}`,
  );
  if (options.only === "layer") {
    console.log(
      "the HTTP layer alone (a kit whose trigger answers at once), node lane against the web path:",
    );
    await pair("api-node", "api-web", options);
    console.log("the HTTP layer alone against the bare server:");
    await pair("api-node", "bare", options);
    return;
  }
  if (options.only !== "memory" && options.rounds > 0) {
    console.log("PostgreSQL (synchronous_commit as the server has it), 202 only after the commit:");
    await pair("kit-pg", "hand-pg", options);
  }
  if (options.only !== "pg" && options.rounds > 0) {
    console.log("memory:");
    await pair("kit-memory", "bare", options);
  }
  if (options.profile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    if (options.only !== "memory") await profiled("kit-pg", options);
    if (options.only !== "pg") await profiled("kit-memory", options);
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const at = process.argv.indexOf("--serve");
  if (at >= 0) await serve(process.argv[at + 1] as Kind, parseOptions(process.argv).pool);
}
