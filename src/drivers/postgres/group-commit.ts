/** Options of {@link groupCommit}. */
export interface GroupCommitOptions<I, R> {
  /** How many statements may run at once; further writes queue and go together in the next one. */
  maxInFlight: number;
  /** The most items one statement carries. */
  maxItems: number;
  /** The rows an item writes, as keys: two items that share one never go in one statement, or run at once. */
  keysOf: (item: I) => readonly string[];
  /** Writes the items in ONE statement (one transaction) and returns each item's result, in order. */
  flush: (items: readonly I[]) => Promise<R[]>;
}

interface Waiting<I, R> {
  item: I;
  keys: readonly string[];
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes that arrive while others are being committed wait and go together in the next
 * statement, so a burst of concurrent calls costs a few commits (each a WAL flush) instead of one each, and
 * each caller's promise settles only after the commit that holds its write. With nothing in flight, a write
 * goes at once (after the current turn of the event loop, so the writes of one call travel together).
 *
 * Items that touch the same row never share a statement or run concurrently, so statements can't deadlock on
 * each other and writes to one row apply in the order they were made. A failed statement changed nothing:
 * each of its items is then tried alone, so one bad item fails only its own caller.
 */
export function groupCommit<I, R>(options: GroupCommitOptions<I, R>): (item: I) => Promise<R> {
  const queue: Waiting<I, R>[] = [];
  const busyKeys = new Set<string>();
  let inFlight = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= options.maxInFlight) return;
    scheduled = true;
    setImmediate(start);
  }

  /**
   * Takes the queued items that fit one statement (no row twice, none a running statement touches) and
   * marks their keys busy at once, so a later item of the same statement sharing one waits.
   */
  function take(): Waiting<I, R>[] {
    const batch: Waiting<I, R>[] = [];
    // Keys of items left waiting (rare): made only when one is.
    let held: Set<string> | undefined;
    for (let i = 0; i < queue.length && batch.length < options.maxItems; ) {
      const waiting = queue[i]!;
      if (waiting.keys.some((key) => busyKeys.has(key) || held?.has(key))) {
        // It waits for its turn, but it holds its keys, so nothing after it on those rows overtakes it.
        held ??= new Set();
        for (const key of waiting.keys) held.add(key);
        i++;
        continue;
      }
      for (const key of waiting.keys) busyKeys.add(key);
      batch.push(waiting);
      queue.splice(i, 1);
    }
    return batch;
  }

  function start(): void {
    scheduled = false;
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = take();
      if (batch.length === 0) return;
      inFlight++;
      void commit(batch).finally(() => {
        inFlight--;
        for (const waiting of batch) for (const key of waiting.keys) busyKeys.delete(key);
        schedule();
      });
    }
  }

  async function commit(batch: Waiting<I, R>[]): Promise<void> {
    try {
      const results = await options.flush(batch.map((waiting) => waiting.item));
      for (const [i, waiting] of batch.entries()) waiting.resolve(results[i]!);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      await Promise.all(
        batch.map(async (waiting) => {
          try {
            waiting.resolve((await options.flush([waiting.item]))[0]!);
          } catch (alone) {
            waiting.reject(alone);
          }
        }),
      );
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, keys: options.keysOf(item), resolve, reject });
      schedule();
    });
}
