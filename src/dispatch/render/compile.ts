import { CampaignKitError } from "../../errors.js";
import type { ContentAction } from "../../model/campaign.js";
import type { Channel } from "../../model/common.js";
import type { Profile } from "../../model/profile.js";
import type { RenderedContent } from "../../ports/channel.js";
import { DEFAULT_MAX_MESSAGE_CHARS, RenderTooLargeError, withinBudget } from "./budget.js";
import { KNOWN_HELPERS, templateEnvironment } from "./environment.js";
import { isBlank } from "./helpers.js";

/** What templates see: `{{profile.x}}` reads the profile's attributes, `{{context.x}}` the trigger's context. */
export interface TemplateData {
  /** The profile's attributes. */
  profile: Record<string, unknown>;
  /** The trigger's context, merged with the recipient's own. */
  context: Record<string, unknown>;
}

/** Options for {@link compileAction}. */
export interface CompileActionOptions {
  /** Named in error messages. */
  campaignId?: string;
  /** The experiment treatment whose content this is, named in error messages. */
  treatmentId?: string;
  /**
   * Render templates made only of text and plain `{{variables}}` by direct concatenation instead of through
   * Handlebars (same output, several times faster). Defaults to `true`; tests turn it off to compare.
   */
  fastPath?: boolean;
  /**
   * The most characters one rendered message may hold, all fields together; defaults to 1,000,000. Beyond it,
   * or past a bound on template loops, {@link CompiledAction.render} throws `RenderTooLargeError`.
   */
  maxChars?: number;
}

/** An action's content compiled once, rendered per recipient. */
export interface CompiledAction {
  /** The action's channel. */
  readonly channel: Channel;
  /**
   * The variables every recipient must have (dotted paths such as `profile.firstName`): those used as plain
   * `{{mustaches}}` (or as the date of `formatDate`) at the top level of a template, not inside `fallback`
   * nor inside a block (`{{#if}}`, `{{#each}}`...), whose content is conditional.
   */
  readonly variables: readonly string[];
  /** The first required variable that is `undefined`, `null` or `""` for this recipient, or `undefined`. */
  findMissing(profile: Profile, context: Record<string, unknown>): string | undefined;
  /**
   * Renders every field. Call {@link findMissing} first: rendering does not check again. Throws
   * `RenderTooLargeError` when the message would exceed its size or loop budget.
   */
  render(profile: Profile, context: Record<string, unknown>): RenderedContent;
}

const env = templateEnvironment;
const escapeHtml = env.Utils.escapeExpression;

interface Lookup {
  name: string;
  parts: readonly string[];
}
type Segment = string | { lookup: Lookup; escape: boolean };
/** Renders one field; `data` is built lazily, only when Handlebars itself has to run. */
type Field = (profile: Record<string, unknown>, context: Record<string, unknown>) => string;

/**
 * Follows a path the way Handlebars does: own properties only, so `constructor` and friends stay hidden. The
 * root is picked by hand rather than from a `{ profile, context }` object: that saves an allocation per
 * recipient on the hot path.
 */
function resolve(
  profile: Record<string, unknown>,
  context: Record<string, unknown>,
  parts: readonly string[],
): unknown {
  const root = parts[0];
  let value: unknown = root === "profile" ? profile : root === "context" ? context : undefined;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (value === null || value === undefined) return undefined;
    const next = (value as Record<string, unknown>)[part];
    if (next === undefined || next === null) return next;
    if (!Object.hasOwn(Object(value), part)) return undefined;
    value = next;
  }
  return value;
}

function isHelper(name: string): boolean {
  return Object.hasOwn(env.helpers, name);
}

function asLookup(node: hbs.AST.Expression): Lookup | undefined {
  if (node.type !== "PathExpression") return undefined;
  const path = node as hbs.AST.PathExpression;
  if (path.data || path.depth > 0 || path.parts.length === 0) return undefined;
  return { name: path.parts.join("."), parts: path.parts };
}

/** Walks the top level of a template once: its required variables, and its segments when it is simple. */
function analyse(program: hbs.AST.Program): { required: Lookup[]; segments: Segment[] | undefined } {
  const required: Lookup[] = [];
  let segments: Segment[] | undefined = [];
  for (const statement of program.body) {
    if (statement.type === "ContentStatement") {
      segments?.push((statement as hbs.AST.ContentStatement).value);
      continue;
    }
    if (statement.type === "CommentStatement") continue;
    if (statement.type !== "MustacheStatement") {
      segments = undefined;
      continue;
    }
    const mustache = statement as hbs.AST.MustacheStatement;
    const head =
      mustache.path.type === "PathExpression" ? (mustache.path as hbs.AST.PathExpression) : undefined;
    const plain = mustache.params.length === 0 && !mustache.hash;
    if (head && plain && !(head.parts.length === 1 && isHelper(head.original))) {
      const lookup = asLookup(head);
      if (lookup) {
        required.push(lookup);
        segments?.push({ lookup, escape: mustache.escaped });
        continue;
      }
    } else if (head?.original === "formatDate" && mustache.params[0]) {
      const lookup = asLookup(mustache.params[0]);
      if (lookup) required.push(lookup);
    }
    segments = undefined;
  }
  return { required, segments };
}

