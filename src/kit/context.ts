import { CampaignKitError } from "../errors.js";
import type { AuditEntry } from "../model/audit.js";
import type { Channel } from "../model/common.js";
import { validationFailed } from "../model/input-guard.js";
import type { Permission, Role } from "../model/roles.js";
import { builtInRolesGranting, permissionsOf } from "../model/roles.js";
import { type AuditTarget, audit } from "../repositories/audit.js";
import type { Context } from "../repositories/context.js";
import { screenIds } from "./operation-ids.js";

export { type AuditTarget, audit } from "../repositories/audit.js";

/**
 * Who performs a kit operation: a user id, or an object with the id and the groups the user belongs to
 * (approval policies can match groups). Roles are never passed in: the kit reads them from storage, so an
 * actor holds exactly the roles an administrator assigned.
 */
export type ActorRef = string | { id: string; groups?: readonly string[] };

/** An actor with the roles and permissions storage gives it. */
export interface ResolvedActor {
  /** The user id. */
  id: string;
  /** The groups the caller said the user belongs to. */
  groups: readonly string[];
  /** The role ids storage assigns the user. */
  roles: string[];
  /** What those roles grant. */
  permissions: Set<Permission>;
  /** Every custom role, for checks that need to resolve role ids again. */
  customRoles: Role[];
}

/** What one audited operation is about, as the caller named it. */
export interface OperationTarget {
  /** The operation, as `object.verb`. */
  action: string;
  /** The kind of object concerned. */
  objectType: AuditEntry["objectType"];
  /**
   * The object's id as the caller gave it (`*` for lists, `undefined` when a new object has none yet): the
   * gate checks it is an id before anything reads, stores or echoes it.
   */
  objectId: unknown;
  /** Where the caller gave `objectId`, for the issue a bad one gets; `id` unless said. */
  idPath?: string;
  /** Other ids the caller gave that the operation stores or echoes (`userId`), by name; checked likewise. */
  ids?: Readonly<Record<string, unknown>>;
  /** A read: audited only when refused, since an allowed read changes nothing. */
  read?: boolean;
}

/**
 * Builds the {@link OperationTarget}s of one kind of object: `target("campaign.activate", id)`, with `true`
 * for a read, and where the id isn't the `id` parameter or other ids come along, `more`.
 */
export function targetsOf(objectType: AuditEntry["objectType"]) {
  return (
    action: string,
    objectId: unknown,
    read = false,
    more: Pick<OperationTarget, "idPath" | "ids"> = {},
  ): OperationTarget => ({ action, objectType, objectId, read, ...more });
}

/** Shared by every part of the kit. */
export interface KitContext extends Context {
  /** The channels the kit has adapters for: a campaign can only use these. */
  channels: ReadonlySet<Channel>;
}

/** Reads the actor's roles from storage and resolves its permissions. */
export async function resolveActor(ctx: KitContext, actor: ActorRef): Promise<ResolvedActor> {
  const id = typeof actor === "string" ? actor : actor.id;
  if (typeof id !== "string" || id.length === 0) {
    throw new CampaignKitError(
      "VALIDATION_FAILED",
      "Every operation needs an actor: pass the acting user's id.",
      {
        details: { issues: [{ path: "actor", message: "Expected a non-empty user id" }] },
      },
    );
  }
  const groups = typeof actor === "string" ? [] : [...(actor.groups ?? [])];
  const [roles, customRoles] = await Promise.all([rolesOf(ctx, id), customRolesOf(ctx)]);
  return { id, groups, roles, permissions: permissionsOf({ roles }, customRoles), customRoles };
}

/** The role ids assigned to `userId`, sorted (read through the read cache, like every role check). */
export async function rolesOf(ctx: KitContext, userId: string): Promise<string[]> {
  return (await ctx.repos.assignments.everyCached({ userId })).map((assignment) => assignment.roleId).sort();
}

/** Every custom role, from the read cache when the kit keeps one: frozen, for reading. */
export function customRolesOf(ctx: KitContext): Promise<Role[]> {
  return ctx.repos.roles.everyCached();
}

