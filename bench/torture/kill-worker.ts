/**
 * kill -9 of a worker at a random moment. Each trial migrates a fresh schema, starts two worker processes on
 * a pg-boss queue (3 s lease), and has this process plan a one-shot campaign to N synthetic profiles into
 * chunks; once the provider log reaches a seeded random line count, one worker is SIGKILLed and a fresh one
 * started. The dead worker's chunks come back to the others when its lease lapses; what it had claimed but
 * not recorded is in doubt. Odd trials use a provider that honours idempotency keys (in-doubt messages are
 * resent with their key and the provider drops the copy), even ones a provider that does not (they are
 * recorded `failed`, reason `in-doubt`, never resent). Then the provider log is checked against the ledger.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import PgBoss from "pg-boss";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { seededRandom } from "../../src/drivers/memory/random.js";
import { pgBossWorkQueue } from "../../src/drivers/pg-boss.js";
import { lineCounter, readProviderLog } from "./provider-log.js";
import {
  ADMIN,
  AUDIENCE,
  type Figure,
  figures,
  fmt,
  freshSchema,
  liveCampaign,
  members,
  onlyExecution,
  readyKit,
  type Scenario,
  sized,
  type TortureOptions,
  totals,
  trialsOf,
} from "./support.js";

const CHILD = fileURLToPath(new URL("./worker-child.ts", import.meta.url));
const CAMPAIGN = "torture-workers";

function startWorker(args: string[], url: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [...process.execArgv, CHILD, ...args], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
  });
  return { child, ready };
}

/** Resolves once the child exited; SIGKILLs it when a graceful exit takes over 15 s. */
const gone = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function trial(options: TortureOptions, index: number, recipients: number) {
  const random = seededRandom(options.seed + 1000 + index);
  const idempotent = index % 2 === 1;
  const db = await freshSchema(options, "workers");
  const bossSchema = `${db.schema}_boss`;
  const queueName = `torture-${index}`;
  const log = join(tmpdir(), `${db.schema}.log`);
  const boss = new PgBoss({ connectionString: options.databaseUrl!, schema: bossSchema, max: 4 });
  boss.on("error", () => {});
  await boss.start();
  const workQueue = pgBossWorkQueue({
    boss,
    pool: db.pool,
    schema: bossSchema,
    name: queueName,
    leaseSeconds: 3,
  });
  const children: ChildProcess[] = [];
  try {
    const kit = await readyKit({
      storage: db.storage,
      audiences: memoryAudiences({ audiences: { [AUDIENCE]: () => members(recipients) } }),
      workQueue,
      chunkSize: 250,
    });
    const args = [
      db.schema,
      bossSchema,
      queueName,
      String(recipients),
      log,
      idempotent ? "idempotent" : "plain",
    ];
    const start = async () => {
      const worker = startWorker(args, options.databaseUrl!);
      children.push(worker.child);
      await worker.ready;
      return worker.child;
    };
    const victim = await start();
    await start();
    await liveCampaign(kit, CAMPAIGN);
    const started = performance.now();
    const ticking = kit.scheduler.tick();
    const lines = lineCounter(log);
    const point = Math.floor(recipients * (0.05 + 0.85 * random()));
    const waitFrom = performance.now();
    while (lines() < point) {
      await sleep(2);
      if (performance.now() - waitFrom > 120_000)
        throw new Error(`the workers sent ${lines()} of ${point} lines in 2 minutes`);
    }
    await sleep(Math.floor(random() * 20));
    victim.kill("SIGKILL");
    const killedAt = lines();
    await start();
    await ticking;
    const seconds = (performance.now() - started) / 1000;
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map(gone));

    const deliveries = readProviderLog(log);
    const copies = new Map<string, number>();
    const idsOf = new Map<string, Set<string>>();
    for (const d of deliveries) {
      copies.set(d.messageId, (copies.get(d.messageId) ?? 0) + 1);
      idsOf.set(d.recipientId, (idsOf.get(d.recipientId) ?? new Set()).add(d.messageId));
    }
    let resent = 0;
    for (const n of copies.values()) resent += n - 1;
    let twoIds = 0;
    for (const ids of idsOf.values()) if (ids.size > 1) twoIds++;
    const { executionId, executions } = await onlyExecution(db.storage, CAMPAIGN);
    const summary = await db.storage.summarize({ campaignId: CAMPAIGN, executionId });
    const inDoubt = (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${db.schema}".delivery_ledger WHERE outcome = 'failed' AND reason = 'in-doubt'`,
      )
    ).rows[0]!.n;
    const failedIds = new Set(
      (
        await db.pool.query<{ recipient_id: string }>(
          `SELECT recipient_id FROM "${db.schema}".delivery_ledger WHERE outcome = 'failed'`,
        )
      ).rows.map((r) => r.recipient_id),
    );
    let lost = 0;
    for (let i = 0; i < recipients; i++) {
      const id = `p${i}`;
      if (!idsOf.has(id) && !failedIds.has(id)) lost++;
    }
    const report = await kit.reports.campaign({ actor: ADMIN, id: CAMPAIGN });
    const counted = summary.outcomes.sent + summary.outcomes.failed + summary.outcomes.excluded;
    console.log(
      `  trial ${index + 1} (${idempotent ? "idempotent" : "plain"} provider): ${fmt(recipients)} recipients, ` +
        `worker killed at line ${fmt(killedAt)}; lost ${lost}, two ids ${twoIds}, resent ${resent}, ` +
        `in doubt ${inDoubt}, counted ${fmt(counted)}, ${report.executionsByStatus.succeeded ? "succeeded" : JSON.stringify(report.executionsByStatus)}, ` +
        `completed in ${seconds.toFixed(1)} s`,
    );
    await kit.close();
    return {
      lost,
      twoIds,
      // A provider without idempotency keys must never get a message twice.
      duplicatesAtPlainProvider: idempotent ? 0 : resent,
      resentWithKey: idempotent ? resent : 0,
      inDoubt,
      wrongCount: counted === recipients ? 0 : 1,
      otherThanOneExecution: executions === 1 ? 0 : 1,
      notSucceeded: report.executionsByStatus.succeeded === 1 ? 0 : 1,
      seconds,
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await workQueue.close();
    await boss.stop({ graceful: false, wait: true });
    rmSync(log, { force: true });
    await db.pool.query(`DROP SCHEMA IF EXISTS "${bossSchema}" CASCADE`);
    await db.dispose();
  }
}

