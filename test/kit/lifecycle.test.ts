import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import { createRepositories } from "../../src/repositories/index.js";
import { refusal } from "../support/outcomes.js";
import { ADMIN, auditLog, promotion, seededKit } from "./fixtures.js";

describe("campaign lifecycle through the kit", () => {
  it("refuses to create a campaign with every unmet prerequisite listed at once, and writes nothing", async () => {
    const kit = await seededKit();
    await kit.audiences.update({ actor: ADMIN, id: "vip", changes: { status: "processing" } });
    await kit.configurations.deactivate({ actor: ADMIN, id: "email-marketing" });
    const error = await refusal(
      kit.campaigns.create({
        actor: ADMIN,
        campaign: {
          ...promotion,
          id: "bad",
          actions: [
            {
              channel: "email",
              channelConfigurationId: "email-marketing",
              content: { subject: "Hi {{#if}}", text: "x" },
            },
            { channel: "sms", channelConfigurationId: "missing", content: { body: "hello" } },
          ],
        },
      }),
    );
    expect(error.code).toBe("PREREQUISITES_UNMET");
    const codes = (error.details.problems as { code: string }[]).map((p) => p.code).sort();
    expect(codes).toEqual([
      "AUDIENCE_NOT_AVAILABLE",
      "CONFIGURATION_NOT_ACTIVE",
      "CONFIGURATION_NOT_FOUND",
      "TEMPLATE_INVALID",
    ]);
    expect(await createRepositories(kit.storage).campaigns.get("bad")).toBeUndefined();
    const last = (await auditLog(kit.storage)).at(-1);
    expect(last).toMatchObject({
      action: "campaign.create",
      outcome: "denied",
      errorCode: "PREREQUISITES_UNMET",
    });
  });

  it("rejects bad input with VALIDATION_FAILED naming the path", async () => {
    const kit = await seededKit();
    const error = await refusal(
      kit.campaigns.create({
        actor: ADMIN,
        campaign: { ...promotion, deliveryControls: { rateLimit: 2001 } } as never,
      }),
    );
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.details.issues).toEqual([
      { path: "deliveryControls.rateLimit", message: "The rate limit is at most 2000 messages per second" },
    ]);
  });

  it("edits drafts only, with optimistic versions", async () => {
    const kit = await seededKit();
    const created = await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c" } });
    const updated = await kit.campaigns.update({
      actor: ADMIN,
      id: "c",
      changes: { name: "B" },
      expectedVersion: 1,
    });
    expect(updated).toMatchObject({ name: "B", version: 2 });
    expect(
      (
        await refusal(
          kit.campaigns.update({ actor: ADMIN, id: "c", changes: { name: "C" }, expectedVersion: 1 }),
        )
      ).code,
    ).toBe("CONFLICT");
    expect((await kit.campaigns.get({ actor: ADMIN, id: "c" })).name).toBe("B");
    await kit.campaigns.activate({ actor: ADMIN, id: created.id });
    expect(
      (await refusal(kit.campaigns.update({ actor: ADMIN, id: "c", changes: { name: "D" } }))).code,
    ).toBe("NOT_EDITABLE");
  });

  it("follows the status machine: stop, no reactivation, archive, delete only drafts, duplicate anything", async () => {
    const kit = await seededKit();
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c" } });
    expect((await kit.campaigns.activate({ actor: ADMIN, id: "c" })).status).toBe("live");
    expect((await refusal(kit.campaigns.delete({ actor: ADMIN, id: "c" }))).code).toBe("INVALID_TRANSITION");
    expect((await kit.campaigns.stop({ actor: ADMIN, id: "c" })).status).toBe("stopped");
    const again = await refusal(kit.campaigns.activate({ actor: ADMIN, id: "c" }));
    expect(again.code).toBe("INVALID_TRANSITION");
    expect(again.message).toContain("duplicate it instead");
    const copy = await kit.campaigns.duplicate({ actor: ADMIN, id: "c", newId: "c2" });
    expect(copy).toMatchObject({ id: "c2", status: "draft", version: 1, name: "Winter sale (copy)" });
    expect((await kit.campaigns.archive({ actor: ADMIN, id: "c" })).status).toBe("archived");
    expect((await refusal(kit.campaigns.archive({ actor: ADMIN, id: "c2" }))).code).toBe(
      "INVALID_TRANSITION",
    );
    await kit.campaigns.delete({ actor: ADMIN, id: "c2" });
    expect(await createRepositories(kit.storage).campaigns.get("c2")).toBeUndefined();
  });

  it("modifies a live recurring campaign as a new version that replaces it when activated", async () => {
    const kit = await seededKit();
    const schedule = {
      timeZone: "Europe/Paris",
      recurrence: {
        frequency: "weekly" as const,
        interval: 1,
        daysOfWeek: ["monday" as const],
        at: { hour: 9, minute: 0 },
      },
    };
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "news", schedule } });
    await kit.campaigns.activate({ actor: ADMIN, id: "news" });
    const version = await kit.campaigns.createVersion({ actor: ADMIN, id: "news", newId: "news-2" });
    expect(version).toMatchObject({ status: "draft", replacesCampaignId: "news" });
    expect((await refusal(kit.campaigns.createVersion({ actor: ADMIN, id: "news" }))).code).toBe(
      "ALREADY_EXISTS",
    );
    await kit.campaigns.update({ actor: ADMIN, id: "news-2", changes: { name: "Newsletter v2" } });
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news" })).status).toBe("live");
    await kit.campaigns.activate({ actor: ADMIN, id: "news-2" });
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news" })).status).toBe("stopped");
    expect((await kit.campaigns.get({ actor: ADMIN, id: "news-2" })).status).toBe("live");
  });

  it("keeps active configurations' identity read-only and in-use ones active", async () => {
    const kit = await seededKit();
    const renamed = await refusal(
      kit.configurations.update({ actor: ADMIN, id: "email-marketing", changes: { name: "Other" } }),
    );
    expect(renamed.code).toBe("READ_ONLY_FIELD");
    expect(renamed.details.fields).toEqual(["name"]);
    const subdomain = await refusal(
      kit.configurations.update({
        actor: ADMIN,
        id: "email-marketing",
        changes: {
          settings: {
            fromName: "Acme",
            fromAddress: "news@mail.acme.example",
            subdomain: "other.acme.example",
          },
        },
      }),
    );
    expect(subdomain.details.fields).toEqual(["subdomain"]);
    const replyTo = await kit.configurations.update({
      actor: ADMIN,
      id: "email-marketing",
      changes: {
        settings: {
          fromName: "Acme Deals",
          fromAddress: "news@mail.acme.example",
          subdomain: "mail.acme.example",
        },
      },
    });
    expect(replyTo.channel === "email" && replyTo.settings.fromName).toBe("Acme Deals");

    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "c" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "c" });
    const inUse = await refusal(kit.configurations.deactivate({ actor: ADMIN, id: "email-marketing" }));
    expect(inUse.code).toBe("IN_USE");
    expect(inUse.details.campaignId).toBe("c");
    await kit.campaigns.stop({ actor: ADMIN, id: "c" });
    expect((await kit.configurations.deactivate({ actor: ADMIN, id: "email-marketing" })).status).toBe(
      "deactivated",
    );
  });

  it("lists campaigns with filters and pages", async () => {
    const kit = await seededKit();
    for (let i = 0; i < 5; i++) {
      await kit.campaigns.create({
        actor: ADMIN,
        campaign: {
          ...promotion,
          id: `c${i}`,
          name: i % 2 ? `Odd ${i}` : `Even ${i}`,
          tags: i % 2 ? ["odd"] : [],
        },
      });
    }
    await kit.campaigns.activate({ actor: ADMIN, id: "c0" });
    const first = await kit.campaigns.list({ actor: ADMIN, limit: 2 });
    expect(first.items.map((c) => c.id)).toEqual(["c0", "c1"]);
    const second = await kit.campaigns.list({
      actor: ADMIN,
      limit: 2,
      ...(first.nextCursor ? { cursor: first.nextCursor } : {}),
    });
    expect(second.items.map((c) => c.id)).toEqual(["c2", "c3"]);
    expect(
      (await kit.campaigns.list({ actor: ADMIN, filter: { tags: ["odd"] } })).items.map((c) => c.id),
    ).toEqual(["c1", "c3"]);
    expect(
      (await kit.campaigns.list({ actor: ADMIN, filter: { status: ["live"] } })).items.map((c) => c.id),
    ).toEqual(["c0"]);
    expect(
      (await kit.campaigns.list({ actor: ADMIN, filter: { text: "even" } })).items.map((c) => c.id),
    ).toEqual(["c0", "c2", "c4"]);
    expect(
      isCampaignKitError(await refusal(kit.campaigns.get({ actor: ADMIN, id: "nope" })), "NOT_FOUND"),
    ).toBe(true);
  });
});
