import type { LimitFunction } from "p-limit";
import type { DeliveryRecord, ExclusionReason } from "../model/execution.js";
import { HOLDOUT_TREATMENT_ID } from "../model/experiment.js";
import type { Profile } from "../model/profile.js";
import type { OutboundMessage } from "../ports/channel.js";
import { IN_DOUBT_REASON, type MessageClaim } from "../ports/ledger.js";
import { type BatchTally, deliver, flush } from "./deliver.js";
import { frequencyCapSince, resolveAddress, staticExclusion } from "./exclusions.js";
import { assignTreatment } from "./experiment.js";
import { RenderTooLargeError } from "./render/budget.js";
import type { CompiledAction } from "./render/compile.js";
import type { PreparedAction, Run } from "./run.js";
import { exclude, ledgerCall, makeRecord } from "./run.js";
import type { SuppressionList } from "./types.js";

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
  lane: LimitFunction,
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
  const { telemetry } = run;
  const span = telemetry?.startSpan("campaign-kit.batch", {
    attributes: {
      "campaign_kit.campaign.id": run.campaignId,
      "campaign_kit.execution.id": run.executionId,
      "campaign_kit.channel": action.channel,
      "campaign_kit.category": run.category,
      "campaign_kit.batch.recipients": n,
    },
    parent: run.span,
  });
  const tally: BatchTally | undefined = span ? { sent: 0, failed: 0, excluded: 0 } : undefined;
  const work = async () => {
    const { ledger } = run;
    let unused: Set<string> | undefined;
    try {
      const records = await lane(async () => {
        if (run.claims) {
          const claimed = await claimBatch(run, action, profiles, ids, mine);
          unused = claimed.unused;
          return processBatch(
            run,
            action,
            profiles,
            ids,
            claimed.sent,
            mine,
            planned,
            tally,
            claimed.earlier,
            unused,
          );
        }
        const alreadySent = run.fresh
          ? NOTHING_SENT
          : await ledgerCall("findSent", () => ledger.findSent({ messageIds: ids }));
        return processBatch(run, action, profiles, ids, alreadySent, mine, planned, tally);
      });
      // Written once the batch has left its lane: a slow commit holds no provider slot, and the batch stays
      // claimed (and counted in the pump's bound) until it is durable.
      await flush(run, records, action, tally, unused);
    } finally {
      // A worker lets go of the claims it never used (a stop or shutdown before their send): only messages
      // handed to a provider can be left in doubt.
      const release = unused === undefined ? [] : [...unused];
      const owner = run.claims?.owner;
      if (release.length > 0 && owner !== undefined) {
        await ledgerCall("release", () => ledger.release!({ messageIds: release, owner }));
      }
    }
  };
  try {
    await (span && telemetry?.withSpan ? telemetry.withSpan(span, work) : work());
  } catch (error) {
    span?.fail(error);
    throw error;
  } finally {
    for (const id of claimed) action.inFlight.delete(id);
    if (span && tally) {
      span.setAttributes({
        "campaign_kit.messages.sent": tally.sent,
        "campaign_kit.messages.failed": tally.failed,
        "campaign_kit.messages.excluded": tally.excluded,
      });
      span.end();
    }
  }
}

/**
 * A worker's batch: claims its messages in the ledger (one call, in place of the read of what was sent) and
 * handles those found in doubt as the policy says. Returns what was sent already, the records of messages in
 * doubt failed by the policy, and the claims not yet used, which the caller lets go of once done.
 */
async function claimBatch(
  run: Run,
  action: PreparedAction,
  profiles: readonly Profile[],
  ids: readonly string[],
  mine: boolean[],
): Promise<{ sent: ReadonlySet<string>; earlier: DeliveryRecord[]; unused: Set<string> }> {
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
  return { sent, earlier, unused };
}

