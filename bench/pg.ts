/**
 * `npm run bench -- pg`: a scheduled campaign sent on PostgreSQL, end to end, against the loop a developer
 * would hand-roll for the same durable work, in the same process, alternating, medians.
 *
 * Both sides read the same 1,000,000-row profile table (loaded once into the `bench_pg` schema and kept),
 * render the same Handlebars template, send through the same memory adapter (which keeps nothing) and write
 * every outcome to the same `delivery_ledger` table with `synchronous_commit` on, on a pool of 16. The ledger
 * is emptied before each run. Environment: `DATABASE_URL` (default the local `test` database),
 * `BENCH_MESSAGES` (recipients, default 1,000,000), `BENCH_REPEATS` (default 3), `BENCH_RSS=0` to skip the
 * peak-RSS children, `BENCH_SIDE=kit`, `=hand` or `=database` to run one side only (for `--cpu-prof`). Each
 * round also times PostgreSQL alone writing the same ledger rows in one statement: the ceiling for both.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import pLimit from "p-limit";
import pg from "pg";
import { memoryChannel } from "../src/drivers/memory/channel.js";
import { migrate, postgresAudiences, postgresStorage } from "../src/drivers/postgres/index.js";
import { createCampaignKit } from "../src/kit/create-campaign-kit.js";
import { messageIdPrefix } from "../src/model/message-id.js";
import type { OutboundMessage } from "../src/ports/channel.js";
import { executionIdFor } from "../src/repositories/index.js";
import { benchConfiguration, median } from "./fixtures.js";

const URL_ = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const RSS = process.env.BENCH_RSS !== "0";
const SIDE = process.env.BENCH_SIDE;
/** Rows in the profile table: always the full million, whatever `BENCH_MESSAGES` sends to. */
const TABLE_ROWS = 1_000_000;
const POOL = 16;
const CONCURRENCY = 32;
const BATCH = 100;
const PAGE = 1000;
const SCHEMA = "bench_pg";
const KIT_SCHEMA = "bench_pg_kit";
const ADMIN = "root";

const SUBJECT = "Hi {{profile.firstName}}";
const TEXT =
  "Hello {{profile.firstName}}, our winter sale starts now. Your member id is {{profile.memberId}}.";

const configuration = benchConfiguration;

/** The id of the `i`-th profile: zero-padded, so code-point order is numeric order. */
const profileId = (i: number) => `p${String(i).padStart(7, "0")}`;

/** Creates and fills the profile table once (about a minute); later runs reuse it. */
export async function prepare(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  const exists = await pool.query(`SELECT to_regclass('${SCHEMA}.profiles') AS t`);
  const rows =
    exists.rows[0].t === null
      ? 0
      : Number((await pool.query(`SELECT count(*) AS n FROM ${SCHEMA}.profiles`)).rows[0].n);
  if (rows !== TABLE_ROWS) {
    console.log(`  loading ${TABLE_ROWS.toLocaleString("en-US")} profiles into ${SCHEMA}.profiles (once)`);
    await pool.query(`DROP TABLE IF EXISTS ${SCHEMA}.profiles`);
    await pool.query(`CREATE TABLE ${SCHEMA}.profiles (
      id text COLLATE "C" PRIMARY KEY, email text NOT NULL, first_name text, member_id integer,
      email_opt_in boolean, time_zone text)`);
    await pool.query(
      `INSERT INTO ${SCHEMA}.profiles
       SELECT 'p' || lpad(n::text, 7, '0'), 'p' || lpad(n::text, 7, '0') || '@example.com', 'Name' || n, n,
              true, 'Europe/Paris'
       FROM generate_series(0, ${TABLE_ROWS - 1}) n`,
    );
    await pool.query(`CREATE INDEX ON ${SCHEMA}.profiles (email)`);
    await pool.query(`VACUUM ANALYZE ${SCHEMA}.profiles`);
  }
  await migrate({ pool, schema: KIT_SCHEMA });
}

async function emptyLedger(pool: pg.Pool): Promise<void> {
  await pool.query(`TRUNCATE ${KIT_SCHEMA}.delivery_ledger, ${KIT_SCHEMA}.documents`);
}

