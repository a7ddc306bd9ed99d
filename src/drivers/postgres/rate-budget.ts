import type { RateBudget } from "../../ports/rate-budget.js";
import { type Db, guard } from "./sql.js";

/**
 * The {@link RateBudget} of `postgresStorage`: one row per key in `rate_budgets` holding its theoretical
 * arrival time in ms, moved by one statement per take on PostgreSQL's clock (`clock_timestamp()`), so every
 * worker on every machine reads the same time.
 */
export function postgresRateBudget(db: Db): RateBudget {
  const budgets = db.table("rate_budgets");
  const NOW = "(extract(epoch FROM clock_timestamp()) * 1000)";
  return {
    take: ({ key, count, ratePerSecond, burst }) =>
      guard("take from a rate budget", async () => {
        const interval = 1000 / ratePerSecond;
        const result = await db.pool.query<{ ahead: number }>(
          `WITH c AS (SELECT ${NOW} AS now)
           INSERT INTO ${budgets} AS b (key, tat) SELECT $1, c.now + greatest($2::float8, 0) FROM c
           ON CONFLICT (key) DO UPDATE
             SET tat = greatest(greatest(b.tat, (SELECT now FROM c)) + $2::float8, (SELECT now FROM c))
           RETURNING tat - (SELECT now FROM c) AS ahead`,
          [key, count * interval],
        );
        return { waitMs: Math.max(0, Math.ceil(Number(result.rows[0]!.ahead) - burst * interval)) };
      }),
    pause: ({ key, ms, ratePerSecond, burst }) =>
      guard("pause a rate budget", async () => {
        const until = ms + (burst * 1000) / ratePerSecond;
        await db.pool.query(
          `WITH c AS (SELECT ${NOW} AS now)
           INSERT INTO ${budgets} AS b (key, tat) SELECT $1, c.now + $2::float8 FROM c
           ON CONFLICT (key) DO UPDATE SET tat = greatest(b.tat, (SELECT now FROM c) + $2::float8)`,
          [key, until],
        );
      }),
  };
}