async function processBatch(
  run: Run,
  action: PreparedAction,
  profiles: readonly Profile[],
  ids: readonly string[],
  alreadySent: ReadonlySet<string>,
  mine: readonly boolean[],
  planned: ReadonlyMap<string, ExclusionReason> | undefined,
  tally: BatchTally | undefined,
  earlier: DeliveryRecord[] = [],
  unused?: Set<string>,
): Promise<DeliveryRecord[]> {
  const now = run.clock.now();
  const at = new Date(now);
  const records: DeliveryRecord[] = earlier;
  const { channel, experiment } = action;
  const namespace = run.campaign.identityNamespace;
  let kept: number[] = [];
  const addresses = new Array<string | undefined>(profiles.length);
  const contexts = run.overrides ? new Array<Record<string, unknown>>(profiles.length) : undefined;
  // Each recipient's treatment, drawn before any exclusion so that every record of an experiment says which
  // treatment it belongs to; the holdout is applied after the static exclusions, so it holds out only people
  // who could have been sent (like against like).
  const treatments = experiment ? new Array<string>(profiles.length) : undefined;

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
    let compiled: CompiledAction = action.compiled;
    let treatmentId: string | undefined;
    if (experiment && treatments) {
      treatmentId = assignTreatment(experiment.split, profile.id);
      treatments[i] = treatmentId;
    }
    const address = resolveAddress(profile, channel);
    const reason =
      planned?.get(profile.id) ??
      staticExclusion(profile, channel, run.category, namespace, address) ??
      (treatmentId === HOLDOUT_TREATMENT_ID ? "holdout" : undefined);
    if (reason !== undefined) {
      // `holdout` marks only those held out: a holdout recipient excluded for another reason was never at
      // stake, so the holdout's count compares like with like with the treatments' exposed.
      const recorded = treatmentId === HOLDOUT_TREATMENT_ID && reason !== "holdout" ? undefined : treatmentId;
      exclude(run, action, records, id, profile.id, reason, at, undefined, recorded);
      continue;
    }
    if (treatmentId !== undefined) compiled = experiment?.compiled.get(treatmentId) ?? compiled;
    let context = run.context;
    if (contexts) {
      const override = run.overrides?.get(profile.id);
      if (override?.context) context = { ...run.context, ...override.context };
      contexts[i] = context;
    }
    const variable = compiled.findMissing(profile, context);
    if (variable !== undefined) {
      exclude(run, action, records, id, profile.id, "missing-variable", at, variable, treatmentId);
      continue;
    }
    addresses[i] = address;
    kept.push(i);
  }

  if (run.suppressions && kept.length > 0) {
    const listed = kept.filter((i) => addresses[i]);
    const found = await ledgerCall("suppressed", () =>
      (run.suppressions as SuppressionList).suppressed({
        channel,
        addresses: listed.map((i) => addresses[i] as string),
        recipientIds: kept.map((i) => profiles[i]!.id),
      }),
    );
    if (found.addresses.size > 0 || found.recipientIds.size > 0) {
      kept = kept.filter((i) => {
        const profile = profiles[i]!;
        const address = addresses[i];
        if (!found.recipientIds.has(profile.id) && !(address && found.addresses.has(address))) return true;
        exclude(run, action, records, ids[i]!, profile.id, "suppressed", at);
        return false;
      });
    }
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
      exclude(run, action, records, ids[i]!, profile.id, "frequency-capped", at, undefined, treatments?.[i]);
      return false;
    });
  }

  const messages: OutboundMessage[] = [];
  for (const i of kept) {
    const context = contexts?.[i] ?? run.context;
    const treatmentId = treatments?.[i];
    const message = render(
      run,
      action,
      treatmentId,
      profiles[i]!,
      ids[i]!,
      addresses[i],
      context,
      records,
      at,
    );
    if (message) messages.push(message);
  }
  return deliver(run, action, messages, records, tally, unused);
}

function render(
  run: Run,
  action: PreparedAction,
  treatmentId: string | undefined,
  profile: Profile,
  id: string,
  address: string | undefined,
  context: Record<string, unknown>,
  records: DeliveryRecord[],
  at: Date,
): OutboundMessage | undefined {
  let content: OutboundMessage["content"];
  const compiled =
    treatmentId === undefined
      ? action.compiled
      : (action.experiment?.compiled.get(treatmentId) ?? action.compiled);
  try {
    content = compiled.render(profile, context);
  } catch (error) {
    if (error instanceof RenderTooLargeError) {
      exclude(run, action, records, id, profile.id, "render-too-large", at, undefined, treatmentId);
      return undefined;
    }
    // A helper can throw at render time (a bad time zone): that recipient fails, the batch goes on.
    const reason = `Rendering failed: ${error instanceof Error ? error.message : String(error)}`;
    const record = makeRecord(run, action, id, profile.id, "failed", 0, at, reason, treatmentId);
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
  if (treatmentId !== undefined) message.treatmentId = treatmentId;
  const channelData = run.overrides?.get(profile.id)?.channelData;
  if (channelData) message.channelData = channelData;
  return run.prepareMessage ? run.prepareMessage(message) : message;
}
