// @ts-check
/**
 * The docs site's rules, as a TypeDoc plugin that typedoc.json loads:
 * - the guides' places in the sidebar and their addresses (guides.mjs, from docs/site/navigation.json);
 * - the reference: each module is in "API reference", named by its import path (the `@module` tag of each
 *   entry file); each exported symbol is grouped by the capability folder it is written in (src/kit -> Kit,
 *   src/ports -> Ports, src/model -> Domain types, Schemas or Domain rules...), unless its TSDoc names a
 *   `@group`, and a re-export is grouped as the symbol it re-exports;
 * - the zod-inferred domain types as documented fields (zod-types.mjs).
 */
import { relative, sep } from "node:path";
import { Comment, CommentTag, Converter, ReflectionKind } from "typedoc";
import { placeGuides } from "./guides.mjs";
import { documentZodTypes } from "./zod-types.mjs";

/** Folder (under src/) -> group, most specific first. */
const FOLDER_GROUPS = [
  ["kit/prerequisites/", "Prerequisites"],
  ["kit/", "Kit"],
  ["observe/", "Kit"],
  ["executions/", "Executions"],
  ["dispatch/", "Dispatcher"],
  ["schedule/", "Schedule"],
  ["ports/", "Ports"],
  ["drivers/", "Drivers"],
  ["http/", "HTTP"],
  ["testing/", "Testing"],
  ["cli/", "CLI"],
  ["errors.ts", "Errors"],
];
const TYPE_KINDS = ReflectionKind.Interface | ReflectionKind.TypeAlias | ReflectionKind.Class;

/** @param {import("typedoc").Application} app */
export function load(app) {
  const root = `${process.cwd()}${sep}src${sep}`;

  /** The model folder holds three kinds of things a reader looks for separately. */
  function modelGroup(/** @type {import("typedoc").DeclarationReflection} */ reflection) {
    if (reflection.kindOf(TYPE_KINDS)) return "Domain types";
    if (reflection.name.endsWith("Schema")) return "Schemas";
    return "Domain rules";
  }

  function groupOf(/** @type {import("typedoc").DeclarationReflection} */ reflection) {
    const file = reflection.sources?.[0]?.fullFileName;
    if (file === undefined || !file.startsWith(root)) return undefined;
    const path = relative(root, file).split(sep).join("/");
    if (path.startsWith("model/")) return modelGroup(reflection);
    return FOLDER_GROUPS.find(([folder]) => path.startsWith(folder))?.[1];
  }

  const hasGroup = (/** @type {Comment | undefined} */ comment) =>
    comment?.blockTags.some((tag) => tag.tag === "@group" || tag.tag === "@category") ?? false;

  function tagGroup(
    /** @type {import("typedoc").DeclarationReflection} */ reflection,
    /** @type {string} */ group,
  ) {
    reflection.comment ??= new Comment();
    reflection.comment.blockTags.push(new CommentTag("@group", [{ kind: "text", text: group }]));
  }

  // Before GroupPlugin (at -100) reads the tags.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const project = context.project;
      for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
        if (!hasGroup(module.comment)) tagGroup(/** @type {any} */ (module), "API reference");
      }
      for (const reflection of project.getReflectionsByKind(
        ReflectionKind.SomeExport | ReflectionKind.Reference,
      )) {
        if (!reflection.parent?.kindOf(ReflectionKind.SomeModule | ReflectionKind.Project)) continue;
        const declaration = /** @type {import("typedoc").DeclarationReflection} */ (reflection);
        const target = declaration.isReference() ? declaration.tryGetTargetReflectionDeep() : declaration;
        if (!target?.isDeclaration()) continue;
        if (hasGroup(declaration.comment)) continue;
        const explicit = target.comment?.blockTags.find((tag) => tag.tag === "@group");
        const group = explicit ? Comment.combineDisplayParts(explicit.content).trim() : groupOf(target);
        if (group !== undefined) tagGroup(declaration, group);
      }
    },
    100,
  );

  placeGuides(app);
  documentZodTypes(app);
}
