import { CampaignKitError } from "../errors.js";
import type { AuditEntry } from "../model/audit.js";
import type { Context } from "./context.js";
import { auditIdFor } from "./index.js";

/** What an audit entry is about: the operation, and the object by a storable id. */
export interface AuditTarget {
  /** The operation, as `object.verb`. */
  action: string;
  /** The kind of object concerned. */
  objectType: AuditEntry["objectType"];
  /** The object's id, or `*` for lists. */
  objectId: string;
}

// A failed audit write is retried this many times in all, backing off 100 ms, then 200 ms.
const AUDIT_ATTEMPTS = 3;
const AUDIT_BACKOFF_MS = 100;

/**
 * Appends one audit entry, retrying briefly when storage fails. Never fails silently: when no attempt lands it
 * throws `STORAGE_FAILED` saying what went unaudited, with the storage error as `cause`.
 */
export async function audit(
  ctx: Context,
  actorId: string,
  target: AuditTarget,
  outcome: AuditEntry["outcome"],
  extra: Pick<AuditEntry, "fromStatus" | "toStatus" | "errorCode" | "detail"> = {},
): Promise<void> {
  const { action, objectType, objectId } = target;
  const at = ctx.now();
  const entry: AuditEntry = {
    id: auditIdFor(at),
    at,
    actorId,
    outcome,
    action,
    objectType,
    objectId,
  };
  // Only these: an operation's outcome comes here whole, and its result is not the audit log's to keep.
  for (const key of ["fromStatus", "toStatus", "errorCode", "detail"] as const) {
    if (extra[key] !== undefined) (entry as Record<string, unknown>)[key] = extra[key];
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // An id taken on a retry means an earlier attempt landed and only its answer was lost.
      if ((await ctx.repos.audit.insert(entry)) || attempt > 1) return;
      entry.id = auditIdFor(at);
    } catch (error) {
      if (attempt >= AUDIT_ATTEMPTS) {
        const what = outcome === "allowed" ? "was done, but" : `was ${outcome}, and`;
        throw new CampaignKitError(
          "STORAGE_FAILED",
          `${action} on ${objectType} '${objectId}' ${what} its audit entry could not be written ` +
            `(${AUDIT_ATTEMPTS} attempts): the storage backend failed.`,
          { cause: error, details: { action, outcome } },
        );
      }
      await ctx.clock.sleep(AUDIT_BACKOFF_MS * attempt);
    }
  }
}
