import { describe, expect, it } from "vitest";
import { groupCommit } from "../../../src/drivers/postgres/group-commit.js";

interface Item {
  key: string;
  value: number;
}

/** A flush that records each statement and waits until the test lets it finish. */
function recordingFlush() {
  const statements: { items: Item[]; finish: () => void; fail: (error: Error) => void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const flush = (items: readonly Item[]) =>
    new Promise<number[]>((resolve, reject) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const done = () => running--;
      statements.push({
        items: [...items],
        finish: () => {
          done();
          resolve(items.map((item) => item.value * 10));
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  return { statements, flush, maxRunning: () => maxRunning };
}

/** A few turns of the event loop: a finished statement's follower is started on the turn after it. */
const turn = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("group commit", () => {
  it("sends the writes of one turn of the event loop in one statement, and answers each after it", async () => {
    const { statements, flush } = recordingFlush();
    const write = groupCommit<Item, number>({ maxInFlight: 1, maxItems: 100, keysOf: (i) => [i.key], flush });
    let answered = 0;
    const results = Array.from({ length: 50 }, (_, i) =>
      write({ key: `k${i}`, value: i }).then((r) => {
        answered++;
        return r;
      }),
    );
    await turn();
    expect(statements).toHaveLength(1);
    expect(statements[0]?.items).toHaveLength(50);
    expect(answered).toBe(0);
    statements[0]?.finish();
    expect(await Promise.all(results)).toEqual(Array.from({ length: 50 }, (_, i) => i * 10));
  });

  it("queues writes while statements are in flight, and sends them together in the next", async () => {
    const { statements, flush, maxRunning } = recordingFlush();
    const write = groupCommit<Item, number>({ maxInFlight: 2, maxItems: 100, keysOf: (i) => [i.key], flush });
    const first = write({ key: "a", value: 1 });
    await turn();
    const second = write({ key: "b", value: 2 });
    await turn();
    expect(statements.map((s) => s.items.length)).toEqual([1, 1]);
    const queued = Array.from({ length: 30 }, (_, i) => write({ key: `q${i}`, value: i }));
    await turn();
    expect(statements).toHaveLength(2); // both slots busy: the 30 wait
    statements[0]?.finish();
    await first;
    await turn();
    expect(statements).toHaveLength(3);
    expect(statements[2]?.items).toHaveLength(30);
    statements[1]?.finish();
    statements[2]?.finish();
    await Promise.all([second, ...queued]);
    expect(maxRunning()).toBe(2);
  });

  it("never puts two writes of one row in one statement or in flight at once, and keeps their order", async () => {
    const { statements, flush, maxRunning } = recordingFlush();
    const write = groupCommit<Item, number>({ maxInFlight: 4, maxItems: 100, keysOf: (i) => [i.key], flush });
    const writes = [1, 2, 3].map((value) => write({ key: "same", value }));
    const other = write({ key: "other", value: 9 });
    await turn();
    expect(statements.map((s) => s.items.map((i) => i.value))).toEqual([[1, 9]]);
    for (const expected of [2, 3]) {
      statements.at(-1)?.finish();
      await turn();
      expect(statements.at(-1)?.items.map((i) => i.value)).toEqual([expected]);
    }
    statements.at(-1)?.finish();
    await Promise.all([...writes, other]);
    expect(maxRunning()).toBe(1);
  });

  it("caps a statement at maxItems", async () => {
    const { statements, flush } = recordingFlush();
    const write = groupCommit<Item, number>({ maxInFlight: 3, maxItems: 10, keysOf: (i) => [i.key], flush });
    const all = Array.from({ length: 25 }, (_, i) => write({ key: `k${i}`, value: i }));
    await turn();
    expect(statements.map((s) => s.items.length)).toEqual([10, 10, 5]);
    for (const s of statements) s.finish();
    await Promise.all(all);
  });

  it("tries each write of a failed statement alone, so one bad write fails only its caller", async () => {
    const statements: number[][] = [];
    const write = groupCommit<Item, number>({
      maxInFlight: 1,
      maxItems: 100,
      keysOf: (i) => [i.key],
      flush: async (items) => {
        statements.push(items.map((i) => i.value));
        if (items.some((i) => i.value < 0)) throw new Error("refused");
        return items.map((i) => i.value);
      },
    });
    const results = await Promise.allSettled([1, -1, 2].map((value) => write({ key: `k${value}`, value })));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(statements).toEqual([[1, -1, 2], [1], [-1], [2]]);
  });
});
