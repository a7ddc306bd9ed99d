import { createHash } from "node:crypto";
import type { Client, Notification } from "pg";
import { CampaignKitError } from "../../errors.js";
import type { Collection, DocumentChange, Store, StoreWatch } from "../../ports/storage.js";
import { type Db, guard, quoteIdent } from "./sql.js";

/**
 * The collections whose changes PostgreSQL reports (a trigger on `documents` notifies them): those the kit
 * reads on every call and seldom writes. Executions, slices and the audit log change on every call; a
 * notification for each would cost more than it saves.
 */
export const REPORTED_COLLECTIONS: readonly Collection[] = [
  "campaigns",
  "audiences",
  "channel-configurations",
  "roles",
  "role-assignments",
  "approval-policies",
  "approval-requests",
  "suppressions",
];

/**
 * The `NOTIFY` channel of `schema`: one per schema, so two kits in one database never hear each other. A
 * digest keeps it within PostgreSQL's 63-byte identifiers whatever the schema's name.
 */
export function changesChannel(schema: string): string {
  return `campaign_kit_${createHash("sha256").update(schema).digest("hex").slice(0, 24)}`;
}

/** How long to wait before listening again after the listening connection was lost, in ms. */
const RECONNECT_MS = 1000;

/**
 * A client of its own, made the way the host's pool makes its clients (same class, same options), outside the
 * pool: holding one of the pool's would shrink it and keep `pool.end()` waiting until the kit is closed.
 */
async function connectOutsidePool(db: Db): Promise<Client> {
  const pool = db.pool as unknown as { Client: new (options: unknown) => Client; options: unknown };
  const client = new pool.Client(pool.options);
  await client.connect();
  return client;
}

/**
 * `Store.watch` on PostgreSQL: `LISTEN` on the schema's channel through a connection of its own. A
 * notification is delivered after the commit that made it. When that connection fails, the watch reports a
 * gap and is not live until it listens again (retried every second), so the kit reads through meanwhile.
 */
export async function watchChanges(
  db: Db,
  params: Parameters<NonNullable<Store["watch"]>>[0],
): Promise<StoreWatch> {
  const unreported = params.collections.filter((c) => !REPORTED_COLLECTIONS.includes(c));
  if (unreported.length > 0) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      `postgresStorage reports changes to ${REPORTED_COLLECTIONS.join(", ")} only; it can't watch ${unreported.join(", ")}.`,
    );
  }
  const wanted = new Set(params.collections);
  const channel = changesChannel(db.schemaName);
  let client: Client | undefined;
  let live = false;
  const closing = new AbortController();

  const onNotification = (message: Notification) => {
    if (message.channel !== channel || message.payload === undefined) return;
    const space = message.payload.indexOf(" ");
    const change: DocumentChange = {
      collection: message.payload.slice(0, space) as Collection,
      id: message.payload.slice(space + 1),
    };
    if (wanted.has(change.collection)) params.onChange(change);
  };

  const reconnect = () => {
    if (closing.signal.aborted) return;
    params.sleep(RECONNECT_MS, closing.signal).then(
      () => listen().catch(reconnect),
      () => {}, // closed while waiting
    );
  };

  /** Drops the listening client after its connection failed or ended; `retry` says whether to listen again. */
  const drop = (retry: boolean) => {
    const failed = client;
    client = undefined;
    if (failed === undefined) return;
    live = false;
    params.onGap();
    failed.removeListener("notification", onNotification);
    void failed.end().catch(() => {});
    if (retry) reconnect();
  };
  const lost = () => drop(true);

  async function listen(): Promise<void> {
    const connected = await connectOutsidePool(db);
    connected.on("error", lost);
    connected.on("end", lost);
    connected.on("notification", onNotification);
    client = connected;
    try {
      await connected.query(`LISTEN ${quoteIdent(channel)}`);
      // Listening, it only waits for notifications: that alone must not keep the host's process alive.
      (
        connected as unknown as { connection?: { stream?: { unref?: () => void } } }
      ).connection?.stream?.unref?.();
    } catch (error) {
      // The caller retries (or, at the start, fails): don't schedule a second attempt here.
      drop(false);
      throw error;
    }
    // Changes made while not listening were missed: report the gap again now that nothing more will be.
    params.onGap();
    live = !closing.signal.aborted;
  }

  await guard("listen for changes", listen);
  return {
    get live() {
      return live;
    },
    async close() {
      closing.abort();
      live = false;
      const held = client;
      client = undefined;
      if (held === undefined) return;
      held.removeListener("notification", onNotification);
      held.removeListener("error", lost);
      held.removeListener("end", lost);
      await held.end().catch(() => {});
    },
  };
}
