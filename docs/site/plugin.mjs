// @ts-check
/**
 * The docs site's rules, as a TypeDoc plugin (typedoc.json loads it):
 * - guides: docs/kit.md is served at guides/kit.html, docs/channels/ses.md at guides/channels/ses.html (the
 *   `router` option names this plugin's router), whatever its title; a page's sidebar title is its frontmatter `title`, else its first heading; its section is its
 *   frontmatter `group`, else "Guides"; within a section, pages with a frontmatter `order` come first, lowest
 *   first, the rest by file name. So a new docs/*.md page needs nothing to appear.
 * - reference: each exported symbol is grouped by the capability folder it is written in (src/kit -> Kit,
 *   src/ports -> Ports...), unless its TSDoc names a `@group`; re-exports follow the symbol they re-export.
 * - zod types: `@interface` on a union of object types (Campaign, ChannelConfiguration) keeps the fields only
 *   some branches have, marked with the branch they belong to, where TypeDoc alone would drop them; and a
 *   field declared in a zod shape shows no "default value" (TypeDoc would print the schema expression).
 */
import { relative, sep } from "node:path";
import {
  Comment,
  CommentTag,
  Converter,
  i18n,
  KindRouter,
  ReflectionFlag,
  ReflectionKind,
  TypeScript as ts,
} from "typedoc";

/** Folder (under src/) -> group, most specific first. */
const FOLDER_GROUPS = [
  ["kit/prerequisites/", "Prerequisites"],
  ["kit/", "Kit"],
  ["executions/", "Executions"],
  ["dispatch/", "Dispatcher"],
  ["schedule/", "Schedule"],
  ["ports/", "Ports"],
  ["drivers/", "Drivers"],
  ["http/", "HTTP"],
  ["testing/", "Testing"],
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

  function tagGroup(/** @type {import("typedoc").DeclarationReflection} */ reflection, /** @type {string} */ group) {
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
      orderDocuments(project);
    },
    100,
  );

  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    document.frontmatter.group ??= "Guides";
    // Without a `title`, TypeDoc names the page after its path (`channels/twilio`): use its heading instead.
    const path = document.project.files.getReflectionPath(document);
    const stem = path?.replace(/\.md$/, "") ?? "";
    if (stem.endsWith(`/${document.name}`) || stem === document.name) {
      const heading = Comment.combineDisplayParts(document.content).match(/^# (.+)$/m)?.[1];
      if (heading !== undefined) document.name = heading.replaceAll("`", "");
    }
  });

  completeUnionInterfaces(app);

  const docs = `${process.cwd()}${sep}docs${sep}`;
  class SiteRouter extends KindRouter {
    /** @param {import("typedoc").RouterTarget} target */
    getIdealBaseName(target) {
      const file = target.isDocument() ? target.project.files.getReflectionPath(target) : undefined;
      if (file === undefined || !file.startsWith(docs)) return super.getIdealBaseName(target);
      return `guides/${relative(docs, file).split(sep).join("/").replace(/\.md$/, "")}`;
    }
  }
  app.renderer.defineRouter("campaign-kit", SiteRouter);
}

/** Pages with an `order` first (lowest first), then the others as TypeDoc found them (by file name). */
function orderDocuments(/** @type {import("typedoc").ProjectReflection} */ project) {
  const rank = (/** @type {import("typedoc").DocumentReflection} */ document) => {
    const order = Number(document.frontmatter.order);
    return Number.isFinite(order) ? order : Number.POSITIVE_INFINITY;
  };
  const byRank = (/** @type {any} */ a, /** @type {any} */ b) =>
    (a.isDocument() ? rank(a) : 0) - (b.isDocument() ? rank(b) : 0);
  project.documents?.sort(byRank);
  project.childrenIncludingDocuments?.sort(byRank);
}

/**
 * `@interface` on a union of object types: TypeDoc keeps the fields every branch has and warns that it drops
 * the others. Add those back, optional, each saying which branch has it (found by the branch's literal-typed
 * fields, `type: "api-triggered"`), and silence the warning for the aliases so completed.
 */
function completeUnionInterfaces(/** @type {import("typedoc").Application} */ app) {
  /** @type {Set<ts.Node>} */
  const completed = new Set();
  const unionWarning = i18n.converting_union_as_interface();
  const warn = app.logger.warn.bind(app.logger);
  const info = app.logger.info.bind(app.logger);
  // A field spread into every branch (`...storedFields`) has the same declaration once per branch, and
  // TypeDoc warns that it has several commented declarations; hold that warning until its list of locations
  // shows whether they differ.
  /** @type {any[] | undefined} */
  let held;
  const release = () => {
    if (held !== undefined) warn(...held);
    held = undefined;
  };
  app.logger.warn = (/** @type {any[]} */ ...args) => {
    release();
    if (args[0] === unionWarning && completed.has(args[1])) return;
    if (/has multiple declarations with a comment/.test(String(args[0]))) held = args;
    else warn(...args);
  };
  app.logger.info = (/** @type {any[]} */ ...args) => {
    const locations = String(args[0]).split("\n").slice(1);
    if (held !== undefined && locations.length > 1 && new Set(locations).size === 1) held = undefined;
    else {
      release();
      info(...args);
    }
  };

  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Interface)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const declaration = symbol?.getDeclarations()?.find(ts.isTypeAliasDeclaration);
    if (declaration === undefined) return;
    const type = context.checker.getTypeAtLocation(declaration);
    if (!type.isUnion()) return;
    completed.add(declaration);
    const common = new Set(type.getProperties().map((property) => property.name));
    context.converter.deferConversion(() => {
      const scope = context.withScope(reflection);
      const added = new Set();
      for (const branch of type.types) {
        const where = discriminants(context.checker, branch, common);
        for (const property of branch.getProperties()) {
          if (common.has(property.name) || added.has(property.name)) continue;
          added.add(property.name);
          context.converter.convertSymbol(scope, property);
          const member = reflection.getChildByName(property.name);
          if (member === undefined || !member.isDeclaration()) continue;
          member.setFlag(ReflectionFlag.Optional, true);
          member.comment ??= new Comment();
          member.comment.summary.push({ kind: "text", text: `\n\nOnly when ${where}.` });
        }
      }
    });
  });
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    // A type's field has no default value: what TypeDoc would show is the zod expression declaring it.
    if (reflection.defaultValue === undefined || !reflection.kindOf(ReflectionKind.Property)) return;
    const declaration = context.getSymbolFromReflection(reflection)?.getDeclarations()?.[0];
    if (declaration !== undefined && ts.isPropertyAssignment(declaration)) reflection.defaultValue = undefined;
  });
}

/** "`type` is `"api-triggered"`": the branch's common fields whose type is a single literal. */
function discriminants(
  /** @type {ts.TypeChecker} */ checker,
  /** @type {ts.Type} */ branch,
  /** @type {Set<string>} */ common,
) {
  const parts = [];
  for (const property of branch.getProperties()) {
    if (!common.has(property.name)) continue;
    const type = checker.getTypeOfSymbol(property);
    if (type.isStringLiteral()) parts.push(`\`${property.name}\` is \`"${type.value}"\``);
  }
  return parts.join(" and ") || "in some variants";
}
