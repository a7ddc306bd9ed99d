/**
 * Two kits on one storage tick one due campaign at the same moment, as two processes of a host would: on
 * PostgreSQL each kit has its own pool (two processes, as far as the database can tell); on memory they share
 * one `memoryStorage`. Each kit sends through its own provider connection, so a recipient both kits sent to
 * shows up in both. Every recipient must be sent exactly once.
 */

import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { postgresStorage } from "../../src/drivers/postgres/index.js";
import type { Storage } from "../../src/ports/storage.js";
import {
  ADMIN,
  AUDIENCE,
  type Figure,
  figures,
  fmt,
  ledgerView,
  liveCampaign,
  members,
  onlyExecution,
  openPool,
  readyKit,
  type Scenario,
  sized,
  storageKinds,
  storageOf,
  type TortureOptions,
  trialsOf,
} from "./support.js";

/** A second handle on the same storage: a pool of its own on PostgreSQL, the same object in memory. */
async function secondHandle(
  kind: "memory" | "postgres",
  options: TortureOptions,
  storage: Storage,
  schema?: string,
) {
  if (kind === "memory") return { storage, dispose: async () => {} };
  const pool = openPool(options);
  return { storage: postgresStorage({ pool, schema: schema! }), dispose: () => pool.end() };
}

async function runOn(
  kind: "memory" | "postgres",
  options: TortureOptions,
  trials: number,
  recipients: number,
) {
  const first = await storageOf(kind, options, "twokits");
  const second = await secondHandle(kind, options, first.storage, first.schema);
  const f = figures("two-kits", kind);
  try {
    const audiences = memoryAudiences({ audiences: { [AUDIENCE]: () => members(recipients) } });
    const channels = [memoryChannel(), memoryChannel()];
    const a = await readyKit({ storage: first.storage, channels: [channels[0]!], audiences });
    const b = await readyKit({ storage: second.storage, channels: [channels[1]!], audiences }, false);
    let twice = 0;
    let missing = 0;
    let executions = 0;
    let ledgerSent = 0;
    const split: string[] = [];
    for (let t = 0; t < trials; t++) {
      const id = `twice-${t}`;
      for (const channel of channels) channel.reset();
      await liveCampaign(a, id);
      // Each kit goes first in every other trial.
      const [x, y] = t % 2 === 0 ? [a, b] : [b, a];
      await Promise.all([x.scheduler.tick(), y.scheduler.tick(), x.scheduler.tick(), y.scheduler.tick()]);
      await Promise.all([a.idle(), b.idle()]);
      await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      const times = new Map<string, number>();
      for (const channel of channels) {
        for (const m of channel.sent) times.set(m.recipientId, (times.get(m.recipientId) ?? 0) + 1);
      }
      for (let i = 0; i < recipients; i++) {
        const n = times.get(`p${i}`) ?? 0;
        if (n === 0) missing++;
        if (n > 1) twice += n - 1;
      }
      const execution = await onlyExecution(first.storage, id);
      executions += execution.executions === 1 ? 0 : 1;
      ledgerSent += (await ledgerView(first.storage, id, execution.executionId, recipients)).sent.size;
      split.push(`${fmt(channels[0]!.sent.length)}+${fmt(channels[1]!.sent.length)}`);
      const status = (await b.campaigns.get({ actor: ADMIN, id })).status;
      if (status !== "completed") f.info(`${id} ended`, status);
    }
    console.log(
      `  ${kind}: ${trials} campaigns x ${fmt(recipients)} recipients, sent by kit A+B: ${split.join(", ")}`,
    );
    f.info("campaigns x recipients", `${trials} x ${fmt(recipients)}`);
    f.equal("recipients sent twice", twice, 0);
    f.equal("recipients never sent", missing, 0);
    f.equal("campaigns with other than one execution", executions, 0);
    f.equal("`sent` in the ledger", ledgerSent, trials * recipients);
    await Promise.all([a.close(), b.close()]);
  } finally {
    await second.dispose();
    await first.dispose();
  }
  return f.list;
}

export const twoKits: Scenario = {
  name: "two-kits",
  summary: "two kits on one storage tick one due campaign at once",
  async run(options): Promise<Figure[]> {
    const trials = trialsOf(options, 10, 3);
    const recipients = sized(options, 20_000, 2_000);
    const list: Figure[] = [];
    for (const kind of storageKinds(options)) list.push(...(await runOn(kind, options, trials, recipients)));
    return list;
  },
};
