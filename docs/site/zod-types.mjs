// @ts-check
/**
 * The zod-inferred domain types (`type Campaign = z.infer<typeof campaignSchema>`) as documented fields.
 * typedoc-plugin-zod turns each such alias into the type it stands for, and `@interface` on the alias lists its
 * fields, with the TSDoc written on the schema's shape. What this adds:
 * - `@interface` on a union of object types (Campaign, ChannelConfiguration) keeps the fields only some
 *   branches have, saying which branch has each, where TypeDoc alone would drop them (and warn);
 * - a field declared with a named schema (`schedule: scheduleSchema.optional()`) links to the type named
 *   after it (`Schedule`) instead of spelling it out, when the two are the same type;
 * - a field declared in a zod shape shows no "default value" (TypeDoc would print the schema expression).
 */
import {
  ArrayType,
  Comment,
  Converter,
  i18n,
  ReferenceType,
  ReflectionFlag,
  ReflectionKind,
  TypeScript as ts,
} from "typedoc";

/** @param {import("typedoc").Application} app */
export function documentZodTypes(app) {
  completeUnionInterfaces(app);
  linkNamedFieldTypes(app);
  hideZodExpressions(app);
  // A field spread into every branch of a union (`...storedFields`) is "defined" once per branch, at the same
  // place: say it once.
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    for (const reflection of Object.values(context.project.reflections)) {
      const seen = new Set();
      reflection.sources = reflection.sources?.filter((source) => {
        const key = `${source.fullFileName}:${source.line}:${source.character}`;
        return seen.has(key) ? false : seen.add(key);
      });
    }
  });
}

/**
 * `@interface` on a union of object types: TypeDoc keeps the fields every branch has and warns that it drops
 * the others. Add those back, optional, each saying which branch has it (found by the branch's literal-typed
 * fields, `type: "api-triggered"`), and silence the warning for the aliases so completed.
 */
function completeUnionInterfaces(/** @type {import("typedoc").Application} */ app) {
  /** @type {Set<ts.Node>} */
  const completed = new Set();
  quietWarnings(app, completed);

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
}

/** A type's field has no default value: what TypeDoc would show is the zod expression declaring it. */
function hideZodExpressions(/** @type {import("typedoc").Application} */ app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.defaultValue === undefined || !reflection.kindOf(ReflectionKind.Property)) return;
    const declaration = context.getSymbolFromReflection(reflection)?.getDeclarations()?.[0];
    if (declaration !== undefined && ts.isPropertyAssignment(declaration))
      reflection.defaultValue = undefined;
  });
}

/**
 * Drops two warnings that say nothing true here: the union one, for the aliases `completed` handles; and
 * "has multiple declarations with a comment" for a field spread into every branch (`...storedFields`), whose
 * declarations are all the same one. That warning is held until the list of locations that follows it
 * shows whether they differ.
 */
function quietWarnings(
  /** @type {import("typedoc").Application} */ app,
  /** @type {Set<ts.Node>} */ completed,
) {
  const unionWarning = i18n.converting_union_as_interface();
  const warn = app.logger.warn.bind(app.logger);
  const info = app.logger.info.bind(app.logger);
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

/**
 * The schema a zod field is declared with, when it is a named one: `scheduleSchema.optional()` ->
 * `scheduleSchema`, `z.array(permissionSchema).min(1)` -> `permissionSchema`, as an array.
 */
function namedSchema(/** @type {ts.Expression} */ expression) {
  let node = expression;
  while (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    const callee = node.expression;
    if (
      ts.isIdentifier(callee.expression) &&
      callee.expression.text === "z" &&
      callee.name.text === "array"
    ) {
      const [element] = node.arguments;
      return element && ts.isIdentifier(element) ? { name: element.text, array: true } : undefined;
    }
    node = callee.expression;
  }
  return ts.isIdentifier(node) && node.text.endsWith("Schema")
    ? { name: node.text, array: false }
    : undefined;
}

/** Fields declared with a named schema link to the type named after it (`fooBarSchema` -> `FooBar`). */
function linkNamedFieldTypes(/** @type {import("typedoc").Application} */ app) {
  /** @typedef {{ reflection: import("typedoc").DeclarationReflection, type: ts.Type }} Typed */
  /** @type {(Typed & { schema: { name: string, array: boolean } })[]} */
  const fields = [];
  /** @type {Map<string, Typed>} */
  const named = new Map();
  /** @type {ts.TypeChecker | undefined} */
  let checker;
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    const symbol = context.getSymbolFromReflection(reflection);
    const declaration = symbol?.getDeclarations()?.[0];
    if (symbol === undefined || declaration === undefined) return;
    checker = context.checker;
    if (reflection.kindOf(ReflectionKind.TypeAlias | ReflectionKind.Interface)) {
      if (ts.isTypeAliasDeclaration(declaration)) {
        named.set(reflection.name, { reflection, type: checker.getTypeAtLocation(declaration) });
      }
    } else if (reflection.kindOf(ReflectionKind.Property) && ts.isPropertyAssignment(declaration)) {
      const schema = namedSchema(declaration.initializer);
      if (schema !== undefined) fields.push({ reflection, schema, type: checker.getTypeOfSymbol(symbol) });
    }
  });
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    if (checker === undefined) return;
    const { isTypeAssignableTo, isArrayType, getTypeArguments, getNonNullableType } = checker;
    const same = (/** @type {ts.Type} */ a, /** @type {ts.Type} */ b) =>
      isTypeAssignableTo(a, b) && isTypeAssignableTo(b, a);
    for (const { reflection, schema, type } of fields.splice(0)) {
      const name = schema.name.replace(/Schema$/, "");
      const target = named.get(name.charAt(0).toUpperCase() + name.slice(1));
      if (target === undefined || !target.reflection.project) continue;
      const value = getNonNullableType(type);
      const element = !schema.array ? value : isArrayType(value) ? getTypeArguments(value)[0] : undefined;
      if (element === undefined || !same(element, target.type)) continue;
      const reference = ReferenceType.createResolvedReference(
        target.reflection.name,
        target.reflection,
        context.project,
      );
      reflection.type = schema.array ? new ArrayType(reference) : reference;
    }
    named.clear();
  });
}
