import { format } from "date-fns";
import Handlebars, { type HelperOptions } from "handlebars";
import { isTimeZone } from "../../model/common.js";
import { spend } from "./budget.js";
import { eqHelper, fallbackHelper, formatDateHelper, jsonHelper } from "./helpers.js";

/**
 * The one Handlebars environment campaign templates compile in: isolated from the global `Handlebars`, so a
 * host's own helpers never leak into campaigns, with campaign-kit's helpers registered. Prerequisites check
 * templates against it and the dispatcher renders with it, so a template that passes the check renders.
 */
export const templateEnvironment = Handlebars.create();
templateEnvironment.registerHelper("fallback", fallbackHelper);
templateEnvironment.registerHelper("formatDate", formatDateHelper);
templateEnvironment.registerHelper("eq", eqHelper);
templateEnvironment.registerHelper("json", (value: unknown) => {
  const json = jsonHelper(value);
  spend(json.length);
  return json;
});

// `each` (which sections such as `{{#profile.items}}` also run through) charges every iteration and what it
// produced to the message's render budget, so no template can loop or grow without bound.
const builtInEach = templateEnvironment.helpers.each as Handlebars.HelperDelegate;
templateEnvironment.registerHelper("each", function (this: unknown, items: unknown, options: HelperOptions) {
  const body = options.fn;
  const counted = Object.assign((...args: Parameters<typeof body>) => {
    const out = body(...args);
    spend(out.length, 1);
    return out;
  }, body);
  return builtInEach.call(this, items, { ...options, fn: counted });
});

// `log` would let a template write to the host's console for every recipient: campaigns don't get it.
templateEnvironment.unregisterHelper("log");

/**
 * How each helper templates may call is called: its number of positional arguments, and whether it only
 * works as a block (`{{#each}}...{{/each}}`). Handlebars throws at render time otherwise, so the check
 * refuses it up front.
 */
const HELPER_ARITY: Readonly<Record<string, { min: number; max: number; block?: true }>> = {
  if: { min: 1, max: 1, block: true },
  unless: { min: 1, max: 1, block: true },
  each: { min: 1, max: 1, block: true },
  with: { min: 1, max: 1, block: true },
  lookup: { min: 2, max: 2 },
  fallback: { min: 1, max: 2 },
  formatDate: { min: 1, max: 3 },
  eq: { min: 2, max: 2 },
  json: { min: 1, max: 1 },
};

/** The helpers templates may call: Handlebars' built-ins and campaign-kit's own. */
export const TEMPLATE_HELPERS: ReadonlySet<string> = new Set(Object.keys(HELPER_ARITY));

/**
 * campaign-kit's own helpers, declared to the compiler so it calls them directly; and `log`, undeclared so a
 * bare `{{log}}` compiles as a variable rather than a call to the helper removed above.
 */
export const KNOWN_HELPERS = { fallback: true, formatDate: true, eq: true, json: true, log: false } as const;

/**
 * Collects what a template calls: every helper (anything given parameters, and subexpressions), and the
 * features campaigns don't support (partials, decorators) or arguments that can never work (a `formatDate`
 * pattern or zone written as a literal that date-fns rejects).
 */
class HelperCalls extends Handlebars.Visitor {
  readonly names = new Set<string>();
  readonly problems: string[] = [];

  override PartialStatement(): void {
    this.problems.push("Partials ({{> name}}) are not supported: write the content inline");
  }

  override PartialBlockStatement(): void {
    this.problems.push("Partial blocks ({{#> name}}) are not supported: write the content inline");
  }

  override Decorator(): void {
    this.problems.push("Decorators ({{* name}}) are not supported");
  }

  override DecoratorBlock(): void {
    this.problems.push("Decorators ({{#* name}}) are not supported");
  }

  private checkFormatDate(params: hbs.AST.Expression[]): void {
    const [, pattern, zone] = params;
    if (pattern?.type === "StringLiteral") {
      const literal = (pattern as hbs.AST.StringLiteral).value;
      try {
        format(new Date(0), literal);
      } catch (error) {
        this.problems.push(`formatDate pattern '${literal}' is invalid: ${(error as Error).message}`);
      }
    }
    if (zone?.type === "StringLiteral" && !isTimeZone((zone as hbs.AST.StringLiteral).value)) {
      this.problems.push(
        `formatDate zone '${(zone as hbs.AST.StringLiteral).value}' is not an IANA time zone`,
      );
    }
  }

