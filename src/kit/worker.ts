import { hostname } from "node:os";
import { CampaignKitError } from "../errors.js";
import { type ChunkWorkerParts, processChunk } from "../executions/chunk-worker.js";
import type { WorkQueue, WorkServer } from "../ports/work-queue.js";
import type { CampaignKit } from "./create-campaign-kit.js";

/** Where {@link runWorker} finds a kit's parts: not part of the public API. */
export const WORKER_PARTS: unique symbol = Symbol.for("campaign-kit.worker-parts");

/** What a kit hands {@link runWorker}. Internal. */
export interface KitWorkerParts extends Omit<ChunkWorkerParts, "owner" | "maxChunkMs" | "maxWaitMs"> {
  queue: WorkQueue | undefined;
}

/** Options for {@link runWorker}. */
export interface RunWorkerOptions {
  /** The kit whose storage, channels and audience source the worker sends with. */
  kit: CampaignKit;
  /** The queue to take chunks from; default the kit's `workQueue`. */
  queue?: WorkQueue;
  /** Chunks handled at once by this worker (a positive whole number, default 4). */
  concurrency?: number;
  /** Closing it closes the worker, as {@link Worker.close}. */
  signal?: AbortSignal;
  /**
   * Process signals that close the worker gracefully (chunks in hand finish what they read or are handed
   * back, then the worker resolves {@link Worker.closed}); default `["SIGTERM", "SIGINT"]`. Pass `[]` to
   * handle signals yourself.
   */
  shutdownSignals?: readonly NodeJS.Signals[];
  /**
   * The longest one chunk is held, in ms (default 10000): past it the worker sends what it read and hands the
   * rest of the range back. Keep it below the queue's lock or expiry.
   */
  maxChunkMs?: number;
  /**
   * A wait for the campaign's rate budget longer than this, in ms (default 5000), hands the rest of the chunk
   * back to the queue, to come back when the budget allows: a paused or slow campaign never holds a slot.
   */
  maxWaitMs?: number;
}

/** What {@link Worker.health} says. */
export interface WorkerHealth {
  /** `running`, `closing` (finishing or handing back its chunks) or `closed`. */
  status: "running" | "closing" | "closed";
  /** Chunks in hand now. */
  active: number;
  /** The most chunks it holds at once. */
  concurrency: number;
  /** Chunks completed. */
  done: number;
  /** Chunks handed back (part sent: a deadline, a long rate wait, a shutdown). */
  handedBack: number;
  /** Chunks whose handling threw (the queue serves them again after a delay). */
  failed: number;
  /** Chunks received after their previous worker vanished. */
  redelivered: number;
  /** Messages found in doubt (see `inDoubt` in the kit's options). */
  inDoubt: number;
  /** The last error a chunk threw, if any. */
  lastError?: string;
  /** When it last finished a chunk. */
  lastChunkAt?: Date;
}

/** A running worker, from {@link runWorker}. */
export interface Worker {
  /** Its name in ledger claims: host, process id and a random part. */
  readonly id: string;
  /** Counters for a health endpoint or a liveness probe. */
  health(): WorkerHealth;
  /** Stops taking chunks and waits for those in hand to finish or be handed back. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the worker closed, however it was closed (a signal, `close()`, `signal`). */
  readonly closed: Promise<void>;
}

/**
 * Sends chunks of executions that any process's kit handed to the work queue (see `workQueue` in the kit's
 * options), in this process, `concurrency` at a time, transactional ones first. Run it in as many processes
 * on as many machines as the send needs: every guarantee rests on storage (ledger claims, the shared rate
 * budget, the campaign's status), not on the worker. On SIGTERM it stops taking chunks, finishes what it read
 * or hands it back, and resolves `closed`.
 *
 * @example
 * ```ts
 * const kit = await createCampaignKit({ storage, channels, audiences, workQueue: pgBossWorkQueue({ boss }) });
 * const worker = await runWorker({ kit, concurrency: 4 });
 * app.get("/health", () => worker.health());
 * await worker.closed; // after SIGTERM
 * ```
 */
export async function runWorker(options: RunWorkerOptions): Promise<Worker> {
  const parts = (options.kit as unknown as Record<symbol, KitWorkerParts | undefined>)[WORKER_PARTS];
  if (!parts) {
    throw new CampaignKitError("VALIDATION_FAILED", "runWorker needs a kit made by createCampaignKit.");
  }
  const queue = options.queue ?? parts.queue;
  if (!queue) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "runWorker needs a work queue: pass `queue`, or `workQueue` to createCampaignKit.",
    );
  }
  if (!parts.ctx.storage.claim || !parts.ctx.storage.release) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "Workers claim messages in the ledger before sending them, and this storage has no `claim` and `release`: use memoryStorage(), postgresStorage() or a storage that implements them.",
    );
  }
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const id = `${hostname()}:${process.pid}:${parts.ctx.newId().slice(0, 8)}`;
  const chunkParts: ChunkWorkerParts = {
    ...parts,
    owner: id,
    // Half the queue's lease at most: a chunk is handed back long before its lock could lapse.
    maxChunkMs: Math.min(options.maxChunkMs ?? 10_000, queue.leaseMs / 2),
    maxWaitMs: options.maxWaitMs ?? 5_000,
  };
  const health: WorkerHealth = {
    status: "running",
    active: 0,
    concurrency,
    done: 0,
    handedBack: 0,
    failed: 0,
    redelivered: 0,
    inDoubt: 0,
  };
  let server: WorkServer | undefined;
  server = await queue.serve({
    concurrency,
    handler: async (delivery) => {
      if (delivery.redelivered) health.redelivered++;
      try {
        const { outcome, report } = await processChunk(chunkParts, delivery);
        if (report) health.inDoubt += report.inDoubt;
        if (outcome.status === "done") health.done++;
        else health.handedBack++;
        health.lastChunkAt = new Date();
        return outcome;
      } catch (error) {
        health.failed++;
        health.lastError = error instanceof Error ? error.message : String(error);
        throw error;
      }
    },
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  const signals = options.shutdownSignals ?? ["SIGTERM", "SIGINT"];
  const onSignal = () => void close();
  const close = () => {
    closing ??= (async () => {
      health.status = "closing";
      for (const name of signals) process.off(name, onSignal);
      options.signal?.removeEventListener("abort", onSignal);
      await server?.close();
      server = undefined;
      health.status = "closed";
      resolveClosed();
    })();
    return closing;
  };
  for (const name of signals) process.once(name, onSignal);
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener("abort", onSignal, { once: true });
  return {
    id,
    health: () => ({ ...health, active: server?.active ?? 0 }),
    close,
    closed,
  };
}
