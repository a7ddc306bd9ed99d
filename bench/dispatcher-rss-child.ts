/**
 * Child process of the RSS measurement: dispatches `argv[2]` recipients through a memory channel that keeps
 * nothing and a ledger that keeps nothing, then prints the peak RSS in bytes. A fresh process per size is the
 * only honest way to read a peak: the OS reports the high-water mark of the whole process.
 */
import { readFileSync } from "node:fs";
import { createDispatcher } from "../src/dispatch/dispatcher.js";
import { memoryAudiences } from "../src/drivers/memory/audiences.js";
import { memoryChannel } from "../src/drivers/memory/channel.js";
import { benchCampaign, benchConfiguration, benchProfiles, nullLedger } from "./fixtures.js";

const count = Number(process.argv[2] ?? 100_000);
const audiences = memoryAudiences({ audiences: { all: () => benchProfiles(count) } });
const dispatcher = createDispatcher({ channels: [memoryChannel({ record: false })], ledger: nullLedger() });
const report = await dispatcher.dispatch({
  campaign: benchCampaign,
  executionId: "rss",
  configurations: { news: benchConfiguration },
  recipients: audiences.members({ audienceId: "all", pageSize: 1000 }),
  context: { code: "X1" },
});
if (report.outcomes.sent !== count) throw new Error(`sent ${report.outcomes.sent} of ${count}`);
process.stdout.write(`${peakRss()}\n`);

/**
 * This process's own peak RSS in bytes: `VmHWM` from `/proc/self/status` on Linux. Not
 * `process.resourceUsage().maxRSS`: Linux carries `ru_maxrss` across `execve`, and a spawned child starts
 * as a fork of its parent, so that figure is at least the parent's RSS at spawn time (the bench's parent,
 * after its throughput runs, is the bigger process). Elsewhere that is the only figure there is.
 */
function peakRss(): number {
  try {
    const line = readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m);
    if (line) return Number(line[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
