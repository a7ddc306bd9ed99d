import { CampaignKitError } from "../../errors.js";
import type { Storage } from "../../ports/storage.js";
import { CAMPAIGN_COLUMNS, campaignFromRow, campaignValues } from "./rows.js";
import { type Db, guard, pageLimit, toPage, Where } from "./sql.js";

type CampaignMethods = Pick<
  Storage,
  "createCampaign" | "getCampaign" | "updateCampaign" | "deleteCampaign" | "listCampaigns"
>;

const placeholders = CAMPAIGN_COLUMNS.map((_, index) => `$${index + 1}`).join(", ");
// Every column but the id, set from the same numbered parameters as the INSERT.
const assignments = CAMPAIGN_COLUMNS.map((column, index) => `${column} = $${index + 1}`)
  .slice(1)
  .join(", ");

/** The campaign methods of {@link postgresStorage}. */
export function campaignMethods(db: Db): CampaignMethods {
  const campaigns = db.table("campaigns");

  /** After a guarded write touched no row: `NOT_FOUND` when the campaign is gone, else `CONFLICT`. */
  async function refuse(id: string, expectedVersion: number, verb: string): Promise<never> {
    const found = await db.pool.query<{ version: number }>(`SELECT version FROM ${campaigns} WHERE id = $1`, [
      id,
    ]);
    const current = found.rows[0];
    if (current === undefined) {
      throw new CampaignKitError("NOT_FOUND", `Can't ${verb} campaign '${id}': it does not exist.`, {
        details: { id },
      });
    }
    throw new CampaignKitError(
      "CONFLICT",
      `Can't ${verb} campaign '${id}' at version ${expectedVersion}: it is at version ${current.version}. Read it again and retry.`,
      { details: { id, expectedVersion, actualVersion: current.version } },
    );
  }

  return {
    createCampaign: ({ campaign }) =>
      guard(`create campaign '${campaign.id}'`, async () => {
        await db.pool.query(
          `INSERT INTO ${campaigns} (${CAMPAIGN_COLUMNS.join(", ")}) VALUES (${placeholders})`,
          campaignValues(campaign),
        );
      }),

    getCampaign: ({ id }) =>
      guard(`read campaign '${id}'`, async () => {
        const result = await db.pool.query(`SELECT * FROM ${campaigns} WHERE id = $1`, [id]);
        return result.rows[0] === undefined ? undefined : campaignFromRow(result.rows[0]);
      }),

    updateCampaign: ({ campaign, expectedVersion }) =>
      guard(`update campaign '${campaign.id}'`, async () => {
        const values = campaignValues(campaign);
        // The version in the WHERE is the compare of the compare-and-set: one statement, so atomic.
        const result = await db.pool.query(
          `UPDATE ${campaigns} SET ${assignments} WHERE id = $1 AND version = $${values.length + 1}`,
          [...values, expectedVersion],
        );
        if (result.rowCount === 0) await refuse(campaign.id, expectedVersion, "update");
      }),

    deleteCampaign: ({ id, expectedVersion }) =>
      guard(`delete campaign '${id}'`, async () => {
        const result = await db.pool.query(`DELETE FROM ${campaigns} WHERE id = $1 AND version = $2`, [
          id,
          expectedVersion,
        ]);
        if (result.rowCount === 0) await refuse(id, expectedVersion, "delete");
      }),

    listCampaigns: ({ filter = {}, ...paging }) =>
      guard("list campaigns", async () => {
        const limit = pageLimit(paging);
        const where = new Where();
        if (paging.cursor !== undefined) where.add("id > $", paging.cursor);
        if (filter.status !== undefined) where.add("status = ANY($::text[])", filter.status);
        if (filter.type !== undefined) where.add("type = $", filter.type);
        if (filter.category !== undefined) where.add("category = $", filter.category);
        if (filter.channel !== undefined) where.add("channels @> ARRAY[$::text]", filter.channel);
        if (filter.tags !== undefined && filter.tags.length > 0) where.add("tags @> $::text[]", filter.tags);
        // strpos, not ILIKE: the text is a plain substring, so `%` and `_` in it must not be wildcards.
        if (filter.text !== undefined) where.add("strpos(lower(name), lower($)) > 0", filter.text);
        if (filter.replacesCampaignId !== undefined)
          where.add("replaces_campaign_id = $", filter.replacesCampaignId);
        const result = await db.pool.query(
          `SELECT * FROM ${campaigns} ${where} ORDER BY id LIMIT ${where.param(limit + 1)}`,
          where.values,
        );
        return toPage(result.rows.map(campaignFromRow), limit, (campaign) => campaign.id);
      }),
  };
}
