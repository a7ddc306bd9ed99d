/**
 * Child process of the `pg` bench's RSS measurement: sends the scheduled campaign to `argv[2]` recipients
 * through the kit on PostgreSQL (as `kitRun` does), then prints its peak RSS in bytes (`VmHWM`; see
 * dispatcher-rss-child.ts for why not `maxRSS`).
 */
import { readFileSync } from "node:fs";
import { benchPool, kitRun } from "./pg.js";

const count = Number(process.argv[2] ?? 100_000);
const pool = benchPool();
await kitRun(pool, count, 0);
await pool.end();
const line = readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m);
process.stdout.write(`${line ? Number(line[1]) * 1024 : process.resourceUsage().maxRSS * 1024}\n`);
