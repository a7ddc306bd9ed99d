import { z } from "zod";
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
import type { InvitationOutcome, InviteOption, Inviter } from "./invitations.js";

/** A user's roles and the permissions they add up to. */
export interface UserAccess {
  /** The user. */
  userId: string;
  /** The role ids assigned to the user. */
  roles: string[];
  /** What those roles grant, sorted. */
  permissions: Permission[];
}

/** What {@link RolesApi.assign} did. */
export interface RoleAssignmentResult {
  /** Whether this call gave the role; `false` when the user already had it. */
  assigned: boolean;
  /** The invitation, when the assignment invited its user (see the kit's `invitations` option). */
  invitation?: InvitationOutcome;
}

/** Role management: assigning and revoking roles (administrators only) and custom roles. */
export interface RolesApi {
  /**
   * Gives `userId` the role `roleId` (built-in or custom); assigning a role the user has changes nothing.
   * When the kit has an `invitations` option, the user is also sent an invitation (a link to your instance)
   * through its transactional configuration, exactly once per assignment: assigning the role again sends
   * nothing more (unless the first invitation failed), and a role revoked then given again invites again.
   * `invite: false` assigns without inviting; `invite: { address }` says where to send it. The invitation is
   * checked before anything is written: `INVITATIONS_NOT_CONFIGURED` or `INVITEE_ADDRESS_MISSING` refuse the
   * assignment. Needs `role.manage`.
   */
  assign(params: {
    actor: ActorRef;
    userId: string;
    roleId: string;
    invite?: InviteOption;
  }): Promise<RoleAssignmentResult>;
  /** Takes `roleId` from `userId`. Needs `role.manage`. Returns whether the user had it. */
  revoke(params: { actor: ActorRef; userId: string; roleId: string }): Promise<boolean>;
  /** Defines or replaces a custom role. Needs `role.manage`; built-in ids are reserved. */
  define(params: { actor: ActorRef; role: Role }): Promise<Role>;
  /** A user's roles and permissions. Anyone may read their own; reading another's needs `role.manage`. */
  get(params: { actor: ActorRef; userId?: string }): Promise<UserAccess>;
}

const inviteSchema = z
  .union(
    [z.boolean(), z.strictObject({ address: z.string().min(1, "An address can't be empty").optional() })],
    {
      error: "Expected `invite` to be true, false or `{ address }`",
    },
  )
  .optional();

/** Builds the roles API. */
export function rolesApi(ctx: KitContext, inviter: Inviter): RolesApi {
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
    assign: ({ actor, userId, roleId, invite }) =>
      operate(
        ctx,
        actor,
        "role.manage",
        target("role.assign", roleId, false, { idPath: "roleId", ids: { userId } }),
        async (a) => {
          parseWith(assignmentSchema, { userId, roleId }, "role assignment");
          parseWith(inviteSchema, invite, "invite");
          await knownRole(roleId);
          const assignment = { userId, roleId, assignedAt: ctx.now() };
          const prepared = await inviter.prepare({ assignment, invite, invitedBy: a.id });
          // Assigning a role twice is a no-op: the assignment's id is taken, and the stored one stands.
          const assigned = await ctx.repos.assignments.insert(assignment);
          const result: RoleAssignmentResult = { assigned };
          if (prepared) {
            const held = assigned
              ? assignment
              : (await ctx.repos.assignments.find(ctx.repos.assignments.idOf(assignment))).value;
            result.invitation = await inviter.send(prepared, held);
          }
          const { invitation } = result;
          return {
            result,
            detail: {
              userId,
              assigned,
              ...(invitation
                ? { invitation: { messageId: invitation.messageId, status: invitation.status } }
                : {}),
            },
          };
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
