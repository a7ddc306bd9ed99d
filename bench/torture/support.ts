/**
 * What every torture scenario shares: the run's options, the figures it reports (each one either a fact or an
 * invariant with its verdict), fresh PostgreSQL schemas, and a kit with an audience and an email
 * configuration ready to send. Scenarios reach the library through its public entry points only.
 */
import pg from "pg";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { memoryStorage } from "../../src/drivers/memory/storage.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import {
  type CampaignKit,
  type CampaignKitOptions,
  createCampaignKit,
} from "../../src/kit/create-campaign-kit.js";
import { messageId } from "../../src/model/message-id.js";
import type { Profile } from "../../src/model/profile.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { ADMIN, emailConfiguration, promotion } from "../../test/kit/fixtures.js";
import { benchProfiles } from "../fixtures.js";

export { ADMIN };

/** How `npm run torture` was asked to run. */
export interface TortureOptions {
  /** The seed every random choice derives from; printed so any run can be replayed. */
  seed: number;
  /** The bounded CI slice: fewer recipients, trials and requests. */
  quick: boolean;
  /** Overrides each scenario's own trial count. */
  trials: number | undefined;
  /** Overrides the HTTP fuzzer's count of random requests. */
  requests: number | undefined;
  /** The PostgreSQL to torture; without it the PostgreSQL variants are skipped. */
  databaseUrl: string | undefined;
}

/** One reported number: an invariant when `expected` is set (`ok` is its verdict), else a fact. */
export interface Figure {
  scenario: string;
  storage: string;
  label: string;
  value: number | string;
  expected?: string;
  ok?: boolean;
}

/** A scenario of `npm run torture`. */
export interface Scenario {
  /** What `--scenario` selects it by. */
  name: string;
  /** One line for the table's header. */
  summary: string;
  run(options: TortureOptions): Promise<Figure[]>;
}

/** A figure as the table prints it: numbers with thousands separators. */
export const show = (value: number | string) => (typeof value === "number" ? fmt(value) : value);

/** Collects one scenario's figures on one storage. */
export function figures(scenario: string, storage: string) {
  const list: Figure[] = [];
  const add = (figure: Omit<Figure, "scenario" | "storage">) => {
    list.push({ scenario, storage, ...figure });
  };
  return {
    list,
    /** A fact worth printing, with no verdict. */
    info: (label: string, value: number | string) => add({ label, value }),
    /** An invariant: `value` must equal `expected`. */
    equal: (label: string, value: number | string, expected: number | string) =>
      add({ label, value, expected: `= ${show(expected)}`, ok: value === expected }),
    /** An invariant: `value` must not exceed `bound`. */
    atMost: (label: string, value: number, bound: number) =>
      add({ label, value, expected: `<= ${show(bound)}`, ok: value <= bound }),
  };
}

/** `full` normally, `quick` in the CI slice. */
export const sized = <T>(options: TortureOptions, full: T, quick: T): T => (options.quick ? quick : full);

/** The trial count: `--trials` when given, else the scenario's own for this mode. */
export const trialsOf = (options: TortureOptions, full: number, quick: number): number =>
  options.trials ?? sized(options, full, quick);

/** The storages a scenario runs on: memory always, PostgreSQL when there is a database. */
export function storageKinds(options: TortureOptions): ("memory" | "postgres")[] {
  return options.databaseUrl === undefined ? ["memory"] : ["memory", "postgres"];
}

/** A pool on the torture database; the caller ends it. */
export function openPool(options: TortureOptions, max = 10): pg.Pool {
  if (options.databaseUrl === undefined) throw new Error("This scenario needs DATABASE_URL.");
  return new pg.Pool({ connectionString: options.databaseUrl, max });
}

let schemas = 0;

