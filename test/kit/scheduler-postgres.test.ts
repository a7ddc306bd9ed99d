import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { migrate, postgresStorage } from "../../src/drivers/postgres/index.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { databaseUrl } from "../support/database.js";
import {
  ADMIN,
  COMPLETE_AT_ONCE,
  emailConfiguration,
  kitClock,
  liveReset,
  people,
  person,
  promotion,
} from "./fixtures.js";

const url = databaseUrl("the PostgreSQL scheduler tests");

(url === undefined ? describe.skip : describe)("two schedulers on one PostgreSQL database", () => {
  // Two pools: two processes, as far as the database can tell.
  const pools = [
    new pg.Pool({ connectionString: url, max: 10 }),
    new pg.Pool({ connectionString: url, max: 10 }),
  ];
  const schema = `ck_sched_${process.pid}_${Date.now().toString(36)}`;
  afterAll(async () => {
    await pools[0]?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it("send a due campaign once when they tick at the same time", async () => {
    const [a, b] = pools as [pg.Pool, pg.Pool];
    await migrate({ pool: a, schema });
    const profiles = people(200);
    const email = memoryChannel({ channel: "email" });
    const kit = (pool: pg.Pool) =>
      createCampaignKit({
        storage: postgresStorage({ pool, schema }),
        clock: kitClock(),
        channels: [email],
        audiences: memoryAudiences({ audiences: { vip: profiles } }),
        administrators: [ADMIN],
        lifecycle: COMPLETE_AT_ONCE,
      });
    const [first, second] = await Promise.all([kit(a), kit(b)]);
    await first.audiences.register({
      actor: ADMIN,
      audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
    });
    await first.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
    await first.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "once" } });
    await first.campaigns.activate({ actor: ADMIN, id: "once" });

    await Promise.all([
      first.scheduler.tick(),
      second.scheduler.tick(),
      first.scheduler.tick(),
      second.scheduler.tick(),
    ]);
    await Promise.all([first.idle(), second.idle()]);
    await Promise.all([first.scheduler.tick(), second.scheduler.tick()]);

    expect(email.sent).toHaveLength(200);
    expect(new Set(email.sent.map((m) => m.recipientId)).size).toBe(200);
    const report = await first.reports.campaign({ actor: ADMIN, id: "once" });
    expect(report).toMatchObject({ executions: 1, outcomes: { sent: 200, failed: 0, excluded: 0 } });
    expect((await second.campaigns.get({ actor: ADMIN, id: "once" })).status).toBe("completed");
  });

  it("sends a unitary trigger's named recipients from what PostgreSQL kept", async () => {
    const [pool] = pools as [pg.Pool, pg.Pool];
    const schema2 = `${schema}_unitary`;
    await migrate({ pool, schema: schema2 });
    try {
      const email = memoryChannel({ channel: "email" });
      const ana = { ...person(1), identities: { email: "ana@example.com" } };
      const kit = await createCampaignKit({
        storage: postgresStorage({ pool, schema: schema2 }),
        channels: [email],
        audiences: memoryAudiences({ profiles: [ana] }),
        administrators: [ADMIN],
      });
      await liveReset(kit);
      const accepted = await kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId: "r1",
          campaignId: "reset",
          recipients: [
            { type: "aep", namespace: "email", userId: "ana@example.com", context: { link: "https://x" } },
          ],
        },
      });
      await kit.idle();
      expect(email.sent.map((m) => m.content)).toEqual([
        { channel: "email", subject: "Reset", text: "https://x" },
      ]);
      expect(await kit.executions.status({ actor: ADMIN, id: accepted.executionId })).toMatchObject({
        status: "Succeeded",
        targetedProfileCount: 1,
      });
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema2}" CASCADE`);
    }
  });
});
