import type { DeliveryRecord, ExclusionReason } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { OutboundMessage } from "../ports/channel.js";
import { IN_DOUBT_REASON, type MessageClaim } from "../ports/ledger.js";
import { deliver } from "./deliver.js";
import { frequencyCapSince, resolveAddress, staticExclusion } from "./exclusions.js";
import { RenderTooLargeError } from "./render/budget.js";
import type { PreparedAction, Run } from "./run.js";
import { exclude, ledgerCall, makeRecord } from "./run.js";

const NOTHING_SENT: ReadonlySet<string> = new Set();

/**
 * Runs one batch of recipients through one action: skip what the ledger holds as sent, apply exclusions
 * (those the plan decided, by `planned` profile id, first), render, send, record. One ledger read (none for
 * a fresh execution), one capping read when a cap is set, and one ledger write per send round: batching is
 * what makes the dispatcher fast.
 */
export async function runBatch(
  run: Run,
  action: PreparedAction,
  profiles: readonly Profile[],
  planned?: ReadonlyMap<string, ExclusionReason>,
): Promise<void> {
  const n = profiles.length;
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = action.idPrefix + profiles[i]!.id;
  // Claim the recipients before reading the ledger: a recipient listed again in a later batch is then
  // skipped while this batch holds it, and once this batch lets go it has written its outcome, so the later
  // batch's ledger read sees it. Claiming after the read would let a slow ledger answer both "not sent".
  const claimed: string[] = [];
  const mine = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const recipientId = profiles[i]!.id;
    if (action.inFlight.has(recipientId)) continue;
    action.inFlight.add(recipientId);
    claimed.push(recipientId);
    mine[i] = true;
  }
  try {
    const { ledger } = run;
    if (run.claims) {
      await claimedBatch(run, action, profiles, ids, mine, planned);
      return;
    }
    const alreadySent = run.fresh
      ? NOTHING_SENT
      : await ledgerCall("findSent", () => ledger.findSent({ messageIds: ids }));
    await processBatch(run, action, profiles, ids, alreadySent, mine, planned);
  } finally {
    for (const id of claimed) action.inFlight.delete(id);
  }
}

/**
 * A worker's batch: claims its messages in the ledger (one call, in place of the read of what was sent),
 * handles those found in doubt as the policy says, and, once done, lets go of the claims it never used (a
 * stop or shutdown before their send), so that only messages handed to a provider can be left in doubt.
 */
async function claimedBatch(
  run: Run,
  action: PreparedAction,
  profiles: readonly Profile[],
  ids: readonly string[],
  mine: boolean[],
  planned: ReadonlyMap<string, ExclusionReason> | undefined,
): Promise<void> {
  const claims = run.claims!;
  const ledger = run.ledger;
  const mineIds: MessageClaim[] = [];
  for (let i = 0; i < profiles.length; i++) {
    if (!mine[i]) continue;
    mineIds.push({
      messageId: ids[i]!,
      campaignId: run.campaignId,
      executionId: run.executionId,
      recipientId: profiles[i]!.id,
      channel: action.channel,
    });
  }
  const at = new Date(run.clock.now());
  const { sent, inDoubt } = await ledgerCall("claim", () =>
    ledger.claim!({ claims: mineIds, owner: claims.owner, at }),
  );
  const unused = new Set<string>();
  for (const claim of mineIds) {
    if (!sent.has(claim.messageId) && !inDoubt.has(claim.messageId)) unused.add(claim.messageId);
  }
  const earlier: DeliveryRecord[] = [];
  if (inDoubt.size > 0) {
    run.report.inDoubt += inDoubt.size;
    const resend =
      claims.inDoubt === "resend" ||
      (claims.inDoubt === "resend-if-idempotent" && action.adapter.capabilities.idempotencyKeys);
    if (!resend) {
      for (let i = 0; i < profiles.length; i++) {
        if (!mine[i] || !inDoubt.has(ids[i]!)) continue;
        mine[i] = false;
        const record = makeRecord(run, action, ids[i]!, profiles[i]!.id, "failed", 0, at, IN_DOUBT_REASON);
        earlier.push(record);
        if (run.emitter.listenerCount("failed") > 0) {
          run.emitter.emit(
            "failed",
            record,
            new Error("The message may have been sent by a worker that died."),
          );
        }
      }
    }
  }
  try {
    await processBatch(run, action, profiles, ids, sent, mine, planned, earlier, unused);
  } finally {
    if (unused.size > 0) {
      await ledgerCall("release", () => ledger.release!({ messageIds: [...unused], owner: claims.owner }));
    }
  }
}