/** A freshly migrated schema of its own, dropped (with the pool ended) by `dispose`. */
export async function freshSchema(options: TortureOptions, tag: string) {
  const pool = openPool(options);
  const schema = `ck_torture_${tag}_${process.pid}_${Date.now().toString(36)}_${schemas++}`;
  await migrate({ pool, schema });
  return {
    pool,
    schema,
    storage: postgresStorage({ pool, schema }),
    async dispose() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** Memory storage, or PostgreSQL storage on a fresh `schema`; `dispose` cleans up after either. */
export async function storageOf(
  kind: "memory" | "postgres",
  options: TortureOptions,
  tag: string,
): Promise<{ storage: Storage; dispose: () => Promise<void>; schema?: string }> {
  if (kind === "memory") return { storage: memoryStorage(), dispose: async () => {} };
  return freshSchema(options, tag);
}

/** The audience every scenario's campaigns send to. */
export const AUDIENCE = "all";
/** The email configuration every scenario's campaigns send with. */
export const CONFIGURATION = emailConfiguration.id;

/**
 * A kit with `root` as administrator (and a memory email channel unless `options` name channels). With `setUp`, it also registers the realized audience {@link AUDIENCE}
 * and the active marketing email configuration: pass `false` for a second kit on storage already set up.
 */
export async function readyKit(options: CampaignKitOptions, setUp = true): Promise<CampaignKit> {
  // The torture runs check a one-shot ends `completed` once sent: no 3-day wait (the reference's default).
  const kit = await createCampaignKit({
    administrators: [ADMIN],
    channels: [memoryChannel()],
    lifecycle: { completeAfterDays: 0 },
    ...options,
  });
  if (!setUp) return kit;
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: AUDIENCE, name: "Everyone", status: "realized", identityNamespace: "email" },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  return kit;
}

/** Creates and activates a one-shot scheduled marketing email to {@link AUDIENCE}, due at once. */
export async function liveCampaign(kit: CampaignKit, id: string): Promise<void> {
  await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id, audienceId: AUDIENCE } });
  await kit.campaigns.activate({ actor: ADMIN, id });
}

/** Settles both promises at once: what each one did, without throwing. */
export async function race2(a: () => Promise<unknown>, b: () => Promise<unknown>) {
  const [first, second] = await Promise.allSettled([a(), b()]);
  return { first, second, bothOk: first.status === "fulfilled" && second.status === "fulfilled" };
}

/** A number with thousands separators. */
export const fmt = (n: number) => n.toLocaleString("en-US");

/**
 * The ledger's view of recipients `p0`..`p{count-1}` (the bench profiles) for one execution's email action:
 * how many messages have an outcome recorded (the ledger keys them by message id, so each recipient counts
 * once), and who is recorded `sent`. Read through the storage contract, in chunks.
 */
export async function ledgerView(storage: Storage, campaignId: string, executionId: string, count: number) {
  const sent = new Set<string>();
  for (let from = 0; from < count; from += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, count - from) }, (_, i) => `p${from + i}`);
    const byMessage = new Map(
      ids.map((recipientId) => [
        messageId({ campaignId, executionId, recipientId, channel: "email" }),
        recipientId,
      ]),
    );
    for (const id of await storage.findSent({ messageIds: [...byMessage.keys()] }))
      sent.add(byMessage.get(id)!);
  }
  const { outcomes } = await storage.summarize({ campaignId, executionId });
  return { recordedCount: outcomes.sent + outcomes.failed + outcomes.excluded, sent };
}

/** The one execution of a campaign (the scenarios run one-shot campaigns), and how many there are. */
export async function onlyExecution(storage: Storage, campaignId: string) {
  const { items } = await createRepositories(storage).executions.list({ campaignId }, { limit: 500 });
  return { executionId: items[0]?.id ?? "", executions: items.length };
}

/**
 * `count` audience members `p0`, `p1`... generated on demand, all with email consent but the first
 * `withoutConsent`, which a marketing send must exclude and count.
 */
export function* members(count: number, withoutConsent = 0): Generator<Profile> {
  let index = 0;
  for (const profile of benchProfiles(count)) {
    yield index++ < withoutConsent ? { ...profile, consent: {} } : profile;
  }
}

/** Each field summed over the trials' results. */
export function totals<T extends Record<string, number>>(results: readonly T[]): T {
  const sum: Record<string, number> = {};
  for (const result of results) {
    for (const [key, value] of Object.entries(result)) sum[key] = (sum[key] ?? 0) + value;
  }
  return sum as T;
}
