// @ts-check
/**
 * Where each guide goes on the site. Every docs/*.md and docs/channels/*.md page is on it (typedoc.json's
 * `projectDocuments`); docs/site/navigation.json names the sidebar's sections in order and the pages of
 * each, where `*` stands for every page no section names (by file name) and `channels/*` for that folder's
 * pages. A page no section names is in the section holding `*`. Its title is its first heading, up to a
 * colon ("Storage: where campaign-kit keeps things" -> "Storage"), and its address follows its file:
 * docs/channels/ses.md is guides/channels/ses.html.
 */
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import { Comment, Converter, KindRouter } from "typedoc";

const docs = `${process.cwd()}${sep}docs${sep}`;

/** `docs/channels/ses.md` -> `channels/ses.md`; undefined for a file outside docs/. */
function pageOf(/** @type {import("typedoc").DocumentReflection} */ document) {
  const file = document.project.files.getReflectionPath(document);
  return file?.startsWith(docs) ? relative(docs, file).split(sep).join("/") : undefined;
}

/**
 * The section and rank of `page`: [section index, position in its list], or the wildcard's position when a
 * wildcard takes it.
 * @param {[string, string[]][]} sections
 * @param {string} page
 * @returns {{ section: string, rank: [number, number] }}
 */
function placeOf(sections, page) {
  const folder = page.includes("/") ? `${page.slice(0, page.lastIndexOf("/"))}/*` : undefined;
  for (const pattern of [page, folder, "*"]) {
    for (const [index, [section, pages]] of sections.entries()) {
      const position = pages.indexOf(pattern ?? "");
      if (position !== -1) return { section, rank: [index, position] };
    }
  }
  return { section: "Guides", rank: [sections.length, 0] };
}

/** @param {import("typedoc").Application} app */
export function placeGuides(app) {
  /** @type {[string, string[]][]} */
  const sections = Object.entries(JSON.parse(readFileSync(`${docs}site${sep}navigation.json`, "utf8")));
  /** @type {WeakMap<object, [number, number]>} */
  const ranks = new WeakMap();

  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    const page = pageOf(document);
    if (page === undefined) return;
    const { section, rank } = placeOf(sections, page);
    document.frontmatter.group = section; // GroupPlugin files a document by its frontmatter's `group`
    ranks.set(document, rank);
    const heading = Comment.combineDisplayParts(document.content).match(/^# (.+)$/m)?.[1];
    if (heading !== undefined) document.name = heading.replaceAll("`", "").replace(/:.*/, "");
  });

  // Before GroupPlugin (at -100) groups them: pages in section order, as the list orders them; pages a
  // wildcard takes keep TypeDoc's order, by file name (the sort is stable).
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const rank = (/** @type {object} */ child) => ranks.get(child) ?? [sections.length + 1, 0];
      const order = (/** @type {object} */ a, /** @type {object} */ b) => {
        const [x, y] = [rank(a), rank(b)];
        return x[0] - y[0] || x[1] - y[1];
      };
      context.project.documents?.sort(order);
      context.project.childrenIncludingDocuments?.sort(order);
    },
    100,
  );
  // After it: the sidebar's sections in the list's order, before the reference's modules.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const index = (/** @type {string} */ title) => {
        const found = sections.findIndex(([section]) => section === title);
        return found === -1 ? sections.length : found;
      };
      context.project.groups?.sort((a, b) => index(a.title) - index(b.title));
    },
    -200,
  );

  class SiteRouter extends KindRouter {
    /** @param {import("typedoc").RouterTarget} target */
    getIdealBaseName(target) {
      const page = target.isDocument() ? pageOf(target) : undefined;
      return page === undefined ? super.getIdealBaseName(target) : `guides/${page.replace(/\.md$/, "")}`;
    }
  }
  app.renderer.defineRouter("campaign-kit", SiteRouter);
}
