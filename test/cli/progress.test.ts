import { describe, expect, it } from "vitest";
import { progressDisplay } from "../../src/cli/progress.js";
import type { DispatchReport } from "../../src/dispatch/types.js";

function report(executionId: string, sent: number, failed = 0, excluded = 0): DispatchReport {
  return {
    executionId,
    outcomes: { sent, failed, excluded },
    skippedAlreadySent: 0,
  } as unknown as DispatchReport;
}

/** A display writing into a string, on a clock the test moves. */
function display(tty: boolean) {
  let text = "";
  let now = 0;
  const progress = progressDisplay({
    tty,
    columns: 120,
    write: (t) => (text += t),
    now: () => now,
    everyMs: 5000,
  });
  return { progress, text: () => text, advance: (ms: number) => (now += ms) };
}

describe("the CLI's progress display", () => {
  it("on a terminal, redraws one bar in place with the percentage when the total is known", () => {
    const { progress, text, advance } = display(true);
    progress.setTotal(200);
    progress.update(report("e1", 50));
    advance(1000);
    progress.update(report("e1", 100, 0, 10));
    progress.done();
    const frames = text().split("\r\x1b[K").filter(Boolean);
    expect(frames[0]).toMatch(/^sending █{8}░{22}\s+25%\s+50\/200/);
    expect(frames.at(-1)).toMatch(/ 55%\s+110\/200\s+100 sent\s+0 failed\s+10 excluded\s+110\/s\n$/);
  });

  it("sums several executions and, without a total, shows counts", () => {
    const { progress, text, advance } = display(true);
    progress.update(report("e1", 5));
    advance(100);
    progress.update(report("e2", 7, 1));
    progress.done();
    expect(text()).toMatch(
      /sending {2}13 messages {2}12 sent {2}1 failed {2}0 excluded {2}\d+\/s {2}\(2 executions\)\n$/,
    );
  });

  it("off a terminal, prints a plain line at most every `everyMs`, and the last one at the end", () => {
    const { progress, text, advance } = display(false);
    progress.setTotal(10);
    progress.update(report("e1", 1));
    advance(1000);
    progress.update(report("e1", 4)); // too soon: held back
    advance(1000);
    progress.update(report("e1", 10));
    progress.done();
    expect(text()).toBe(
      "progress: 1/10 messages 10% (1 sent, 0 failed, 0 excluded)\nprogress: 10/10 messages 100% (10 sent, 0 failed, 0 excluded)\n",
    );
    expect(text()).not.toContain("\r");
  });
});
