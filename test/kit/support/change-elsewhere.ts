/**
 * Another process changing what a running kit has cached: run with `node --import tsx`, arguments
 * `<schema> <action>`; prints `{ "committedAt": <ms> }` once the change is committed. `DATABASE_URL` names the
 * database.
 */
import pg from "pg";
import { postgresStorage } from "../../../src/drivers/postgres/index.js";
import { createCampaignKit } from "../../../src/kit/create-campaign-kit.js";

const [schema, action] = process.argv.slice(2) as [string, string];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
const kit = await createCampaignKit({ storage: postgresStorage({ pool, schema }), readCache: false });
const actor = "root";
switch (action) {
  case "revoke":
    await kit.roles.revoke({ actor, userId: "ops", roleId: "campaign-approver" });
    break;
  case "assign":
    await kit.roles.assign({ actor, userId: "ops", roleId: "campaign-approver" });
    break;
  case "deactivate":
    await kit.configurations.deactivate({ actor, id: "tx" });
    break;
  case "stop":
    await kit.campaigns.stop({ actor, id: "reset" });
    break;
  default:
    throw new Error(`unknown action ${action}`);
}
console.log(JSON.stringify({ committedAt: Date.now() }));
await kit.close();
await pool.end();
