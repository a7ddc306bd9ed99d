import type { ValidationIssue } from "../errors.js";
import { ID_MAX_LENGTH, idSchema } from "../model/common.js";

/**
 * Why `value` can't be an id, or `undefined` when it can. Cheap on anything a caller passes: a 4 MB string
 * is refused on its length alone, and an object that merely pretends to be a string is never converted.
 */
export function idIssue(value: unknown): string | undefined {
  if (typeof value !== "string") return `Expected an id: a string of 1 to ${ID_MAX_LENGTH} characters`;
  if (value.length > ID_MAX_LENGTH) {
    return `An id is at most ${ID_MAX_LENGTH} characters; this one has ${value.length}`;
  }
  const result = idSchema.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}

/** What the audit log may say about an id it can't hold: where it was, its type, and its length. */
export interface RefusedId {
  path: string;
  type: string;
  length?: number;
}

/** The ids an operation names, screened before anything reads, stores or echoes them. */
export interface ScreenedIds {
  /** The actor id to audit: the caller's, or a placeholder when it can't be an id. */
  actorId: string;
  /** The object id to audit: the caller's, `(none)` when absent, or a placeholder when it can't be an id. */
  objectId: string;
  /** One issue per id that can't be one; empty when all can. */
  issues: ValidationIssue[];
  /** The refused ids, described for the audit entry, which can't hold them. */
  refused: RefusedId[];
}

/** What the audit log records in place of an id it can't hold. */
export const INVALID_ID = "(invalid)";

// More groups than any directory assigns one user; each is stored with approval requests.
const MAX_GROUPS = 1_000;

/**
 * Screens the actor, the object id and the other ids of one operation. `ids` maps each id's path (as the
 * caller named it: `id`, `requestId`, `userId`) to its value, `objectIdPath` saying which is the object's; an
 * absent (`undefined`) id is for the operation's own validation to report, not this screen.
 */
export function screenIds(
  actor: unknown,
  objectIdPath: string,
  ids: Readonly<Record<string, unknown>>,
): ScreenedIds {
  const screened: ScreenedIds = { actorId: INVALID_ID, objectId: "(none)", issues: [], refused: [] };
  const check = (path: string, value: unknown): boolean => {
    const message = idIssue(value);
    if (message === undefined) return true;
    screened.issues.push({ path, message });
    const refused: RefusedId = { path, type: value === null ? "null" : typeof value };
    if (typeof value === "string") refused.length = value.length;
    screened.refused.push(refused);
    return false;
  };
  const isObject = typeof actor === "object" && actor !== null;
  const { id: actorId, groups }: { id?: unknown; groups?: unknown } = isObject ? actor : { id: actor };
  if (check(isObject ? "actor.id" : "actor", actorId)) screened.actorId = actorId as string;
  if (groups !== undefined && !(Array.isArray(groups) && groups.length <= MAX_GROUPS)) {
    screened.issues.push({
      path: "actor.groups",
      message: `Expected an array of at most ${MAX_GROUPS} group ids`,
    });
  } else {
    for (const [i, group] of (groups ?? []).entries()) check(`actor.groups.${i}`, group);
  }
  for (const [path, value] of Object.entries(ids)) {
    if (value === undefined) continue;
    const valid = check(path, value);
    if (path === objectIdPath) screened.objectId = valid ? (value as string) : INVALID_ID;
  }
  return screened;
}