export const killWorker: Scenario = {
  name: "kill-worker",
  summary: "kill -9 of one of the workers sending a campaign (pg-boss, PostgreSQL ledger)",
  async run(options): Promise<Figure[]> {
    const f = figures("kill-worker", "postgres");
    if (options.databaseUrl === undefined) {
      f.info("skipped", "set DATABASE_URL");
      return f.list;
    }
    const trials = trialsOf(options, 10, 3);
    const recipients = sized(options, 20_000, 5_000);
    console.log(`  ${trials} trials x ${fmt(recipients)} recipients, 2 workers, one killed per trial`);
    const results: Awaited<ReturnType<typeof trial>>[] = [];
    for (let i = 0; i < trials; i++) results.push(await trial(options, i, recipients));
    const t = totals(results);
    f.info("trials x recipients", `${trials} x ${fmt(recipients)}`);
    f.info("completion time per trial, s (max)", Math.max(...results.map((r) => r.seconds)).toFixed(1));
    f.equal("recipients lost (no provider message, no ledger failure)", t.lost, 0);
    f.equal("recipients with two message ids", t.twoIds, 0);
    f.equal(
      "messages delivered twice to a provider without idempotency keys",
      t.duplicatesAtPlainProvider,
      0,
    );
    f.info("in-doubt messages resent with their key (provider drops the copy)", t.resentWithKey);
    f.info("in-doubt messages recorded failed (reason in-doubt)", t.inDoubt);
    f.equal("trials where sent+failed+excluded != recipients", t.wrongCount, 0);
    f.equal("trials with other than one execution", t.otherThanOneExecution, 0);
    f.equal("trials whose execution did not succeed", t.notSucceeded, 0);
    return f.list;
  },
};
