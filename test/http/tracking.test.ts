/**
 * Tracking, end to end on memory and PostgreSQL: a configuration that opts in gets its HTML links rewritten
 * to signed redirects, an open pixel and a one-click List-Unsubscribe URL; the feedback handler redirects
 * only to links the message carried, records clicks and opens (a HEAD, a scanner and a double click count
 * once), and a one-click POST unsubscribes and suppresses the address for later sends.
 */
import { describe, expect, it } from "vitest";
import { listUnsubscribeHeaders } from "../../src/drivers/channels/email.js";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { feedbackEndpoints } from "../../src/http/index.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { createRepositories } from "../../src/repositories/index.js";
import { ADMIN, emailConfiguration, kitClock, people, promotion } from "../kit/fixtures.js";
import { storageTargets } from "../support/storages.js";

const BASE = "https://t.acme.example/campaign-kit";
const SECRET = "a-tracking-secret-of-at-least-32-characters";
const HTML =
  '<html><body><p>Hi</p><a href="https://acme.example/sale?x=1&amp;y=2">Sale</a> ' +
  '<a href="mailto:help@acme.example">Help</a> <a data-ck-notrack href="https://acme.example/legal">Legal</a></body></html>';

describe.each(storageTargets("the tracking tests"))("tracking on $name storage", (target) => {
  async function sent(tracking = { opens: true, clicks: true, unsubscribe: true }) {
    const storage = await target.create();
    const email = memoryChannel({ channel: "email" });
    const kit = await createCampaignKit({
      storage,
      clock: kitClock(),
      channels: [email],
      audiences: memoryAudiences({ audiences: { vip: people(2) } }),
      administrators: [ADMIN],
      tracking: { secret: SECRET, baseUrl: BASE },
    });
    await kit.audiences.register({
      actor: ADMIN,
      audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
    });
    const settings = { ...(emailConfiguration.settings as object), tracking };
    await kit.configurations.register({
      actor: ADMIN,
      configuration: { ...emailConfiguration, settings } as never,
    });
    const campaign = (id: string) => ({
      ...promotion,
      id,
      actions: [
        {
          channel: "email" as const,
          channelConfigurationId: "email-marketing",
          content: { subject: "Sale", html: HTML },
        },
      ],
    });
    await kit.campaigns.create({ actor: ADMIN, campaign: campaign("promo") });
    await kit.campaigns.activate({ actor: ADMIN, id: "promo" });
    await kit.scheduler.tick();
    await kit.idle();
    const { handler } = feedbackEndpoints(kit);
    const call = (url: string, init: RequestInit = {}) => handler(new Request(url, init));
    return { kit, email, storage, call, campaign };
  }

  it("rewrites tracked links only, adds the pixel and a one-click List-Unsubscribe URL", async () => {
    const { email } = await sent();
    const message = email.sent[0];
    const html = message?.content.channel === "email" ? (message.content.html as string) : "";
    expect(html).not.toContain("https://acme.example/sale");
    expect(html).toContain('href="mailto:help@acme.example"');
    expect(html).toContain('href="https://acme.example/legal"');
    expect(html).toMatch(new RegExp(`<a href="${BASE}/t/c/[\\w-]+\\.[\\w-]+">Sale</a>`));
    expect(html).toMatch(
      new RegExp(`<img src="${BASE}/t/o/[\\w.-]+" width="1" height="1" alt="" style="display:none"></body>`),
    );
    expect(message?.listUnsubscribeUrl).toMatch(new RegExp(`^${BASE}/t/u/`));
    expect(listUnsubscribeHeaders(message as never)).toEqual({
      "List-Unsubscribe": `<${message?.listUnsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
  });

  it("leaves messages alone when the configuration doesn't opt in", async () => {
    const { email } = await sent({ opens: false, clicks: false, unsubscribe: false });
    const message = email.sent[0];
    expect(message?.content.channel === "email" && message.content.html).toBe(HTML);
    expect(message?.listUnsubscribeUrl).toBeUndefined();
  });

  it("redirects a click to the link the message carried and counts scanners, HEADs and double clicks once", async () => {
    const { email, storage, call } = await sent();
    const html = email.sent[0]?.content.channel === "email" ? (email.sent[0].content.html as string) : "";
    const link = /href="([^"]+\/t\/c\/[^"]+)"/.exec(html)?.[1] as string;
    const head = await call(link, { method: "HEAD" });
    expect(head.status).toBe(302);
    expect(head.headers.get("location")).toBe("https://acme.example/sale?x=1&y=2");
    expect(await createRepositories(storage).feedback.every()).toEqual([]);
    for (const agent of ["Mozilla/5.0 (compatible; Barracuda Sentinel)", "Mimecast", "Barracuda"])
      await call(link, { headers: { "user-agent": agent } });
    const click = await call(link, { headers: { "user-agent": "Mozilla/5.0 (Macintosh)" } });
    expect(click.status).toBe(302);
    expect(click.headers.get("location")).toBe("https://acme.example/sale?x=1&y=2");
    await call(link, { headers: { "user-agent": "Mozilla/5.0 (Macintosh)" } });
    const clicks = await createRepositories(storage).feedback.every({ type: "clicked" });
    expect(clicks).toHaveLength(1);
    expect(clicks[0]).toMatchObject({
      recipientId: "p0",
      count: 2,
      urls: ["https://acme.example/sale?x=1&y=2"],
    });

    // Another URL under the same signature, a forged token, the wrong kind: 404, never a redirect.
    const [payload, signature] = (link.split("/t/c/")[1] ?? "").split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify(["c", email.sent[0]?.id, "https://evil.example"])).toString(
      "base64url",
    );
    for (const bad of [
      `${BASE}/t/c/${forged}.${signature}`,
      `${BASE}/t/c/${payload}.AAAA`,
      `${BASE}/t/o/${payload}.${signature}`,
      `${BASE}/t/c/%E0%A4%A`,
    ]) {
      const refused = await call(bad);
      expect(refused.status, bad).toBe(404);
      expect(refused.headers.get("location")).toBeNull();
    }
  });

  it("serves the pixel and records one open per message", async () => {
    const { email, storage, call } = await sent();
    const html = email.sent[1]?.content.channel === "email" ? (email.sent[1].content.html as string) : "";
    const pixel = /src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1] as string;
    const response = await call(pixel);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/gif");
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe("GIF89a");
    await call(pixel);
    const opens = await createRepositories(storage).feedback.every({ type: "opened" });
    expect(opens).toMatchObject([{ recipientId: "p1", count: 1 }]);
  });

  it("unsubscribes on the one-click POST, never on GET, and suppresses the address for later sends", async () => {
    const { kit, email, call, campaign } = await sent();
    const url = email.sent[0]?.listUnsubscribeUrl as string;
    const page = await call(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await kit.suppressions.list({ actor: ADMIN })).items).toEqual([]);
    const post = await call(url, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(post.status).toBe(204);
    expect((await kit.suppressions.list({ actor: ADMIN })).items).toMatchObject([
      { channel: "email", address: "p0@example.com", reasons: ["unsubscribed"] },
    ]);
    await kit.campaigns.create({ actor: ADMIN, campaign: campaign("second") });
    await kit.campaigns.activate({ actor: ADMIN, id: "second" });
    await kit.scheduler.tick();
    await kit.idle();
    const report = await kit.reports.campaign({ actor: ADMIN, id: "second" });
    expect(report.outcomes).toMatchObject({ sent: 1, excluded: 1 });
    expect(report.excludedByReason.suppressed).toBe(1);
  });

  it("answers other methods 405 with allow, odd paths 404, and gives transactional mail no List-Unsubscribe", async () => {
    const { email, call, kit } = await sent();
    const html = email.sent[0]?.content.channel === "email" ? (email.sent[0].content.html as string) : "";
    const link = /href="([^"]+\/t\/c\/[^"]+)"/.exec(html)?.[1] as string;
    const put = await call(link, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    for (const path of ["/t/toString/x", "/t/c/", "/t/c/a/b", "/webhooks/ses", "/elsewhere"])
      expect((await call(`${BASE}${path}`)).status, path).toBe(404);
    expect((await call(email.sent[0]?.listUnsubscribeUrl as string, { method: "HEAD" })).status).toBe(200);
    expect((await kit.suppressions.list({ actor: ADMIN })).items).toEqual([]);
    const transactional = { ...email.sent[0], category: "transactional" } as never;
    expect(
      listUnsubscribeHeaders({ ...(transactional as object), listUnsubscribeUrl: undefined } as never),
    ).toEqual({});
  });
});
