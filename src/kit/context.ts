import { randomUUID } from "node:crypto";
import type { AuditEntry } from "../domain/audit.js";
import type { Channel } from "../domain/common.js";
import type { Permission, Role } from "../domain/roles.js";
import { builtInRolesGranting, permissionsOf } from "../domain/roles.js";
import type { Clock } from "../engine/clock.js";
import { CampaignKitError } from "../errors.js";
import type { Storage } from "../storage/storage.js";

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

/** What one audited operation is about. */
export interface OperationTarget {
  /** The operation, as `object.verb`. */
  action: string;
  /** The kind of object concerned. */
  objectType: AuditEntry["objectType"];
  /** The object's id, or `*` for lists. */
  objectId: string;
  /** A read: audited only when refused, since an allowed read changes nothing. */
  read?: boolean;
}

/**
 * Builds the {@link OperationTarget}s of one kind of object: `target("campaign.activate", id)`, or with
 * `true` for a read.
 */
export function targetsOf(objectType: AuditEntry["objectType"]) {
  return (action: string, objectId: string, read = false): OperationTarget => ({
    action,
    objectType,
    objectId,
    read,
  });
}

/** Shared by every part of the kit. */
export interface KitContext {
  /** Where everything is kept. */
  storage: Storage;
  /** The time source every operation reads. */
  clock: Clock;
  /** Makes ids for new objects. */
  newId: () => string;
  /** The clock's time as a `Date`. */
  now: () => Date;
  /** The channels the kit has adapters for: a campaign can only use these. */
  channels: ReadonlySet<Channel>;
}

/** Builds the shared context. */
export function createContext(options: {
  storage: Storage;
  clock: Clock;
  channels: ReadonlySet<Channel>;
  newId?: (() => string) | undefined;
}): KitContext {
  const { storage, clock, channels } = options;
  return { storage, clock, channels, newId: options.newId ?? randomUUID, now: () => new Date(clock.now()) };
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
  const [roles, customRoles] = await Promise.all([
    ctx.storage.listUserRoles({ userId: id }),
    ctx.storage.listRoles(),
  ]);
  return { id, groups, roles, permissions: permissionsOf({ roles }, customRoles), customRoles };
}

/** The `FORBIDDEN` error for a missing permission, naming the built-in roles that would grant it. */
export function forbidden(
  actor: ResolvedActor,
  permission: Permission,
  target: OperationTarget,
): CampaignKitError {
  const roles = builtInRolesGranting(permission);
  return new CampaignKitError(
    "FORBIDDEN",
    `User '${actor.id}' can't ${target.action} (${target.objectType} '${target.objectId}'): it needs the ` +
      `'${permission}' permission, which ${roles.map((r) => `'${r}'`).join(" or ")} grants.`,
    { details: { permission, actorId: actor.id, grantedBy: roles, action: target.action } },
  );
}

/** Appends one audit entry. */
export async function audit(
  ctx: KitContext,
  actorId: string,
  target: OperationTarget,
  outcome: AuditEntry["outcome"],
  extra: Pick<AuditEntry, "fromStatus" | "toStatus" | "errorCode" | "detail"> = {},
): Promise<void> {
  const { read: _read, ...about } = target;
  const entry: AuditEntry = { id: ctx.newId(), at: ctx.now(), actorId, outcome, ...about };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) (entry as Record<string, unknown>)[key] = value;
  }
  await ctx.storage.appendAudit({ entry });
}

/** What an operation's body returns to be audited: its result and the status change it made. */
export interface OperationOutcome<T> {
  result: T;
  fromStatus?: string;
  toStatus?: string;
  detail?: Record<string, unknown>;
}

/**
 * Runs one kit operation: resolves the actor, checks `permission`, runs `body`, and audits the attempt
 * whatever happens. A refusal (missing permission, invalid transition, unmet prerequisites, conflict) is
 * audited as `denied` and rethrown; `body` must check before it writes, so a refusal changes nothing.
 */
export async function operate<T>(
  ctx: KitContext,
  actorRef: ActorRef,
  permission: Permission | null,
  target: OperationTarget,
  body: (actor: ResolvedActor) => Promise<OperationOutcome<T>>,
): Promise<T> {
  const actor = await resolveActor(ctx, actorRef);
  try {
    if (permission !== null && !actor.permissions.has(permission)) throw forbidden(actor, permission, target);
    const outcome = await body(actor);
    if (!target.read) await audit(ctx, actor.id, target, "allowed", outcome);
    return outcome.result;
  } catch (error) {
    const code = error instanceof CampaignKitError ? error.code : undefined;
    const outcome = code === undefined || code === "STORAGE_FAILED" ? "failed" : "denied";
    // The refusal is what the caller needs to see; a failing audit write must not mask it.
    await audit(ctx, actor.id, target, outcome, code === undefined ? {} : { errorCode: code }).catch(
      () => {},
    );
    throw error;
  }
}