function compileField(source: string, html: boolean, where: string, fastPath: boolean): [Field, Lookup[]] {
  let program: hbs.AST.Program;
  try {
    program = env.parse(source);
  } catch (error) {
    throw templateError(where, error);
  }
  const { required, segments } = analyse(program);
  const template = env.compile(program, { noEscape: !html, knownHelpers: KNOWN_HELPERS });
  if (!segments || !fastPath) {
    try {
      template({ profile: {}, context: {} }); // Handlebars compiles lazily: surface its errors now.
    } catch (error) {
      throw templateError(where, error);
    }
    return [(profile, context) => template({ profile, context }), required];
  }
  if (segments.length === 1 && typeof segments[0] === "string") {
    const text = segments[0];
    return [() => text, required];
  }
  const field: Field = (profile, context) => {
    let out = "";
    for (const segment of segments) {
      if (typeof segment === "string") {
        out += segment;
        continue;
      }
      const value = resolve(profile, context, segment.lookup.parts);
      if (value === undefined || value === null) continue;
      // Handlebars calls functions it finds; leave that rare case to it.
      if (typeof value === "function") return template({ profile, context });
      out += html && segment.escape ? escapeHtml(value as string) : value;
    }
    return out;
  };
  return [field, required];
}

function templateError(where: string, cause: unknown): CampaignKitError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CampaignKitError("TEMPLATE_INVALID", `The template of ${where} does not compile: ${reason}`, {
    cause,
    details: { where },
  });
}

/**
 * Compiles every template of a campaign action once, up front, and returns what renders it per recipient.
 * Email `html` is HTML-escaped; every other field (subject, text, SMS, push, webhook payload) is not. Helpers:
 * `fallback` and `formatDate` (see their docs). A syntax error anywhere throws at once.
 *
 * @throws CampaignKitError `TEMPLATE_INVALID`, naming the action's channel and the field.
 * @example
 * ```ts
 * const compiled = compileAction({
 *   channel: "email",
 *   channelConfigurationId: "news",
 *   content: { subject: "Hi {{profile.firstName}}", text: "Reset: {{context.resetLink}}" },
 * });
 * compiled.findMissing(profile, context); // "profile.firstName" when it is absent or ""
 * compiled.render(profile, context); // { channel: "email", subject: "Hi Ana", text: "Reset: https://..." }
 * ```
 */
export function compileAction(action: ContentAction, options: CompileActionOptions = {}): CompiledAction {
  const fastPath = options.fastPath ?? true;
  const maxChars = options.maxChars ?? DEFAULT_MAX_MESSAGE_CHARS;
  const prefix = options.campaignId === undefined ? "" : `campaign "${options.campaignId}", `;
  const treatment = options.treatmentId === undefined ? "" : `, treatment "${options.treatmentId}"`;
  const required = new Map<string, Lookup>();
  const field = (name: string, source: string, html = false): Field => {
    const [render, lookups] = compileField(
      source,
      html,
      `${prefix}${action.channel} action${treatment}, field "${name}"`,
      fastPath,
    );
    for (const lookup of lookups) if (!required.has(lookup.name)) required.set(lookup.name, lookup);
    return render;
  };
  const render = compileRender(action, field);
  const lookups = [...required.values()];
  return {
    channel: action.channel,
    variables: lookups.map((lookup) => lookup.name),
    findMissing(profile, context) {
      for (const lookup of lookups)
        if (isBlank(resolve(profile.attributes, context, lookup.parts))) return lookup.name;
      return undefined;
    },
    render: (profile, context) =>
      withinBudget(maxChars, () => {
        const content = render(profile.attributes, context);
        const size = contentSize(content);
        if (size > maxChars) {
          throw new RenderTooLargeError(
            `The rendered message is ${size} characters; the limit is ${maxChars}`,
          );
        }
        return content;
      }),
  };
}

/** The characters of every field of `content`, push `data` included. */
function contentSize(content: RenderedContent): number {
  let size = 0;
  for (const key in content) {
    const value = (content as unknown as Record<string, unknown>)[key];
    if (typeof value === "string") size += value.length;
    else if (value !== null && typeof value === "object") {
      for (const inner in value) size += String((value as Record<string, unknown>)[inner]).length;
    }
  }
  return size;
}

function compileRender(
  action: ContentAction,
  field: (name: string, source: string, html?: boolean) => Field,
): (profile: Record<string, unknown>, context: Record<string, unknown>) => RenderedContent {
  switch (action.channel) {
    case "email": {
      const { subject, html, text } = action.content;
      const renderSubject = field("subject", subject);
      const renderHtml = html === undefined ? undefined : field("html", html, true);
      const renderText = text === undefined ? undefined : field("text", text);
      return (profile, context) => {
        const content: Extract<RenderedContent, { channel: "email" }> = {
          channel: "email",
          subject: renderSubject(profile, context),
        };
        if (renderHtml) content.html = renderHtml(profile, context);
        if (renderText) content.text = renderText(profile, context);
        return content;
      };
    }
    case "sms": {
      const body = field("body", action.content.body);
      return (profile, context) => ({ channel: "sms", body: body(profile, context) });
    }
    case "push": {
      const title = field("title", action.content.title);
      const body = field("body", action.content.body);
      const data = Object.entries(action.content.data ?? {}).map(
        ([key, source]) => [key, field(`data.${key}`, source)] as const,
      );
      return (profile, context) => {
        const content: Extract<RenderedContent, { channel: "push" }> = {
          channel: "push",
          title: title(profile, context),
          body: body(profile, context),
        };
        if (data.length > 0) {
          content.data = Object.fromEntries(data.map(([key, render]) => [key, render(profile, context)]));
        }
        return content;
      };
    }
    case "webhook": {
      const payload = field("payload", action.content.payload);
      return (profile, context) => ({ channel: "webhook", payload: payload(profile, context) });
    }
  }
}
