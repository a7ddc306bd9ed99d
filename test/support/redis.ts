/**
 * The Redis URL tests run against: `REDIS_URL`. Without it, tests skip with a printed reason, except under CI
 * (`CI=true`), where a missing Redis is a failure, not a skip.
 */
export function redisUrl(what: string): string | undefined {
  const url = process.env.REDIS_URL;
  if (url === undefined && process.env.CI === "true") throw new Error(`CI needs REDIS_URL (${what})`);
  if (url === undefined) console.warn(`Skipping ${what}: set REDIS_URL to run it.`);
  return url;
}
