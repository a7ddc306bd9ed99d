/**
 * The PostgreSQL URL tests run against: `DATABASE_URL`. Without it, tests skip with a printed reason, except
 * under CI (`CI=true`), where a missing database is a failure, not a skip.
 */
export function databaseUrl(what: string): string | undefined {
  const url = process.env.DATABASE_URL;
  if (url === undefined && process.env.CI === "true") throw new Error(`CI needs DATABASE_URL (${what})`);
  if (url === undefined) console.warn(`Skipping ${what}: set DATABASE_URL to run it.`);
  return url;
}
