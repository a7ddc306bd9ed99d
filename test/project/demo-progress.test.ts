import { describe, expect, it } from "vitest";
import { progressWriter } from "../../examples/support/progress-writer.js";
import type { ExecutionProgressEvent } from "../../src/index.js";

/** A progress event as the kit emits it, `ms` into the kit clock's epoch, of execution `executionId`. */
const report = (ms: number, sent: number, executionId = "e1") =>
  ({ executionId, at: new Date(ms), outcomes: { sent, failed: 0, excluded: 0 } }) as ExecutionProgressEvent;

function writer(tty: boolean) {
  let output = "";
  const progress = progressWriter({
    tty,
    everyMs: 3000,
    write: (text) => {
      output += text;
    },
    format: (r) => `sent ${r.outcomes.sent}`,
  });
  return { progress, output: () => output };
}

describe("the demo's progress line", () => {
  it("redraws one line in place on a terminal", () => {
    const { progress, output } = writer(true);
    for (const [ms, sent] of [
      [0, 1],
      [100, 2],
      [200, 3],
    ] as const)
      progress.update(report(ms, sent));
    progress.done();
    expect(output()).toBe("\r\x1b[Ksent 1\r\x1b[Ksent 2\r\x1b[Ksent 3\n");
  });

  it("off a terminal, prints a plain line every few seconds of kit time, and the last one", () => {
    const { progress, output } = writer(false);
    // A report every 100 ms for 7.05 s, as `progressIntervalMs: 100` emits them.
    for (let ms = 0; ms <= 7050; ms += 100) progress.update(report(ms, ms));
    progress.update(report(7050, 7050));
    progress.done();
    expect(output()).toBe("sent 0\nsent 3000\nsent 6000\nsent 7050\n");
    expect(output()).not.toContain("\x1b");
  });

  it("off a terminal, starts each execution afresh and keeps the last line of the one before", () => {
    const { progress, output } = writer(false);
    progress.update(report(0, 1, "e1"));
    progress.update(report(500, 2, "e1"));
    progress.update(report(0, 10, "e2"));
    progress.update(report(100, 11, "e2"));
    progress.done();
    expect(output()).toBe("sent 1\nsent 2\nsent 10\nsent 11\n");
  });

  it("prints nothing more when the last line was already printed", () => {
    const { progress, output } = writer(false);
    progress.update(report(0, 5));
    progress.done();
    expect(output()).toBe("sent 5\n");
  });
});
