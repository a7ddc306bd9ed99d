/**
 * The process the kill -9 scenario kills: a fresh kit on the scenario's PostgreSQL schema that ticks its
 * scheduler until the campaign is done, sending through the provider log. A run after a kill finds the
 * occurrence in progress under a dead process's claim; it ticks again until the claim expires, then resumes.
 *
 * Arguments: schema, campaign id, recipient count, provider log path, claim in ms. `DATABASE_URL` names the
 * database. Prints `{"status": ...}` once the campaign has left `live`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { postgresStorage } from "../../src/drivers/postgres/index.js";
import { providerLogChannel } from "./provider-log.js";
import { ADMIN, AUDIENCE, members, readyKit } from "./support.js";

const [schema, campaignId, count, logPath, claimMs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const provider = await providerLogChannel(logPath);
const kit = await readyKit(
  {
    storage: postgresStorage({ pool, schema }),
    channels: [provider],
    audiences: memoryAudiences({ audiences: { [AUDIENCE]: () => members(Number(count)) } }),
    claimMs: Number(claimMs),
  },
  false,
);
let status = "live";
while (status === "live") {
  await kit.scheduler.tick();
  status = (await kit.campaigns.get({ actor: ADMIN, id: campaignId })).status;
  if (status === "live") await sleep(100);
}
await kit.close();
await provider.close();
await pool.end();
process.stdout.write(`${JSON.stringify({ status })}\n`);