async function processBatch(
  run: Run,
  action: PreparedAction,
  profiles: readonly Profile[],
  ids: readonly string[],
  alreadySent: ReadonlySet<string>,
  mine: readonly boolean[],
  planned: ReadonlyMap<string, ExclusionReason> | undefined,
  earlier: DeliveryRecord[] = [],
  unused?: Set<string>,
): Promise<void> {
  const now = run.clock.now();
  const at = new Date(now);
  const records: DeliveryRecord[] = earlier;
  const { channel, compiled } = action;
  const namespace = run.campaign.identityNamespace;
  let kept: number[] = [];
  const addresses = new Array<string | undefined>(profiles.length);
  const contexts = run.overrides ? new Array<Record<string, unknown>>(profiles.length) : undefined;

  for (let i = 0; i < profiles.length; i++) {
    const profile = profiles[i]!;
    const id = ids[i]!;
    if (!mine[i]) {
      // Not this batch's: listed twice, or (a worker's) found in doubt and recorded failed above.
      if (unused === undefined || earlier.every((r) => r.messageId !== id)) {
        run.report.skippedAlreadySent++;
        action.counts.skippedAlreadySent++;
      }
      continue;
    }
    if (alreadySent.size > 0 && alreadySent.has(id)) {
      run.report.skippedAlreadySent++;
      action.counts.skippedAlreadySent++;
      continue;
    }
    const address = resolveAddress(profile, channel);
    const reason =
      planned?.get(profile.id) ?? staticExclusion(profile, channel, run.category, namespace, address);
    if (reason !== undefined) {
      exclude(run, action, records, id, profile.id, reason, at);
      continue;
    }
    let context = run.context;
    if (contexts) {
      const override = run.overrides?.get(profile.id);
      if (override?.context) context = { ...run.context, ...override.context };
      contexts[i] = context;
    }
    const variable = compiled.findMissing(profile, context);
    if (variable !== undefined) {
      exclude(run, action, records, id, profile.id, "missing-variable", at, variable);
      continue;
    }
    addresses[i] = address;
    kept.push(i);
  }

  if (run.frequencyCap && kept.length > 0) {
    const cap = run.frequencyCap;
    const counts = await ledgerCall("countSentSince", () =>
      run.ledger.countSentSince({
        recipientIds: kept.map((i) => profiles[i]!.id),
        channel,
        since: frequencyCapSince(cap, now),
      }),
    );
    kept = kept.filter((i) => {
      const profile = profiles[i]!;
      if ((counts.get(profile.id) ?? 0) < cap.max) return true;
      exclude(run, action, records, ids[i]!, profile.id, "frequency-capped", at);
      return false;
    });
  }

  const messages: OutboundMessage[] = [];
  for (const i of kept) {
    const context = contexts?.[i] ?? run.context;
    const message = render(run, action, profiles[i]!, ids[i]!, addresses[i], context, records, at);
    if (message) messages.push(message);
  }
  await deliver(run, action, messages, records, unused);
}

function render(
  run: Run,
  action: PreparedAction,
  profile: Profile,
  id: string,
  address: string | undefined,
  context: Record<string, unknown>,
  records: DeliveryRecord[],
  at: Date,
): OutboundMessage | undefined {
  let content: OutboundMessage["content"];
  try {
    content = action.compiled.render(profile, context);
  } catch (error) {
    if (error instanceof RenderTooLargeError) {
      exclude(run, action, records, id, profile.id, "render-too-large", at);
      return undefined;
    }
    // A helper can throw at render time (a bad time zone): that recipient fails, the batch goes on.
    const reason = `Rendering failed: ${error instanceof Error ? error.message : String(error)}`;
    const record = makeRecord(run, action, id, profile.id, "failed", 0, at, reason);
    records.push(record);
    if (run.emitter.listenerCount("failed") > 0) run.emitter.emit("failed", record, error);
    return undefined;
  }
  const message: OutboundMessage = {
    id,
    campaignId: run.campaignId,
    executionId: run.executionId,
    recipientId: profile.id,
    channel: action.channel,
    category: run.category,
    content,
    configuration: action.configuration,
  };
  if (address) message.to = address;
  const channelData = run.overrides?.get(profile.id)?.channelData;
  if (channelData) message.channelData = channelData;
  return message;
}