  private note(
    node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression,
    kind: "mustache" | "block" | "subexpression",
  ) {
    // A literal in a helper's place names a helper too: `{{"name" x}}` and `{{1 x}}` call helpers "name", "1".
    const path = node.path as hbs.AST.PathExpression | hbs.AST.Literal;
    if (!("original" in path)) return;
    const name = String(path.original);
    const arity = Object.hasOwn(HELPER_ARITY, name) ? HELPER_ARITY[name] : undefined;
    // A bare `{{lookup}}` calls the helper, not a variable of that name: Handlebars prefers helpers.
    const bare = path.type === "PathExpression" && (path as hbs.AST.PathExpression).parts.length === 1;
    const called =
      kind === "subexpression" ||
      node.params.length > 0 ||
      (node.hash?.pairs.length ?? 0) > 0 ||
      (arity !== undefined && bare);
    if (!called) return;
    this.names.add(name);
    if (!arity) return;
    const count = node.params.length;
    if (count < arity.min || count > arity.max) {
      const expected = arity.min === arity.max ? `${arity.min}` : `${arity.min} to ${arity.max}`;
      this.problems.push(`'${name}' takes ${expected} argument${arity.max > 1 ? "s" : ""}, not ${count}`);
    }
    if (arity.block && kind !== "block") {
      this.problems.push(`'${name}' works as a block only: write {{#${name} ...}}...{{/${name}}}`);
    }
    if (name === "formatDate") this.checkFormatDate(node.params);
  }

  override MustacheStatement(node: hbs.AST.MustacheStatement): void {
    this.note(node, "mustache");
    super.MustacheStatement(node);
  }

  override BlockStatement(node: hbs.AST.BlockStatement): void {
    this.note(node, "block");
    super.BlockStatement(node);
  }

  override SubExpression(node: hbs.AST.SubExpression): void {
    this.note(node, "subexpression");
    super.SubExpression(node);
  }
}

/** Why a template can't render. */
export interface TemplateError {
  /**
   * `syntax`: it doesn't parse; `unknown-helper`: it calls a helper that doesn't exist; `unsupported`: it uses
   * partials or decorators, or gives `formatDate` a literal pattern or zone that can't work.
   */
  reason: "syntax" | "unknown-helper" | "unsupported";
  /** The parser's message on one line, or the unknown helpers named. */
  message: string;
}

/**
 * Why `source` can't render, or `undefined` when it can: a syntax error, or a call to a helper that doesn't
 * exist. Only parses and walks the template: it never runs it.
 *
 * @example
 * ```ts
 * templateError("Hi {{name"); // { reason: "syntax", message: "Parse error on line 1: Expecting 'ID', ..." }
 * templateError("{{#if (equals a b)}}x{{/if}}"); // { reason: "unknown-helper", message: "Unknown helper 'equals'" }
 * ```
 */
export function templateError(source: string): TemplateError | undefined {
  // Every trigger of an API-triggered campaign checks its prerequisites, templates included: remember the
  // answers, since parsing is the costly part and a campaign's templates rarely change.
  if (checked.has(source)) return checked.get(source);
  const error = findTemplateError(source);
  if (checked.size >= CHECKED_LIMIT) checked.delete(checked.keys().next().value as string);
  checked.set(source, error);
  return error;
}

const CHECKED_LIMIT = 1000;
const checked = new Map<string, TemplateError | undefined>();

function findTemplateError(source: string): TemplateError | undefined {
  let program: hbs.AST.Program;
  try {
    program = templateEnvironment.parse(source);
  } catch (error) {
    return { reason: "syntax", message: oneLine(error instanceof Error ? error.message : String(error)) };
  }
  const calls = new HelperCalls();
  calls.accept(program);
  const unknown = [...calls.names].filter((name) => !TEMPLATE_HELPERS.has(name));
  if (unknown.length === 0 && calls.problems.length > 0) {
    return { reason: "unsupported", message: calls.problems.join("; ") };
  }
  if (unknown.length === 0) return undefined;
  const names = unknown.map((n) => `'${n}'`).join(", ");
  return { reason: "unknown-helper", message: `Unknown helper${unknown.length > 1 ? "s" : ""} ${names}` };
}

// The parser's message quotes the source line and a caret under it; both are noise once flattened into a
// sentence, while "Parse error on line N" and the "Expecting ..." line are what the reader acts on.
function oneLine(message: string): string {
  const lines = message.split("\n");
  if (lines[0]?.startsWith("Parse error") && lines.length >= 4) {
    return [lines[0], ...lines.slice(3)].join(" ").trim();
  }
  return lines.join(" ").trim();
}
