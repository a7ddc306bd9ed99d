import { z } from "zod";
import { idSchema, instantSchema } from "./common.js";

/**
 * Every permission. The six `campaign*` ones are the reference product's; the three `manage` ones are held
 * by administrators only (DOMAIN.md: "plus managing channel configurations and audiences", and roles).
 */
export const PERMISSIONS = [
  "campaign.read",
  "campaign.write",
  "campaign.delete",
  "campaign.publish",
  "campaign.approve",
  "campaign-report.read",
  "channel-configuration.manage",
  "audience.manage",
  "role.manage",
] as const;
/** A permission name. */
export const permissionSchema = z.enum(PERMISSIONS);
/** A permission name, such as `campaign.publish`. */
export type Permission = z.infer<typeof permissionSchema>;

/** A role: a named set of permissions. Built-in roles and custom ones share this shape. */
export const roleSchema = z.object({
  /** Its id, which role assignments name: a built-in one (`campaign-manager`...) or your own. */
  id: idSchema,
  /** A name people recognise it by. */
  name: z.string().min(1),
  /** What it is for. */
  description: z.string().optional(),
  /** What holding it allows, such as `campaign.write` or `campaign.publish`. */
  permissions: z.array(permissionSchema),
});
/**
 * A role: a named set of permissions, given to users by role assignments. Built-in roles and custom ones
 * share this shape.
 *
 * @interface
 */
export type Role = z.infer<typeof roleSchema>;

/** The ids of the four built-in roles. */
export type BuiltInRoleId =
  | "campaign-administrator"
  | "campaign-approver"
  | "campaign-manager"
  | "campaign-viewer";

/** The four built-in roles of the reference product. */
export const BUILT_IN_ROLES: Readonly<Record<BuiltInRoleId, Role>> = {
  "campaign-administrator": {
    id: "campaign-administrator",
    name: "Campaign administrator",
    description: "Everything, including channel configurations, audiences and role assignments.",
    permissions: [...PERMISSIONS],
  },
  "campaign-approver": {
    id: "campaign-approver",
    name: "Campaign approver",
    description: "Writes, publishes and approves campaigns.",
    permissions: [
      "campaign.read",
      "campaign.write",
      "campaign.delete",
      "campaign.publish",
      "campaign.approve",
      "campaign-report.read",
    ],
  },
  "campaign-manager": {
    id: "campaign-manager",
    name: "Campaign manager",
    description: "Writes campaigns; can't publish them, so must request approval.",
    permissions: ["campaign.read", "campaign.write", "campaign.delete", "campaign-report.read"],
  },
  "campaign-viewer": {
    id: "campaign-viewer",
    name: "Campaign viewer",
    description: "Reads campaigns and their reports.",
    permissions: ["campaign.read", "campaign-report.read"],
  },
};

/** Whether `roleId` names a built-in role. */
export function isBuiltInRole(roleId: string): roleId is BuiltInRoleId {
  return Object.hasOwn(BUILT_IN_ROLES, roleId);
}

/** Gives a user a role. */
export const roleAssignmentSchema = z.object({
  /** The user who holds the role. */
  userId: idSchema,
  /** The role held: a built-in role's id or a custom role's. */
  roleId: idSchema,
  /**
   * When it was assigned: with the user and the role, it names the assignment's invitation, so a role
   * revoked and given again invites again, while assigning it twice invites once.
   */
  assignedAt: instantSchema.optional(),
});
/** Gives a user a role. */
export type RoleAssignment = z.infer<typeof roleAssignmentSchema>;

/**
 * Who performs an operation: a user id, the roles that user holds (built-in ids or custom role ids), and the
 * groups they belong to (approval policies can match on groups).
 */
export const actorSchema = z.object({
  id: idSchema,
  roles: z.array(idSchema).default([]),
  groups: z.array(idSchema).default([]),
});
/** Who performs an operation. */
export type Actor = z.input<typeof actorSchema>;

/**
 * The permissions an actor holds through its roles. Unknown role ids grant nothing.
 *
 * @param customRoles - custom roles by id, beside the built-in ones.
 */
export function permissionsOf(
  actor: Pick<Actor, "roles">,
  customRoles: ReadonlyMap<string, Role> | readonly Role[] = [],
): Set<Permission> {
  const byId = Array.isArray(customRoles)
    ? new Map((customRoles as readonly Role[]).map((role) => [role.id, role]))
    : (customRoles as ReadonlyMap<string, Role>);
  const granted = new Set<Permission>();
  for (const roleId of actor.roles ?? []) {
    const role = isBuiltInRole(roleId) ? BUILT_IN_ROLES[roleId] : byId.get(roleId);
    for (const permission of role?.permissions ?? []) granted.add(permission);
  }
  return granted;
}

/**
 * Whether `actor` holds `permission` through any of its roles.
 *
 * @example
 * ```ts
 * can({ id: "ana", roles: ["campaign-manager"] }, "campaign.publish"); // false: managers request approval
 * ```
 */
export function can(
  actor: Pick<Actor, "roles">,
  permission: Permission,
  customRoles?: ReadonlyMap<string, Role> | readonly Role[],
): boolean {
  return permissionsOf(actor, customRoles).has(permission);
}

/** The built-in roles that grant `permission`, least powerful first: what to suggest when it is missing. */
export function builtInRolesGranting(permission: Permission): BuiltInRoleId[] {
  return (Object.keys(BUILT_IN_ROLES) as BuiltInRoleId[])
    .filter((id) => BUILT_IN_ROLES[id].permissions.includes(permission))
    .sort((a, b) => BUILT_IN_ROLES[a].permissions.length - BUILT_IN_ROLES[b].permissions.length);
}
