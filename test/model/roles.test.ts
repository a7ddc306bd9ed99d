import { describe, expect, it } from "vitest";
import {
  BUILT_IN_ROLES,
  builtInRolesGranting,
  can,
  isBuiltInRole,
  PERMISSIONS,
  type Permission,
  permissionsOf,
  type Role,
} from "../../src/model/roles.js";

// Written out by hand from DOMAIN.md, deliberately not derived from BUILT_IN_ROLES: a change to the roles must
// show up here as a failing row. Columns in this order:
const COLUMNS = [
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
const MATRIX: Record<string, readonly (0 | 1)[]> = {
  "campaign-administrator": [1, 1, 1, 1, 1, 1, 1, 1, 1],
  "campaign-approver": [1, 1, 1, 1, 1, 1, 0, 0, 0],
  "campaign-manager": [1, 1, 1, 0, 0, 1, 0, 0, 0],
  "campaign-viewer": [1, 0, 0, 0, 0, 1, 0, 0, 0],
};

const cells = Object.entries(MATRIX).flatMap(([role, row]) =>
  COLUMNS.map((permission, i) => ({ role, permission, granted: row[i] === 1 })),
);

describe("built-in roles", () => {
  it("has exactly the four roles and nine permissions of the table", () => {
    expect(Object.keys(BUILT_IN_ROLES).sort()).toEqual(Object.keys(MATRIX).sort());
    expect([...PERMISSIONS]).toEqual([...COLUMNS]);
    expect(cells).toHaveLength(36);
  });

  it.each(cells)("$role grants $permission: $granted", ({ role, permission, granted }) => {
    expect(can({ roles: [role] }, permission)).toBe(granted);
    expect(permissionsOf({ roles: [role] }).has(permission)).toBe(granted);
  });

  it("holds no permission twice in any role", () => {
    for (const role of Object.values(BUILT_IN_ROLES)) {
      expect(new Set(role.permissions).size).toBe(role.permissions.length);
    }
  });

  it("recognizes built-in ids only", () => {
    expect(isBuiltInRole("campaign-viewer")).toBe(true);
    expect(isBuiltInRole("toString")).toBe(false);
    expect(isBuiltInRole("campaign-owner")).toBe(false);
  });
});

describe("permissionsOf and can", () => {
  const auditor: Role = { id: "auditor", name: "Auditor", permissions: ["campaign-report.read"] };
  const publisher: Role = { id: "publisher", name: "Publisher", permissions: ["campaign.publish"] };

  it("grants nothing to an actor without roles", () => {
    expect([...permissionsOf({})]).toEqual([]);
    expect([...permissionsOf({ roles: [] })]).toEqual([]);
    expect(can({ roles: [] }, "campaign.read")).toBe(false);
  });

  it("grants nothing for unknown role ids, including prototype keys", () => {
    for (const roleId of ["campaign-owner", "admin", "constructor", "__proto__", "hasOwnProperty"]) {
      expect([...permissionsOf({ roles: [roleId] })]).toEqual([]);
    }
  });

  it("reads custom roles given as an array or as a map", () => {
    expect([...permissionsOf({ roles: ["auditor"] }, [auditor])]).toEqual(["campaign-report.read"]);
    expect([...permissionsOf({ roles: ["auditor"] }, new Map([["auditor", auditor]]))]).toEqual([
      "campaign-report.read",
    ]);
    expect(can({ roles: ["auditor"] }, "campaign.read", [auditor])).toBe(false);
  });

  it("ignores a custom role the actor does not hold", () => {
    expect(can({ roles: ["campaign-viewer"] }, "campaign.publish", [publisher])).toBe(false);
  });

  it("unions the permissions of several roles", () => {
    const granted = permissionsOf({ roles: ["campaign-manager", "publisher", "nobody"] }, [publisher]);
    expect([...granted].sort()).toEqual(
      [
        "campaign-report.read",
        "campaign.delete",
        "campaign.publish",
        "campaign.read",
        "campaign.write",
      ].sort(),
    );
  });

  it("never lets a custom role shadow a built-in id", () => {
    const impostor: Role = { id: "campaign-viewer", name: "Impostor", permissions: ["role.manage"] };
    expect(can({ roles: ["campaign-viewer"] }, "role.manage", [impostor])).toBe(false);
    expect(can({ roles: ["campaign-viewer"] }, "campaign.read", [impostor])).toBe(true);
  });
});

describe("builtInRolesGranting", () => {
  const expected: Record<Permission, string[]> = {
    "campaign.read": ["campaign-viewer", "campaign-manager", "campaign-approver", "campaign-administrator"],
    "campaign-report.read": [
      "campaign-viewer",
      "campaign-manager",
      "campaign-approver",
      "campaign-administrator",
    ],
    "campaign.write": ["campaign-manager", "campaign-approver", "campaign-administrator"],
    "campaign.delete": ["campaign-manager", "campaign-approver", "campaign-administrator"],
    "campaign.publish": ["campaign-approver", "campaign-administrator"],
    "campaign.approve": ["campaign-approver", "campaign-administrator"],
    "channel-configuration.manage": ["campaign-administrator"],
    "audience.manage": ["campaign-administrator"],
    "role.manage": ["campaign-administrator"],
  };

  it.each(Object.entries(expected))(
    "lists the roles granting %s, least powerful first",
    (permission, roles) => {
      expect(builtInRolesGranting(permission as Permission)).toEqual(roles);
    },
  );
});