/** The `FORBIDDEN` error for a missing permission, naming the built-in roles that would grant it. */
export function forbidden(
  actor: ResolvedActor,
  permission: Permission,
  target: AuditTarget,
): CampaignKitError {
  const roles = builtInRolesGranting(permission);
  return new CampaignKitError(
    "FORBIDDEN",
    `User '${actor.id}' can't ${target.action} (${target.objectType} '${target.objectId}'): it needs the ` +
      `'${permission}' permission, which ${roles.map((r) => `'${r}'`).join(" or ")} grants.`,
    { details: { permission, actorId: actor.id, grantedBy: roles, action: target.action } },
  );
}

/**
 * Audits a refused or failed operation. When the audit write fails too, throws `STORAGE_FAILED` that still
 * carries the refusal (`details.refusal`), so the caller learns both.
 */
async function auditRefusal(
  ctx: KitContext,
  actorId: string,
  target: AuditTarget,
  error: unknown,
  detail?: Record<string, unknown>,
): Promise<void> {
  const code = error instanceof CampaignKitError ? error.code : undefined;
  const outcome = code === undefined || code === "STORAGE_FAILED" ? "failed" : "denied";
  try {
    await audit(ctx, actorId, target, outcome, { errorCode: code, detail });
  } catch (failure) {
    const refusal =
      error instanceof CampaignKitError
        ? { code, message: error.message, details: error.details }
        : undefined;
    throw new CampaignKitError("STORAGE_FAILED", (failure as Error).message, {
      cause: new AggregateError([failure, error], "The audit write failed after the operation was refused."),
      details: { ...(failure as CampaignKitError).details, ...(refusal ? { refusal } : {}) },
    });
  }
}

/** What an operation's body returns to be audited: its result and the status change it made. */
export interface OperationOutcome<T> {
  result: T;
  fromStatus?: string;
  toStatus?: string;
  detail?: Record<string, unknown>;
}

/**
 * What an operation's body returns when its last step is one write: `write` makes it and gives the result.
 * The gate issues it together with the audit entry, so on a store that commits concurrent writes together
 * (PostgreSQL) both go in one statement: a trigger costs one commit, not two.
 */
export interface WriteOutcome<T> {
  write: () => Promise<T>;
  detail?: Record<string, unknown>;
}

/**
 * Runs one kit operation through the gate: checks every id it names (the actor's, the object's, the
 * others'), resolves the actor, checks `permission`, runs `body`, and audits the attempt whatever happens.
 * A refusal (a bad id, missing permission, invalid transition, unmet prerequisites, conflict) is audited as
 * `denied` and rethrown; `body` must check before it writes, so a refusal changes nothing. An attempt that
 * can't be audited fails with `STORAGE_FAILED`.
 */
export async function operate<T>(
  ctx: KitContext,
  actorRef: ActorRef,
  permission: Permission | null,
  target: OperationTarget,
  body: (actor: ResolvedActor) => Promise<OperationOutcome<T> | WriteOutcome<T>>,
): Promise<T> {
  const idPath = target.idPath ?? "id";
  const screened = screenIds(actorRef, idPath, { [idPath]: target.objectId, ...target.ids });
  const about: AuditTarget = {
    action: target.action,
    objectType: target.objectType,
    objectId: screened.objectId,
  };
  if (screened.issues.length > 0) {
    const refusal = validationFailed(`call to ${target.action}`, screened.issues);
    await auditRefusal(ctx, screened.actorId, about, refusal, { refusedIds: screened.refused });
    throw refusal;
  }
  const actor = await resolveActor(ctx, actorRef);
  let outcome: OperationOutcome<T> | WriteOutcome<T>;
  try {
    if (permission !== null && !actor.permissions.has(permission)) throw forbidden(actor, permission, about);
    outcome = await body(actor);
  } catch (error) {
    await auditRefusal(ctx, actor.id, about, error);
    throw error;
  }
  if (!("write" in outcome)) {
    if (!target.read) await audit(ctx, actor.id, about, "allowed", outcome);
    return outcome.result;
  }
  const [written, audited] = await Promise.allSettled([
    outcome.write(),
    audit(ctx, actor.id, about, "allowed", outcome.detail ? { detail: outcome.detail } : {}),
  ]);
  if (written.status === "rejected") {
    // The entry that says `allowed` may have landed: the one for the failure follows it.
    await auditRefusal(ctx, actor.id, about, written.reason);
    throw written.reason;
  }
  if (audited.status === "rejected") throw audited.reason;
  return written.value;
}
