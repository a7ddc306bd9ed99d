import type { Campaign } from "../model/campaign.js";
import type { Execution } from "../model/execution.js";
import type { AudienceSource } from "../ports/audience-source.js";
import { type WorkChunk, type WorkQueue, workChunk } from "../ports/work-queue.js";

/** Chunks enqueued per call while planning, so a huge audience is never held as one list of chunks. */
const ENQUEUE_BATCH = 500;

/**
 * Whether workers can send this execution: the kit has a work queue, and either the execution names its
 * recipients (unitary) or the audience source can cut ranges and the campaign has no waves (a wave is cut
 * by position in the whole stream, which no chunk knows: such a campaign's first pass runs in one process).
 */
export function sharedByWorkers(
  queue: WorkQueue | undefined,
  audiences: AudienceSource | undefined,
  campaign: Campaign,
  execution: Execution,
): queue is WorkQueue {
  if (!queue) return false;
  if (execution.kind === "unitary") return true;
  if (execution.streamed) return false;
  const waves = campaign.type === "scheduled" && campaign.deliveryControls.waves !== undefined;
  return !waves && typeof audiences?.ranges === "function";
}

/**
 * Cuts the execution into chunks and enqueues them: one transactional chunk for a unitary execution, else
 * one marketing chunk per range of about `chunkSize` members. Chunk ids derive from (execution, index) and
 * ranges from the audience's ids, so planning again (a scheduler taking over) enqueues nothing new, as long
 * as the audience did not change meanwhile; a changed audience can only add chunks whose recipients the
 * ledger then sends once. Returns how many chunks the plan has.
 */
export async function planChunks(params: {
  queue: WorkQueue;
  audiences: AudienceSource | undefined;
  execution: Execution;
  audienceId: string | undefined;
  chunkSize: number;
  signal: AbortSignal;
}): Promise<number> {
  const { queue, execution } = params;
  const base = { executionId: execution.id, campaignId: execution.campaignId };
  if (execution.kind === "unitary") {
    await queue.enqueue({ chunks: [workChunk({ ...base, index: 0, lane: "transactional", range: {} })] });
    return 1;
  }
  const { audiences, audienceId } = params;
  if (!audiences?.ranges || !audienceId) return 0;
  let index = 0;
  let batch: WorkChunk[] = [];
  for await (const range of audiences.ranges({ audienceId, size: params.chunkSize, signal: params.signal })) {
    batch.push(workChunk({ ...base, index: index++, lane: "marketing", range }));
    if (batch.length === ENQUEUE_BATCH) {
      await queue.enqueue({ chunks: batch });
      batch = [];
    }
  }
  if (batch.length > 0) await queue.enqueue({ chunks: batch });
  return index;
}
