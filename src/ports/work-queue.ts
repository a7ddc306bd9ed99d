/**
 * The work queue: how one execution is shared by many worker processes.
 *
 * Why it looks like this: the kit does not run a queue of its own. A distributed engine the host may already
 * run (BullMQ on Redis, pg-boss on PostgreSQL) hands out jobs, renews their locks and gives a dead worker's
 * jobs to another; the kit only says what a job is. An execution is cut into {@link WorkChunk}s, each a
 * range of the audience by member id (two bounds, never a list of ids), so a job is as small for a million
 * recipients as for ten. A chunk's id is derived from (execution, index), so planning an execution twice (a
 * scheduler taking over from a dead one) enqueues nothing new. Exactly once does not rest on the queue: a
 * chunk may be served twice (a lock lost, a worker killed), and the ledger's claims keep every message sent
 * at most once; the queue says when a chunk is served again after its worker vanished
 * ({@link ChunkDelivery.redelivered}), so the worker knows to look for messages in doubt.
 *
 * Two lanes: `transactional` chunks (a unitary execution, a password reset) are served before any
 * `marketing` one, so a large send never delays them.
 *
 * The reference implementation is `memoryWorkQueue()`; `pgBossWorkQueue()` (campaign-kit/pg-boss) and
 * `bullmqWorkQueue()` (campaign-kit/bullmq) are the distributed ones. All pass `runWorkQueueSuite` from
 * `campaign-kit/testing`.
 */
import { createHash } from "node:crypto";
import type { AudienceRange } from "./audience-source.js";

/** Which queue a chunk waits in: `transactional` is always served first. */
export type WorkLane = "transactional" | "marketing";

/** One part of an execution, handed to one worker at a time. */
export interface WorkChunk {
  /** Derived from (execution, index) by {@link chunkId}: enqueuing it again is a no-op. */
  id: string;
  /** The execution it belongs to. */
  executionId: string;
  /** The execution's campaign. */
  campaignId: string;
  /** Its place in the execution's plan, from 0. */
  index: number;
  /** `transactional` for unitary executions, `marketing` otherwise. */
  lane: WorkLane;
  /** The members it sends to; `{}` for a unitary execution (its recipients are on the execution). */
  range: AudienceRange;
}

/** A chunk handed to a worker. */
export interface ChunkDelivery {
  /** The chunk. */
  chunk: WorkChunk;
  /**
   * Whether this chunk was handed out before without being completed or handed back: its worker died or
   * lost its lock. Some of its messages may be in doubt (claimed, maybe sent, not recorded).
   */
  redelivered: boolean;
  /**
   * Aborts when the worker must let go of the chunk: the worker is closing, or the driver lost the chunk's
   * lock (another worker may get it). Stop sending; what was recorded stays recorded.
   */
  signal: AbortSignal;
}

/**
 * What a worker did with a chunk: `done` (complete it), or `later`: hand `range` (the part not sent) back to
 * the queue, to be served again at `at` (a campaign paused by a provider, a long wait for the rate budget,
 * a worker closing). The chunk keeps its id.
 */
export type ChunkOutcome = { status: "done" } | { status: "later"; at: Date; range: AudienceRange };

/** What a {@link WorkQueue} calls for each chunk it serves. A throw retries the chunk after a delay. */
export type ChunkHandler = (delivery: ChunkDelivery) => Promise<ChunkOutcome>;

/** A running consumer of a {@link WorkQueue}, from {@link WorkQueue.serve}. */
export interface WorkServer {
  /** Chunks being handled now. */
  readonly active: number;
  /**
   * Stops taking chunks. Without `abandon`, waits for the chunks being handled (their `signal` aborts, so
   * they hand back what they have not sent). With `abandon`, lets go at once without completing or handing
   * back anything, as a crashed process would: the queue serves those chunks again once their lock expires.
   */
  close(options?: { abandon?: boolean }): Promise<void>;
}

/** Hands chunks to workers; see the module documentation. */
export interface WorkQueue {
  /** A name for logs (`"memory"`, `"pg-boss"`, `"bullmq"`). */
  readonly name: string;
  /**
   * How long a chunk stays with a worker that stopped answering before it is served again, in ms: workers
   * hand a chunk back well before it (`runWorker` keeps each chunk at most half of it).
   */
  readonly leaseMs: number;
  /**
   * Adds chunks. Idempotent by chunk id: a chunk waiting, running, handed back or completed is not added
   * again. Each lane's chunks are served in the order given, once nothing of the transactional lane waits.
   */
  enqueue(params: { chunks: readonly WorkChunk[] }): Promise<void>;
  /**
   * Serves chunks to `handler`, at most `concurrency` of each lane at once (so a transactional chunk never
   * waits for a marketing one to finish), transactional ones first; resolves once serving. Chunks whose worker dies come back within the driver's lease (seconds) with
   * `redelivered: true`.
   */
  serve(params: { handler: ChunkHandler; concurrency: number }): Promise<WorkServer>;
  /** How many of the execution's chunks are not done yet: waiting, running or handed back. */
  outstanding(params: { executionId: string }): Promise<number>;
  /** Forgets the execution's chunks not served yet (a stopped campaign); those running finish. */
  cancel(params: { executionId: string }): Promise<void>;
  /** Releases what the queue opened itself; the host's own connections stay open. */
  close(): Promise<void>;
}

/**
 * The id of chunk `index` of `executionId`: a UUID (pg-boss wants one) derived from both, so the same chunk
 * planned twice has the same id.
 *
 * @example
 * ```ts
 * chunkId("x-abc", 0) === chunkId("x-abc", 0); // true
 * ```
 */
export function chunkId(executionId: string, index: number): string {
  const hex = createHash("sha256").update(`${executionId.length}:${executionId}:${index}`).digest("hex");
  // Version 5-shaped (name-based) so any UUID parser accepts it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The chunk `index` of an execution, its id derived. */
export function workChunk(params: Omit<WorkChunk, "id">): WorkChunk {
  return { id: chunkId(params.executionId, params.index), ...params };
}