async function sentRows(pool: pg.Pool, executionId: string): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::integer AS n FROM ${KIT_SCHEMA}.delivery_ledger WHERE execution_id = $1 AND outcome = 'sent'`,
    [executionId],
  );
  return rows[0].n;
}

/** The audience of the first `count` profiles: the whole table, or a WHERE on the id (keyset still applies). */
const audienceWhere = (count: number) =>
  count >= TABLE_ROWS ? {} : { where: "id < $1", params: [profileId(count)] };

/**
 * The kit: `postgresAudiences` over the table, `postgresStorage` and its ledger, a one-shot scheduled campaign
 * activated, then `scheduler.tick()` timed until it returns, the send done.
 */
export async function kitRun(pool: pg.Pool, count: number, round: number): Promise<number> {
  const channel = memoryChannel({ channel: "email", record: false });
  const kit = await createCampaignKit({
    storage: postgresStorage({ pool, schema: KIT_SCHEMA }),
    channels: [channel],
    audiences: postgresAudiences({
      pool,
      table: { schema: SCHEMA, name: "profiles" },
      columns: {
        id: "id",
        identities: { email: "email" },
        attributes: { firstName: "first_name", memberId: "member_id" },
        consent: { email: "email_opt_in" },
        timeZone: "time_zone",
      },
      audiences: { all: audienceWhere(count) },
    }),
    administrators: [ADMIN],
    dispatcher: { concurrency: CONCURRENCY, batchSize: BATCH },
  });
  try {
    await kit.audiences.register({
      actor: ADMIN,
      audience: { id: "all", name: "Everyone", status: "realized", identityNamespace: "email" },
    });
    await kit.configurations.register({ actor: ADMIN, configuration });
    const id = `sale-${round}`;
    await kit.campaigns.create({
      actor: ADMIN,
      campaign: {
        id,
        type: "scheduled",
        category: "marketing",
        name: "Winter sale",
        audienceId: "all",
        identityNamespace: "email",
        actions: [
          { channel: "email", channelConfigurationId: "news", content: { subject: SUBJECT, text: TEXT } },
        ],
      },
    });
    await kit.campaigns.activate({ actor: ADMIN, id });
    const started = performance.now();
    const tick = await kit.scheduler.tick();
    const seconds = (performance.now() - started) / 1000;
    const [executionId] = tick.launched;
    const sent = executionId === undefined ? 0 : await sentRows(pool, executionId);
    if (sent !== count || channel.stats.delivered !== count)
      throw new Error(`kit: ledger holds ${sent} sent rows, adapter ${channel.stats.delivered}, of ${count}`);
    return count / seconds;
  } finally {
    await kit.close();
  }
}

/**
 * The hand-rolled loop, written plainly: read the table by keyset, 1,000 rows a page; for each 100, under
 * p-limit 32: ask the ledger which are sent (`= ANY`), render the template, send the batch, write the
 * outcomes with one `unnest` insert. At most 64 batches queued, so memory stays bounded.
 */
export async function handRun(pool: pg.Pool, count: number, round: number): Promise<number> {
  const channel = memoryChannel({ channel: "email", record: false });
  const subject = Handlebars.compile(SUBJECT);
  const text = Handlebars.compile(TEXT);
  // Ids shaped as the kit's (a campaign id, a 28-character execution id), so both ledgers' keys weigh the same.
  const campaignId = `hand-${round}`;
  const executionId = executionIdFor(campaignId, "occurrence:1");
  const prefix = messageIdPrefix(campaignId, executionId, "email");
  const limit = pLimit(CONCURRENCY);
  const signal = new AbortController().signal;
  const inFlight = new Set<Promise<void>>();

  type Row = { id: string; email: string; first_name: string; member_id: number; email_opt_in: boolean };
  const sendBatch = async (rows: Row[]) => {
    const ids = rows.map((row) => prefix + row.id);
    // The kit's own findSent statement: `AND outcome = 'sent'` in the WHERE lets PostgreSQL pick a plan that
    // scans the ledger's whole partial index on a table not analysed since it was truncated (each run's).
    const found = await pool.query<{ message_id: string; outcome: string }>(
      `SELECT message_id, outcome FROM ${KIT_SCHEMA}.delivery_ledger WHERE message_id = ANY($1)`,
      [ids],
    );
    const skip = new Set(found.rows.filter((row) => row.outcome === "sent").map((row) => row.message_id));
    const messages: OutboundMessage[] = [];
    for (const [i, row] of rows.entries()) {
      if (skip.has(ids[i]!) || !row.email_opt_in) continue;
      const profile = { firstName: row.first_name, memberId: row.member_id };
      messages.push({
        id: ids[i]!,
        campaignId,
        executionId,
        recipientId: row.id,
        channel: "email",
        category: "marketing",
        to: row.email,
        content: { channel: "email", subject: subject({ profile }), text: text({ profile }) },
        configuration,
      });
    }
    await channel.sendBatch!(messages, { attempt: 1, signal });
    const at = new Date();
    await pool.query(
      `INSERT INTO ${KIT_SCHEMA}.delivery_ledger
         (message_id, campaign_id, execution_id, recipient_id, channel, outcome, attempts, at)
       SELECT m, $5, $2, r, 'email', 'sent', 1, $4 FROM unnest($1::text[], $3::text[]) AS t(m, r)
       ON CONFLICT (message_id) DO NOTHING`,
      [messages.map((m) => m.id), executionId, messages.map((m) => m.recipientId), at, campaignId],
    );
  };

  const started = performance.now();
  const where = count >= TABLE_ROWS ? "" : `AND id < '${profileId(count)}'`;
  let last = "";
  for (;;) {
    const { rows } = await pool.query<Row>(
      `SELECT id, email, first_name, member_id, email_opt_in FROM ${SCHEMA}.profiles
       WHERE id > $1 ${where} ORDER BY id LIMIT ${PAGE}`,
      [last],
    );
    for (let start = 0; start < rows.length; start += BATCH) {
      const task = limit(() => sendBatch(rows.slice(start, start + BATCH)));
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
    }
    while (inFlight.size >= CONCURRENCY * 2) await Promise.race(inFlight);
    if (rows.length < PAGE) break;
    last = rows[rows.length - 1]!.id;
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  const sent = await sentRows(pool, executionId);
  if (sent !== count || channel.stats.delivered !== count)
    throw new Error(
      `hand-rolled: ledger holds ${sent} sent rows, adapter ${channel.stats.delivered}, of ${count}`,
    );
  return count / seconds;
}

/**
 * What bounds both: PostgreSQL alone writing the same ledger rows, one `INSERT ... SELECT` from
 * `generate_series`, no client work, no round trips. Neither loop can write its ledger faster than this.
 */
export async function databaseRun(pool: pg.Pool, count: number, round: number): Promise<number> {
  const campaignId = `floor-${round}`;
  const executionId = executionIdFor(campaignId, "occurrence:1");
  const prefix = messageIdPrefix(campaignId, executionId, "email");
  const started = performance.now();
  await pool.query(
    `INSERT INTO ${KIT_SCHEMA}.delivery_ledger
       (message_id, campaign_id, execution_id, recipient_id, channel, outcome, attempts, at)
     SELECT $1 || 'p' || lpad(n::text, 7, '0'), $2, $3, 'p' || lpad(n::text, 7, '0'), 'email', 'sent', 1, now()
     FROM generate_series(0, $4 - 1) n`,
    [prefix, campaignId, executionId, count],
  );
  const seconds = (performance.now() - started) / 1000;
  if ((await sentRows(pool, executionId)) !== count) throw new Error("database: rows missing");
  return count / seconds;
}

interface Cpu {
  /** This process's CPU time per message, in µs. */
  node: number;
  /** The bench's PostgreSQL backends' CPU time per message, in µs. */
  db: number;
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
const TICK_MS = 1000 / 100;

/**
 * CPU time of the bench's PostgreSQL backends (its pool, and the kit's listening connection), in ms, from
 * `/proc/<pid>/stat` (the database runs on this machine), by pid. Connections that end between two readings
 * are missed, so the pool never closes idle ones.
 */
async function backendCpuMs(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-pg'",
  );
  const now = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      now.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // not on this machine, or gone
    }
  }
  return now;
}

/** The backends' CPU time added between two readings of {@link backendCpuMs}, in ms. */
function addedMs(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

function peakRss(count: number): number {
  const child = fileURLToPath(new URL("./pg-rss-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, [...process.execArgv, child, String(count)], {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: URL_ },
  });
  return Number(out.trim());
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Opens the bench's pool: 16 connections, `synchronous_commit` on whatever the server's default. */
export function benchPool(): pg.Pool {
  return new pg.Pool({
    connectionString: URL_,
    max: POOL,
    options: "-c synchronous_commit=on",
    application_name: "bench-pg",
    idleTimeoutMillis: 0,
  });
}

export async function run(): Promise<void> {
  const pool = benchPool();
  try {
    await prepare(pool);
    const setting = (await pool.query("SHOW synchronous_commit")).rows[0].synchronous_commit;
    console.log(
      `pg: ${fmt(MESSAGES)} recipients of ${fmt(TABLE_ROWS)} rows, pool ${POOL}, concurrency ${CONCURRENCY}, batch ${BATCH}, synchronous_commit ${setting}, ${REPEATS} rounds`,
    );
    const sides = [
      { name: "kit", run: kitRun, results: [] as number[], cpu: [] as Cpu[] },
      { name: "hand-rolled", run: handRun, results: [] as number[], cpu: [] as Cpu[] },
      { name: "database alone", run: databaseRun, results: [] as number[], cpu: [] as Cpu[] },
    ].filter((side) => SIDE === undefined || side.name.startsWith(SIDE));
    for (let i = 0; i < REPEATS; i++) {
      // Alternate which goes first, so neither always runs after the other's checkpoint or garbage.
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(i + k) % sides.length]!;
        await emptyLedger(pool);
        const node = process.cpuUsage();
        const backends = await backendCpuMs(pool);
        side.results.push(await side.run(pool, MESSAGES, i));
        const nodeMs = cpuMs(process.cpuUsage(node));
        // Per message, whatever the machine's other load: what each side costs, not how long it waited.
        side.cpu.push({
          node: (nodeMs * 1000) / MESSAGES,
          db: (addedMs(backends, await backendCpuMs(pool)) * 1000) / MESSAGES,
        });
      }
      console.log(
        `  round ${i + 1}: ${sides
          .map((s) => {
            const { node, db } = s.cpu[i]!;
            return `${s.name} ${fmt(s.results[i]!)} msg/s (CPU per message: node ${node.toFixed(1)} µs, PostgreSQL ${db.toFixed(1)} µs)`;
          })
          .join(", ")}`,
      );
    }
    const medianOf = (name: string) => {
      const side = sides.find((s) => s.name === name);
      return side && median(side.results);
    };
    const [kit, hand, floor] = ["kit", "hand-rolled", "database alone"].map(medianOf);
    for (const side of sides) {
      console.log(
        `  median CPU per message, ${side.name}: node ${median(side.cpu.map((c) => c.node)).toFixed(1)} µs, PostgreSQL backends ${median(side.cpu.map((c) => c.db)).toFixed(1)} µs`,
      );
    }
    if (kit !== undefined)
      console.log(`  median kit (postgresAudiences + postgresStorage, scheduler.tick()): ${fmt(kit)} msg/s`);
    if (hand !== undefined)
      console.log(`  median hand-rolled loop (same table, template, ledger):           ${fmt(hand)} msg/s`);
    if (kit !== undefined && hand !== undefined)
      console.log(`  ratio kit / hand-rolled: ${(kit / hand).toFixed(2)}`);
    if (floor !== undefined)
      console.log(
        `  median PostgreSQL alone, one INSERT ... SELECT of the same ledger rows: ${fmt(floor)} rows/s (the ceiling for both)`,
      );
    if (!RSS) return;
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      await emptyLedger(pool);
      small.push(peakRss(100_000));
      await emptyLedger(pool);
      large.push(peakRss(1_000_000));
    }
    const [rs, rl] = [median(small), median(large)];
    console.log(
      `  kit peak RSS (child process each): 100k ${mb(rs)} MB, 1M ${mb(rl)} MB, growth ${mb(rl - rs)} MB`,
    );
  } finally {
    await emptyLedger(pool).catch(() => {});
    await pool.end();
  }
}
