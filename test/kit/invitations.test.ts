/**
 * Inviting a user to a role: with the kit's `invitations` option, an assignment sends the user a link to the
 * instance through a transactional configuration, by the kit's own dispatcher, exactly once per assignment.
 */
import { describe, expect, it } from "vitest";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { type CampaignKitOptions, createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import { INVITATIONS_CAMPAIGN_ID } from "../../src/kit/invitations.js";
import { messageId } from "../../src/model/message-id.js";
import { refusal } from "../support/outcomes.js";
import { storageTargets } from "../support/storages.js";
import { ADMIN, auditLog, emailConfiguration, seededKit } from "./fixtures.js";

const LINK = "https://campaigns.acme.example";

describe.each(storageTargets("role invitations"))("role invitations on $name", (target) => {
  async function setup(
    options: Partial<NonNullable<CampaignKitOptions["invitations"]>> | false = {},
    email = memoryChannel({ channel: "email" }),
  ) {
    const storage = await target.create();
    const kit = await seededKit({
      storage,
      channels: [email],
      ...(options === false
        ? {}
        : { invitations: { channelConfigurationId: "welcome", link: LINK, ...options } }),
    });
    await kit.configurations.register({
      actor: ADMIN,
      configuration: { ...emailConfiguration, id: "welcome", name: "Welcome", purpose: "transactional" },
    });
    return { kit, email, storage };
  }

  it("emails the user a link to the instance through the kit's sending path, recorded in the ledger", async () => {
    const { kit, email, storage } = await setup();
    const result = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-manager",
    });
    expect(result).toEqual({
      assigned: true,
      invitation: {
        messageId: expect.any(String),
        status: "sent",
        channel: "email",
        address: "ana@acme.example",
      },
    });
    expect(email.sent).toHaveLength(1);
    const [message] = email.sent;
    expect(message).toMatchObject({
      to: "ana@acme.example",
      id: result.invitation?.messageId,
      campaignId: INVITATIONS_CAMPAIGN_ID,
      content: { subject: "You have been given the Campaign manager role" },
    });
    expect(message?.content).toMatchObject({ text: expect.stringContaining(`${ADMIN} gave you`) });
    expect(JSON.stringify(message?.content)).toContain(LINK);
    // The message id is the kit's own: (campaign, execution, recipient, channel).
    expect(result.invitation?.messageId).toBe(
      messageId({
        campaignId: INVITATIONS_CAMPAIGN_ID,
        executionId: message?.executionId as string,
        recipientId: "ana@acme.example",
        channel: "email",
      }),
    );
    expect((await storage.summarize({ campaignId: INVITATIONS_CAMPAIGN_ID })).outcomes.sent).toBe(1);
    const entry = (await auditLog(kit.storage)).findLast((e) => e.action === "role.assign");
    expect(entry).toMatchObject({
      actorId: ADMIN,
      outcome: "allowed",
      detail: { userId: "ana@acme.example", invitation: { status: "sent" } },
    });
    expect((await kit.roles.get({ actor: "ana@acme.example" })).roles).toEqual(["campaign-manager"]);
  });

  it("invites once per assignment: again is a no-op, revoked then given again invites again", async () => {
    const { kit, email } = await setup();
    const first = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-viewer",
    });
    const again = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-viewer",
    });
    expect(again).toMatchObject({ assigned: false, invitation: { status: "already-sent" } });
    expect(again.invitation?.messageId).toBe(first.invitation?.messageId);
    expect(email.sent).toHaveLength(1);
    await kit.roles.revoke({ actor: ADMIN, userId: "ana@acme.example", roleId: "campaign-viewer" });
    const renewed = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-viewer",
    });
    expect(renewed).toMatchObject({ assigned: true, invitation: { status: "sent" } });
    expect(renewed.invitation?.messageId).not.toBe(first.invitation?.messageId);
    // Another role is another assignment, and another invitation.
    await kit.roles.assign({ actor: ADMIN, userId: "ana@acme.example", roleId: "campaign-approver" });
    expect(email.sent.map((m) => m.to)).toEqual(["ana@acme.example", "ana@acme.example", "ana@acme.example"]);
    await kit.roles.assign({
      actor: ADMIN,
      userId: "bo@acme.example",
      roleId: "campaign-viewer",
      invite: false,
    });
    expect(email.sent).toHaveLength(3);
  });

  it("retries an invitation the provider refused when the role is assigned again, still sending it once", async () => {
    let refuse = true;
    const email = memoryChannel({ channel: "email", failFor: () => (refuse ? "permanent" : undefined) });
    const { kit } = await setup({}, email);
    const failed = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-viewer",
    });
    expect(failed).toMatchObject({ assigned: true, invitation: { status: "failed" } });
    refuse = false;
    const retried = await kit.roles.assign({
      actor: ADMIN,
      userId: "ana@acme.example",
      roleId: "campaign-viewer",
    });
    expect(retried).toMatchObject({ assigned: false, invitation: { status: "sent" } });
    expect(retried.invitation?.messageId).toBe(failed.invitation?.messageId);
    expect(email.sent).toHaveLength(1);
  });

  it("finds the address from the call, then addressOf, and refuses the assignment when there is none", async () => {
    const directory: Record<string, string> = { bo: "bo@acme.example" };
    const { kit, email } = await setup({ addressOf: (userId) => directory[userId] });
    await kit.roles.assign({ actor: ADMIN, userId: "bo", roleId: "campaign-viewer" });
    await kit.roles.assign({
      actor: ADMIN,
      userId: "cy",
      roleId: "campaign-viewer",
      invite: { address: "cy@acme.example" },
    });
    expect(email.sent.map((m) => m.to)).toEqual(["bo@acme.example", "cy@acme.example"]);
    const missing = await refusal(
      kit.roles.assign({ actor: ADMIN, userId: "dee", roleId: "campaign-viewer" }),
    );
    expect(missing.code).toBe("INVITEE_ADDRESS_MISSING");
    expect(missing.details).toEqual({ userId: "dee", channel: "email" });
    expect(missing.message).toContain("invite: false");
    expect((await kit.roles.get({ actor: ADMIN, userId: "dee" })).roles).toEqual([]);
    const entry = (await auditLog(kit.storage)).findLast((e) => e.action === "role.assign");
    expect(entry).toMatchObject({ outcome: "denied", errorCode: "INVITEE_ADDRESS_MISSING" });
  });

  it("refuses to invite through a missing, inactive or marketing configuration, or with no option", async () => {
    const { kit } = await setup({ channelConfigurationId: "email-marketing" });
    const marketing = await refusal(
      kit.roles.assign({ actor: ADMIN, userId: "a@acme.example", roleId: "campaign-viewer" }),
    );
    expect(marketing.code).toBe("INVITATIONS_NOT_CONFIGURED");
    expect(marketing.message).toContain("active transactional configuration");
    expect((await kit.roles.get({ actor: ADMIN, userId: "a@acme.example" })).roles).toEqual([]);
    // `invite: false` still assigns.
    await kit.roles.assign({
      actor: ADMIN,
      userId: "a@acme.example",
      roleId: "campaign-viewer",
      invite: false,
    });

    const missing = await setup({ channelConfigurationId: "nope" });
    const notFound = await refusal(
      missing.kit.roles.assign({ actor: ADMIN, userId: "a@acme.example", roleId: "campaign-viewer" }),
    );
    expect(notFound.details).toMatchObject({ channelConfigurationId: "nope" });

    const none = await setup(false);
    await none.kit.roles.assign({ actor: ADMIN, userId: "a@acme.example", roleId: "campaign-viewer" });
    expect(none.email.sent).toEqual([]);
    const asked = await refusal(
      none.kit.roles.assign({
        actor: ADMIN,
        userId: "b@acme.example",
        roleId: "campaign-viewer",
        invite: true,
      }),
    );
    expect(asked.code).toBe("INVITATIONS_NOT_CONFIGURED");
  });

  it("renders custom content naming a custom role", async () => {
    const { kit, email } = await setup({
      content: {
        subject: "Welcome to {{context.roleName}}",
        text: "Go to {{context.link}}/start, {{context.userId}}",
      },
    });
    await kit.roles.define({
      actor: ADMIN,
      role: { id: "editors", name: "Editors", permissions: ["campaign.read", "campaign.write"] },
    });
    await kit.roles.assign({ actor: ADMIN, userId: "ana@acme.example", roleId: "editors" });
    expect(email.sent[0]?.content).toEqual({
      channel: "email",
      subject: "Welcome to Editors",
      text: `Go to ${LINK}/start, ana@acme.example`,
    });
  });

  it("refuses a malformed invite before anything is written", async () => {
    const { kit, email } = await setup();
    const bad = await refusal(
      kit.roles.assign({
        actor: ADMIN,
        userId: "a@acme.example",
        roleId: "campaign-viewer",
        invite: "yes" as never,
      }),
    );
    expect(bad.code).toBe("VALIDATION_FAILED");
    const empty = await refusal(
      kit.roles.assign({
        actor: ADMIN,
        userId: "a@acme.example",
        roleId: "campaign-viewer",
        invite: { address: "" },
      }),
    );
    expect(empty.details).toMatchObject({ issues: [{ path: "address" }] });
    expect((await kit.roles.get({ actor: ADMIN, userId: "a@acme.example" })).roles).toEqual([]);
    expect(email.sent).toEqual([]);
  });

  it("checks the option when the kit is made", async () => {
    const bad = await refusal(
      createCampaignKit({ invitations: { channelConfigurationId: "welcome", link: "campaigns.acme" } }),
    );
    expect(bad.code).toBe("VALIDATION_FAILED");
    expect(bad.details).toMatchObject({ issues: [{ path: "link" }] });
  });
});
