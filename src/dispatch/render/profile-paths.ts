import Handlebars from "handlebars";
import { templateEnvironment } from "./environment.js";

/**
 * Collects every variable a template reads from `profile`: `{{profile.firstName}}`, `{{@root.profile.x}}`,
 * `{{../profile.x}}` inside a block, `{{#with profile}}`, and as a helper's argument
 * (`{{fallback profile.firstName "there"}}`). A `profile` key of a context item (`{{#each context.items}}
 * {{profile}}{{/each}}`) is reported too: better one question than a message rendered without its data.
 */
class ProfilePaths extends Handlebars.Visitor {
  readonly found = new Set<string>();

  override PathExpression(path: hbs.AST.PathExpression): void {
    const parts = path.data && path.parts[0] === "root" ? path.parts.slice(1) : path.parts;
    if (parts[0] === "profile")
      this.found.add(`profile${parts.length > 1 ? `.${parts.slice(1).join(".")}` : ""}`);
  }
}

/**
 * The profile variables `source` reads, in the order first met (`["profile.firstName"]`); `[]` when it reads
 * none, or when it doesn't parse (its syntax is the template check's to report).
 *
 * @example
 * ```ts
 * profileVariables("Hi {{fallback profile.firstName 'there'}}, {{context.link}}"); // ["profile.firstName"]
 * ```
 */
export function profileVariables(source: string): string[] {
  let program: hbs.AST.Program;
  try {
    program = templateEnvironment.parse(source);
  } catch {
    return [];
  }
  const visitor = new ProfilePaths();
  visitor.accept(program);
  return [...visitor.found];
}
