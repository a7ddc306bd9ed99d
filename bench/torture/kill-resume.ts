/**
 * kill -9 during a PostgreSQL send, then resume. Each trial migrates a fresh schema, activates a one-shot
 * campaign to N synthetic profiles, and runs it in a child process that the parent SIGKILLs once the provider
 * log reaches a seeded random line count; a fresh child resumes it (the dead one's claim expires after
 * `claimMs`), K times, and the last child finishes it. Then the provider log (what the provider received) is
 * checked against the ledger and the report.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../../src/drivers/memory/random.js";
import { type Delivery, lineCounter, readProviderLog } from "./provider-log.js";
import {
  ADMIN,
  type Figure,
  figures,
  fmt,
  freshSchema,
  ledgerView,
  liveCampaign,
  onlyExecution,
  readyKit,
  type Scenario,
  sized,
  type TortureOptions,
  totals,
  trialsOf,
} from "./support.js";

const CHILD = fileURLToPath(new URL("./kill-resume-child.ts", import.meta.url));
const CAMPAIGN = "torture";
const CLAIM_MS = 1000;
/** What one child can have in flight: the dispatcher's default concurrency times its batch size. */
const IN_FLIGHT = 32 * 100;
const CHILD_TIMEOUT_MS = 15 * 60_000;

function startChild(schema: string, recipients: number, log: string, url: string): ChildProcess {
  return spawn(
    process.execPath,
    [...process.execArgv, CHILD, schema, CAMPAIGN, String(recipients), log, String(CLAIM_MS)],
    { env: { ...process.env, DATABASE_URL: url }, stdio: ["ignore", "pipe", "inherit"] },
  );
}

