/**
 * The process the group-commit kill test kills: a kit on PostgreSQL taking password-reset triggers from 64
 * concurrent callers, their writes committed in groups, sending through the provider log. Prints
 * `ack <requestId>` once a trigger is answered: what a caller would have seen acknowledged.
 *
 * Arguments: schema, provider log path. `DATABASE_URL` names the database.
 */
import pg from "pg";
import { providerLogChannel } from "../../../bench/torture/provider-log.js";
import { memoryAudiences } from "../../../src/drivers/memory/audiences.js";
import { postgresStorage } from "../../../src/drivers/postgres/index.js";
import { createCampaignKit } from "../../../src/kit/create-campaign-kit.js";
import { ADMIN, people } from "../fixtures.js";

const [schema, logPath] = process.argv.slice(2) as [string, string];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 16 });
const kit = await createCampaignKit({
  storage: postgresStorage({ pool, schema }),
  channels: [await providerLogChannel(logPath)],
  audiences: memoryAudiences({ profiles: people(100) }),
  administrators: [ADMIN],
  claimMs: 1000,
});
await Promise.all(
  Array.from({ length: 64 }, async (_, caller) => {
    for (let i = 0; ; i++) {
      const requestId = `c${caller}-${i}`;
      await kit.executions.triggerUnitary({
        actor: ADMIN,
        request: {
          requestId,
          campaignId: "reset",
          recipients: [
            {
              type: "aep",
              namespace: "email",
              userId: `p${(caller + i) % 100}@example.com`,
              context: { link: requestId },
            },
          ],
        },
      });
      process.stdout.write(`ack ${requestId}\n`);
    }
  }),
);
