import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileAction } from "../../../src/dispatch/render/compile.js";
import { isCampaignKitError } from "../../../src/errors.js";
import type { ContentAction } from "../../../src/model/campaign.js";
import { profile } from "../../support/fixtures.js";

const email = (content: { subject: string; html?: string; text?: string }): ContentAction => ({
  channel: "email",
  channelConfigurationId: "news",
  content: content as { subject: string; text: string },
});

describe("personalization", () => {
  it("renders from profile attributes and the trigger's context", () => {
    const compiled = compileAction(
      email({ subject: "Hi {{profile.person.name.firstName}}", text: "Reset: {{context.resetLink}}" }),
    );
    const ana = profile("a", { attributes: { person: { name: { firstName: "Ana" } } } });
    expect(compiled.variables).toEqual(["profile.person.name.firstName", "context.resetLink"]);
    expect(compiled.findMissing(ana, { resetLink: "https://x.io/r" })).toBeUndefined();
    expect(compiled.render(ana, { resetLink: "https://x.io/r" })).toEqual({
      channel: "email",
      subject: "Hi Ana",
      text: "Reset: https://x.io/r",
    });
  });

  it("names the first missing variable: undefined, null and empty string all count", () => {
    const compiled = compileAction(
      email({ subject: "Hello {{profile.firstName}}", text: "{{context.code}}" }),
    );
    expect(compiled.findMissing(profile("a", { attributes: {} }), { code: 1 })).toBe("profile.firstName");
    expect(compiled.findMissing(profile("a", { attributes: { firstName: null } }), { code: 1 })).toBe(
      "profile.firstName",
    );
    expect(compiled.findMissing(profile("a", { attributes: { firstName: "" } }), { code: 1 })).toBe(
      "profile.firstName",
    );
    expect(compiled.findMissing(profile("a", { attributes: { firstName: "Ana" } }), {})).toBe("context.code");
    expect(compiled.findMissing(profile("a", { attributes: { firstName: 0 } }), { code: 0 })).toBeUndefined();
  });

  it("lets fallback and blocks make a variable optional", () => {
    const compiled = compileAction(
      email({
        subject: 'Hello {{fallback profile.firstName "there"}}',
        text: "{{#if profile.vip}}VIP {{profile.tier}}{{/if}}!",
      }),
    );
    expect(compiled.variables).toEqual([]);
    const nobody = profile("a", { attributes: {} });
    expect(compiled.findMissing(nobody, {})).toBeUndefined();
    expect(compiled.render(nobody, {})).toEqual({ channel: "email", subject: "Hello there", text: "!" });
  });

  it("escapes HTML only in the email html body", () => {
    const compiled = compileAction(
      email({ subject: "{{profile.name}}", html: "<p>{{profile.name}}</p>", text: "{{profile.name}}" }),
    );
    const rendered = compiled.render(profile("a", { attributes: { name: "Tom & <Jerry>" } }), {});
    expect(rendered).toEqual({
      channel: "email",
      subject: "Tom & <Jerry>",
      html: "<p>Tom &amp; &lt;Jerry&gt;</p>",
      text: "Tom & <Jerry>",
    });
  });

  it("formats dates with date-fns in an IANA zone (UTC by default)", () => {
    const compiled = compileAction({
      channel: "sms",
      channelConfigurationId: "t",
      content: {
        body: '{{formatDate profile.at "yyyy-MM-dd HH:mm"}} / {{formatDate profile.at "HH:mm" "Asia/Tokyo"}}',
      },
    });
    expect(compiled.variables).toEqual(["profile.at"]);
    const a = profile("a", { attributes: { at: "2026-03-01T10:30:00Z" } });
    expect(compiled.render(a, {})).toEqual({ channel: "sms", body: "2026-03-01 10:30 / 19:30" });
    expect(compiled.findMissing(profile("b", { attributes: {} }), {})).toBe("profile.at");
  });

  it("renders push data and webhook payloads without escaping", () => {
    const push = compileAction({
      channel: "push",
      channelConfigurationId: "p",
      content: { title: "{{profile.t}}", body: "b", data: { url: "{{context.url}}" } },
    });
    expect(push.render(profile("a", { attributes: { t: "<T>" } }), { url: "a&b" })).toEqual({
      channel: "push",
      title: "<T>",
      body: "b",
      data: { url: "a&b" },
    });
    const hook = compileAction({
      channel: "webhook",
      channelConfigurationId: "w",
      content: { payload: '{"id":"{{profile.id}}"}' },
    });
    expect(hook.render(profile("a", { attributes: { id: "x" } }), {})).toEqual({
      channel: "webhook",
      payload: '{"id":"x"}',
    });
  });

  it("rejects a syntax error with TEMPLATE_INVALID naming the action and the field", () => {
    const error = (() => {
      try {
        compileAction(email({ subject: "ok", text: "Hi {{profile.name" }), { campaignId: "spring" });
      } catch (e) {
        return e;
      }
    })();
    expect(isCampaignKitError(error, "TEMPLATE_INVALID")).toBe(true);
    expect((error as Error).message).toContain('campaign "spring", email action, field "text"');
  });

  it("never renders 'Hello ,': a recipient is either excluded or greeted by name", () => {
    const compiled = compileAction(
      email({ subject: "Hello {{profile.firstName}},", text: "Hello {{profile.firstName}}, bye" }),
    );
    fc.assert(
      fc.property(
        fc.option(fc.oneof(fc.string(), fc.constant(""), fc.constant(null), fc.integer()), {
          nil: undefined,
        }),
        (firstName) => {
          const p = profile("a", { attributes: firstName === undefined ? {} : { firstName } });
          if (compiled.findMissing(p, {}) !== undefined) return;
          const rendered = compiled.render(p, {});
          expect(rendered.channel === "email" && rendered.subject).not.toBe("Hello ,");
          expect(rendered.channel === "email" && rendered.text?.startsWith("Hello , ")).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("renders simple templates by concatenation exactly as Handlebars does", () => {
    const content = {
      subject: "{{profile.a}}-{{context.b}}",
      html: "<b>{{profile.a}}</b>{{{profile.a}}}{{!c}}",
      text: "x {{profile.n.m}} y",
    };
    const fast = compileAction(email(content));
    const slow = compileAction(email(content), { fastPath: false });
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant("<&\"'`=>"),
    );
    fc.assert(
      fc.property(value, value, value, (a, b, m) => {
        const p = profile("p", { attributes: { a, n: { m } } });
        expect(fast.render(p, { b })).toEqual(slow.render(p, { b }));
      }),
      { numRuns: 300 },
    );
  });

  it("hides prototype properties, as Handlebars does", () => {
    const compiled = compileAction(
      email({ subject: '[{{fallback profile.constructor "none"}}]', text: "{{profile.a.constructor}}." }),
    );
    expect(compiled.findMissing(profile("p", { attributes: { a: {} } }), {})).toBe("profile.a.constructor");
  });
});
