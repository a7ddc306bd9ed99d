import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pLimit from "p-limit";
import { createDispatcher } from "../src/dispatch/dispatcher.js";
import { memoryAudiences } from "../src/drivers/memory/audiences.js";
import { memoryChannel } from "../src/drivers/memory/channel.js";
import { memoryLedger } from "../src/drivers/memory/ledger.js";
import { messageIdPrefix } from "../src/model/message-id.js";
import type { Profile } from "../src/model/profile.js";
import type { OutboundMessage } from "../src/ports/channel.js";
import { benchCampaign, benchConfiguration, benchProfiles, median } from "./fixtures.js";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
/** `BENCH_RSS=0` skips the child-process RSS measurement (quicker iterations while tuning). */
const RSS = process.env.BENCH_RSS !== "0";
const CONCURRENCY = 32;
const BATCH = 100;
const PAGE = 1000;

function audience() {
  return memoryAudiences({ audiences: { all: () => benchProfiles(MESSAGES) } }).members({
    audienceId: "all",
    pageSize: PAGE,
  });
}

async function dispatcherRun(): Promise<number> {
  const channel = memoryChannel({ record: false });
  const dispatcher = createDispatcher({
    channels: [channel],
    ledger: memoryLedger(),
    concurrency: CONCURRENCY,
    batchSize: BATCH,
  });
  const started = performance.now();
  const report = await dispatcher.dispatch({
    campaign: benchCampaign,
    executionId: `run-${started}`,
    configurations: { news: benchConfiguration },
    recipients: audience(),
    context: { code: "X1" },
  });
  const seconds = (performance.now() - started) / 1000;
  if (report.outcomes.sent !== MESSAGES || channel.stats.delivered !== MESSAGES)
    throw new Error("lost messages");
  return MESSAGES / seconds;
}

// What a hand-rolled loop builds for every recipient: a deterministic id, the address, fixed content and the
// configuration. Built fresh per message, as a real loop does; no rendering, ledger, exclusions or events.
const barePrefix = messageIdPrefix("bench", "bare", "email");
function bareMessage(profile: Profile): OutboundMessage {
  return {
    id: barePrefix + profile.id,
    campaignId: "bench",
    executionId: "bare",
    recipientId: profile.id,
    channel: "email",
    category: "marketing",
    to: profile.identities.email!,
    content: { channel: "email", subject: "Hi", text: "Hello" },
    configuration: benchConfiguration,
  };
}

/**
 * The primary baseline, what people hand-roll: for each page of the same audience, one p-limit task per
 * recipient that builds its message and calls `adapter.send` on the same adapter, same concurrency.
 */
async function bareSendRun(): Promise<number> {
  const channel = memoryChannel({ record: false });
  const limit = pLimit(CONCURRENCY);
  const signal = new AbortController().signal;
  const started = performance.now();
  for await (const page of audience()) {
    await Promise.all(
      page.map((profile) =>
        limit(() => {
          const message = bareMessage(profile);
          return channel.send(message, { idempotencyKey: message.id, attempt: 1, signal });
        }),
      ),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  if (channel.stats.delivered !== MESSAGES) throw new Error("lost messages");
  return MESSAGES / seconds;
}

/** The secondary baseline: the same loop, but one p-limit task per 100 freshly built messages, one `sendBatch`. */
async function bareBatchRun(): Promise<number> {
  const channel = memoryChannel({ record: false });
  const limit = pLimit(CONCURRENCY);
  const signal = new AbortController().signal;
  const started = performance.now();
  for await (const page of audience()) {
    const tasks: Promise<unknown>[] = [];
    for (let start = 0; start < page.length; start += BATCH) {
      tasks.push(
        limit(() => {
          const end = Math.min(start + BATCH, page.length);
          const batch = new Array<OutboundMessage>(end - start);
          for (let i = start; i < end; i++) batch[i - start] = bareMessage(page[i]!);
          return channel.sendBatch!(batch, { attempt: 1, signal });
        }),
      );
    }
    await Promise.all(tasks);
  }
  const seconds = (performance.now() - started) / 1000;
  if (channel.stats.delivered !== MESSAGES) throw new Error("lost messages");
  return MESSAGES / seconds;
}

function peakRss(count: number): number {
  const child = fileURLToPath(new URL("./dispatcher-rss-child.ts", import.meta.url));
  const out = execFileSync(process.execPath, [...process.execArgv, child, String(count)], {
    encoding: "utf8",
  });
  return Number(out.trim());
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/**
 * Dispatcher throughput against two bare p-limit loops run in the same process on the same audience and
 * adapter (the order rotates each repeat, so no contender always runs on the others' garbage), then peak RSS
 * growth from 100k to 1M recipients.
 */
export async function run(): Promise<void> {
  console.log(
    `dispatcher: ${fmt(MESSAGES)} messages, concurrency ${CONCURRENCY}, batch ${BATCH}, ${REPEATS} repeats`,
  );
  const contenders = [
    { name: "dispatcher", run: dispatcherRun, results: [] as number[] },
    { name: "bare send loop", run: bareSendRun, results: [] as number[] },
    { name: "bare sendBatch loop", run: bareBatchRun, results: [] as number[] },
  ];
  for (let i = 0; i < REPEATS; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(i + k) % contenders.length]!;
      contender.results.push(await contender.run());
    }
    console.log(`  run ${i + 1}: ${contenders.map((c) => `${c.name} ${fmt(c.results[i]!)}/s`).join(", ")}`);
  }
  const [o, s, b] = contenders.map((c) => median(c.results)) as [number, number, number];
  console.log(`  median dispatcher (render + ledger read/write + exclusions): ${fmt(o)} messages/s`);
  console.log(
    `  median primary baseline, p-limit loop, build + send per message:     ${fmt(s)} messages/s  ratio ${(o / s).toFixed(2)}  <- headline`,
  );
  console.log(
    `  median secondary baseline, p-limit loop, build 100 + one sendBatch:  ${fmt(b)} messages/s  ratio ${(o / b).toFixed(2)}`,
  );
  if (!RSS) return;

  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    small.push(peakRss(100_000));
    large.push(peakRss(1_000_000));
  }
  const [rs, rl] = [median(small), median(large)];
  console.log(
    `  peak RSS (child process each, null ledger, record: false): 100k ${mb(rs)} MB, 1M ${mb(rl)} MB, growth ${mb(rl - rs)} MB`,
  );
}
