import { CampaignKitError } from "../errors.js";
import { parseWith } from "../model/parse.js";
import {
  roleAssignmentSchema as assignmentSchema,
  isBuiltInRole,
  type Permission,
  type Role,
  roleSchema,
} from "../model/roles.js";
import { type ActorRef, type KitContext, operate, resolveActor, targetsOf } from "./context.js";

/** A user's roles and the permissions they add up to. */
export interface UserAccess {
  /** The user. */
  userId: string;
  /** The role ids assigned to the user. */
  roles: string[];
  /** What those roles grant, sorted. */
  permissions: Permission[];
}

/** Role management: assigning and revoking roles (administrators only) and custom roles. */
export interface RolesApi {
  /** Gives `userId` the role `roleId` (built-in or custom). Needs `role.manage`. */
  assign(params: { actor: ActorRef; userId: string; roleId: string }): Promise<void>;
  /** Takes `roleId` from `userId`. Needs `role.manage`. Returns whether the user had it. */
  revoke(params: { actor: ActorRef; userId: string; roleId: string }): Promise<boolean>;
  /** Defines or replaces a custom role. Needs `role.manage`; built-in ids are reserved. */
  define(params: { actor: ActorRef; role: Role }): Promise<Role>;
  /** A user's roles and permissions. Anyone may read their own; reading another's needs `role.manage`. */
  get(params: { actor: ActorRef; userId?: string }): Promise<UserAccess>;
}

/** Builds the roles API. */
export function rolesApi(ctx: KitContext): RolesApi {
  const target = targetsOf("role");

  async function knownRole(roleId: string): Promise<void> {
    if (isBuiltInRole(roleId)) return;
    if ((await ctx.repos.roles.get(roleId)) === undefined) {
      throw new CampaignKitError(
        "NOT_FOUND",
        `Role '${roleId}' does not exist: use a built-in role (campaign-administrator, campaign-approver, ` +
          "campaign-manager, campaign-viewer) or define a custom one first.",
        { details: { roleId } },
      );
    }
  }

  return {
    assign: ({ actor, userId, roleId }) =>
      operate(
        ctx,
        actor,
        "role.manage",
        target("role.assign", roleId, false, { idPath: "roleId", ids: { userId } }),
        async () => {
          parseWith(assignmentSchema, { userId, roleId }, "role assignment");
          await knownRole(roleId);
          // Assigning a role twice is a no-op: the assignment's id is taken.
          await ctx.repos.assignments.insert({ userId, roleId });
          return { result: undefined, detail: { userId } };
        },
      ),
    revoke: ({ actor, userId, roleId }) =>
      operate(
        ctx,
        actor,
        "role.manage",
        target("role.revoke", roleId, false, { idPath: "roleId", ids: { userId } }),
        async () => {
          parseWith(assignmentSchema, { userId, roleId }, "role assignment");
          const assignments = ctx.repos.assignments;
          const had = (await assignments.delete(assignments.idOf({ userId, roleId }))) === "ok";
          return { result: had, detail: { userId } };
        },
      ),
    define: ({ actor, role }) =>
      operate(ctx, actor, "role.manage", target("role.define", role?.id), async () => {
        const parsed = parseWith(roleSchema, role, "role");
        if (isBuiltInRole(parsed.id)) {
          throw new CampaignKitError("ALREADY_EXISTS", `'${parsed.id}' is a built-in role; pick another id.`);
        }
        await ctx.repos.roles.put(parsed);
        return { result: parsed };
      }),
    get: ({ actor, userId }) => {
      const actorId = typeof actor === "string" ? actor : actor?.id;
      const subject = userId ?? actorId;
      const permission = subject === actorId ? null : "role.manage";
      return operate(
        ctx,
        actor,
        permission,
        target("role.read", subject, true, { idPath: "userId" }),
        async (a) => {
          const resolved = subject === a.id ? a : await resolveActor(ctx, subject);
          return {
            result: { userId: subject, roles: resolved.roles, permissions: [...resolved.permissions].sort() },
          };
        },
      );
    },
  };
}