/** Resolves with the child's exit code (null when killed) and what it printed. */
function exited(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

/** Kill points: `kills` distinct provider-log line counts between 5 % and 95 % of the recipients. */
function killPoints(random: () => number, kills: number, recipients: number): number[] {
  const points = Array.from({ length: kills }, () => Math.floor(recipients * (0.05 + 0.9 * random())));
  return [...new Set(points)].sort((a, b) => a - b);
}

/** Runs the children of one trial; returns the line count at each kill and the last child's output. */
async function runChildren(
  schema: string,
  recipients: number,
  log: string,
  url: string,
  points: number[],
  random: () => number,
) {
  const lines = lineCounter(log);
  const killedAt: number[] = [];
  for (const point of points) {
    const child = startChild(schema, recipients, log, url);
    const exit = exited(child);
    let finished = false;
    exit.then(() => {
      finished = true;
    });
    while (!finished && lines() < point) await sleep(2);
    if (finished) throw new Error(`the child ended before line ${point}: ${(await exit).output}`);
    await sleep(Math.floor(random() * 20));
    child.kill("SIGKILL");
    await exit;
    killedAt.push(lines());
  }
  const last = await exited(startChild(schema, recipients, log, url));
  if (last.code !== 0) throw new Error(`the last child failed (exit ${last.code})`);
  return { killedAt, final: JSON.parse(last.output) as { status: string } };
}

/** What the provider received, per message id and per recipient. */
function tally(deliveries: readonly Delivery[]) {
  const copies = new Map<string, number>();
  const idsOf = new Map<string, Set<string>>();
  let keyMismatches = 0;
  for (const d of deliveries) {
    copies.set(d.messageId, (copies.get(d.messageId) ?? 0) + 1);
    const ids = idsOf.get(d.recipientId) ?? new Set<string>();
    idsOf.set(d.recipientId, ids.add(d.messageId));
    if (d.idempotencyKey !== d.messageId) keyMismatches++;
  }
  let duplicates = 0;
  for (const n of copies.values()) duplicates += n - 1;
  let twoIds = 0;
  for (const ids of idsOf.values()) if (ids.size > 1) twoIds++;
  return { idsOf, duplicates, twoIds, keyMismatches };
}

async function trial(options: TortureOptions, index: number, recipients: number, kills: number) {
  const random = seededRandom(options.seed + index);
  const db = await freshSchema(options, "kill");
  const log = join(tmpdir(), `${db.schema}.log`);
  try {
    const kit = await readyKit({ storage: db.storage });
    await liveCampaign(kit, CAMPAIGN);
    const started = performance.now();
    const points = killPoints(random, kills, recipients);
    const run = await runChildren(db.schema, recipients, log, options.databaseUrl!, points, random);
    const seconds = (performance.now() - started) / 1000;

    const provider = tally(readProviderLog(log));
    const { executionId, executions } = await onlyExecution(db.storage, CAMPAIGN);
    const ledger = await ledgerView(db.storage, CAMPAIGN, executionId, recipients);
    let lost = 0;
    let phantom = 0;
    for (let i = 0; i < recipients; i++) {
      const id = `p${i}`;
      if (!ledger.sent.has(id) && !provider.idsOf.has(id)) lost++;
      if (ledger.sent.has(id) && !provider.idsOf.has(id)) phantom++;
    }
    const unrecorded = recipients - ledger.recordedCount;
    const report = await kit.reports.campaign({ actor: ADMIN, id: CAMPAIGN });
    const counted = report.outcomes.sent + report.outcomes.failed + report.outcomes.excluded;
    console.log(
      `  trial ${index + 1}: ${fmt(recipients)} recipients, killed at provider lines ` +
        `${run.killedAt.map(fmt).join(", ")}; lost ${lost}, unrecorded ${unrecorded}, ` +
        `re-delivered ${provider.duplicates}, two ids ${provider.twoIds}, phantom sends ${phantom}, ` +
        `counted ${fmt(counted)}, ${run.final.status}, ${seconds.toFixed(1)} s`,
    );
    return {
      kills: run.killedAt.length,
      lost,
      unrecorded,
      phantom,
      otherThanOneExecution: executions === 1 ? 0 : 1,
      wrongCount: counted === recipients && report.targeted === recipients ? 0 : 1,
      notCompleted: run.final.status === "completed" ? 0 : 1,
      duplicates: provider.duplicates,
      twoIds: provider.twoIds,
      keyMismatches: provider.keyMismatches,
    };
  } finally {
    rmSync(log, { force: true });
    await db.dispose();
  }
}

export const killResume: Scenario = {
  name: "kill-resume",
  summary: "kill -9 during a PostgreSQL send, then resume",
  async run(options): Promise<Figure[]> {
    const f = figures("kill-resume", "postgres");
    if (options.databaseUrl === undefined) {
      f.info("skipped", "set DATABASE_URL");
      return f.list;
    }
    const trials = trialsOf(options, 5, 2);
    const recipients = sized(options, 200_000, 20_000);
    const kills = sized(options, 3, 2);
    console.log(
      `  ${trials} trials x ${fmt(recipients)} recipients, ${kills} kills each, claim ${CLAIM_MS} ms`,
    );
    const results: Awaited<ReturnType<typeof trial>>[] = [];
    for (let i = 0; i < trials; i++) results.push(await trial(options, i, recipients, kills));
    const t = totals(results);
    f.info("trials x recipients", `${trials} x ${fmt(recipients)}`);
    f.info("kills", t.kills);
    f.equal("recipients lost (no provider message, no ledger outcome)", t.lost, 0);
    f.equal("recipients without a ledger outcome", t.unrecorded, 0);
    f.equal("recipients with two message ids", t.twoIds, 0);
    f.atMost("same message id delivered twice (in flight at a kill)", t.duplicates, t.kills * IN_FLIGHT);
    f.equal("re-deliveries a key-honouring provider would not drop", t.keyMismatches, 0);
    f.equal("ledger `sent` the provider never received", t.phantom, 0);
    f.equal("trials with other than one execution", t.otherThanOneExecution, 0);
    f.equal("trials where sent+failed+excluded or targeted != recipients", t.wrongCount, 0);
    f.equal("trials not ending `completed`", t.notCompleted, 0);
    return f.list;
  },
};
