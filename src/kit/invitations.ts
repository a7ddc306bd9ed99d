import { createHash } from "node:crypto";
import { z } from "zod";
import type { Dispatcher } from "../dispatch/dispatcher.js";
import { templateError } from "../dispatch/render/environment.js";
import { CampaignKitError } from "../errors.js";
import { type ActionContent, actionVariants, type Campaign, campaignSchema } from "../model/campaign.js";
import type { ChannelConfiguration } from "../model/channel-configuration.js";
import { type Channel, e164Schema, emailAddressSchema, httpUrlSchema, idSchema } from "../model/common.js";
import type { DeliveryOutcome } from "../model/execution.js";
import { messageId } from "../model/message-id.js";
import { parseWith } from "../model/parse.js";
import type { Profile } from "../model/profile.js";
import { BUILT_IN_ROLES, isBuiltInRole, type RoleAssignment } from "../model/roles.js";
import type { KitContext } from "./context.js";
import { actionTemplateFields } from "./prerequisites/content.js";

/**
 * Inviting users to the roles they are given, as the reference product emails a new user a link to the
 * instance. The invitation is sent through the kit's own sending path (the dispatcher, the channel adapter of
 * the configuration's channel, the delivery ledger), so it is rendered, rate-limited, retried and recorded
 * like any transactional message, and exactly once per assignment.
 */
export interface InvitationOptions {
  /**
   * The channel configuration the invitation is sent with: an active transactional one whose channel the
   * kit has an adapter for (checked at each assignment that invites).
   */
  channelConfigurationId: string;
  /** The link to your instance of the app the invitation carries, `{{context.link}}` in templates. */
  link: string;
  /**
   * The invitation's content for the configuration's channel, Handlebars templates over `context`: `link`,
   * `userId`, `roleId`, `roleName` and `invitedBy`. Defaults to a short message naming the role and the link.
   */
  content?: ActionContent;
  /**
   * Where to reach a user on the channel (an email address, an E.164 number, a push token, a webhook's
   * recipient), or `undefined` when unknown. Defaults to the user id itself when it is an address for the
   * channel: an email address for email, an E.164 number for SMS. An assignment's own `invite.address` wins.
   */
  addressOf?: (userId: string) => string | undefined | Promise<string | undefined>;
}

/** Whether and where an assignment invites its user; see `RolesApi.assign`. */
export type InviteOption = boolean | { address?: string };

/** What became of an assignment's invitation. */
export interface InvitationOutcome {
  /** The invitation's message id in the delivery ledger (the adapter's idempotency key). */
  messageId: string;
  /**
   * `sent`, `failed` (the provider refused it for good; assigning the role again retries), `excluded`, or
   * `already-sent` when an earlier call sent this assignment's invitation.
   */
  status: DeliveryOutcome | "already-sent";
  /** The channel it went on. */
  channel: Channel;
  /** The address it went to. */
  address: string;
}

/** The pseudo-campaign invitations are recorded under in the ledger and the dispatcher's events. */
export const INVITATIONS_CAMPAIGN_ID = "kit:invitations";

const optionsSchema = z.object({
  channelConfigurationId: idSchema,
  link: httpUrlSchema,
  content: z.looseObject({}).optional(),
  addressOf: z
    .custom<(userId: string) => unknown>((value) => typeof value === "function", "Expected a function")
    .optional(),
});

/** Checks the `invitations` option when the kit is made: `VALIDATION_FAILED` naming each bad field. */
export function checkInvitationOptions(options: unknown): void {
  parseWith(optionsSchema, options, "invitations option", { screen: false });
}

const DEFAULT_CONTENT: Readonly<Record<Channel, ActionContent>> = {
  email: {
    subject: "You have been given the {{context.roleName}} role",
    text: "{{context.invitedBy}} gave you the {{context.roleName}} role. Sign in at {{context.link}}",
    html: '<p>{{context.invitedBy}} gave you the {{context.roleName}} role.</p><p><a href="{{context.link}}">Sign in</a></p>',
  },
  sms: { body: "{{context.invitedBy}} gave you the {{context.roleName}} role: {{context.link}}" },
  push: {
    title: "New role: {{context.roleName}}",
    body: "{{context.invitedBy}} invited you. {{context.link}}",
  },
  webhook: { payload: "{{json context}}" },
};

/** A prepared invitation: everything checked, nothing written or sent yet. */
export interface PreparedInvitation {
  campaign: Campaign;
  configuration: ChannelConfiguration;
  channel: Channel;
  address: string;
  context: Record<string, unknown>;
}

/** Sends role invitations through the kit's dispatcher. */
export interface Inviter {
  /**
   * Checks that an invitation to `userId` can go out (the configuration, its adapter, the content, an
   * address), before the assignment is written: `undefined` when no invitation is asked for.
   *
   * @throws CampaignKitError `INVITATIONS_NOT_CONFIGURED` or `INVITEE_ADDRESS_MISSING`.
   */
  prepare(params: {
    assignment: RoleAssignment;
    invite: InviteOption | undefined;
    invitedBy: string;
  }): Promise<PreparedInvitation | undefined>;
  /** Sends the prepared invitation of `assignment`, unless the ledger holds it as sent. */
  send(prepared: PreparedInvitation, assignment: RoleAssignment): Promise<InvitationOutcome>;
}

/** Builds the inviter; without `options`, an assignment that asks for an invitation is refused. */
export function createInviter(
  ctx: KitContext,
  dispatcher: Dispatcher,
  options: InvitationOptions | undefined,
): Inviter {
  function unavailable(reason: string, fix: string): CampaignKitError {
    return new CampaignKitError(
      "INVITATIONS_NOT_CONFIGURED",
      `Can't send role invitations: ${reason} ${fix}`,
      {
        details: { problem: reason, channelConfigurationId: options?.channelConfigurationId },
      },
    );
  }

  async function campaignFor(
    invitations: InvitationOptions,
  ): Promise<{ campaign: Campaign; configuration: ChannelConfiguration }> {
    const id = invitations.channelConfigurationId;
    const configuration = (await ctx.repos.configurations.getCached(id))?.value;
    if (!configuration) {
      throw unavailable(`channel configuration '${id}' does not exist.`, "Register it, or name another.");
    }
    if (configuration.status !== "active" || configuration.purpose !== "transactional") {
      throw unavailable(
        `channel configuration '${id}' is ${configuration.status} and ${configuration.purpose}.`,
        "Invitations need an active transactional configuration.",
      );
    }
    if (!ctx.channels.has(configuration.channel)) {
      throw unavailable(
        `the kit has no ${configuration.channel} adapter.`,
        `Pass one in \`channels\`, or name a configuration of a channel it has.`,
      );
    }
    const content = invitations.content ?? DEFAULT_CONTENT[configuration.channel];
    const campaign = parseWith(
      campaignSchema,
      {
        id: INVITATIONS_CAMPAIGN_ID,
        type: "api-triggered",
        category: "transactional",
        name: "Role invitations",
        identityNamespace: "user",
        status: "live",
        actions: [{ channel: configuration.channel, channelConfigurationId: id, content }],
        createdAt: new Date(0),
        updatedAt: new Date(0),
        createdBy: "system",
        updatedBy: "system",
      },
      "invitation content",
    );
    const [variant] = campaign.actions.flatMap(actionVariants);
    for (const field of variant ? actionTemplateFields(variant.action, "content") : []) {
      const error = field.source === undefined ? undefined : templateError(field.source);
      if (error) {
        throw unavailable(
          `the invitation's ${field.label} can't render: ${error.message}.`,
          "Fix `invitations.content`.",
        );
      }
    }
    return { campaign, configuration };
  }

  async function addressOf(userId: string, channel: Channel, invite: InviteOption): Promise<string> {
    const given = typeof invite === "object" ? invite.address : undefined;
    const found = given ?? (await options?.addressOf?.(userId));
    const fallback =
      channel === "email" && emailAddressSchema.safeParse(userId).success
        ? userId
        : channel === "sms" && e164Schema.safeParse(userId).success
          ? userId
          : undefined;
    const address = found ?? fallback;
    if (typeof address === "string" && address.length > 0) return address;
    throw new CampaignKitError(
      "INVITEE_ADDRESS_MISSING",
      `Can't invite '${userId}': no ${channel} address is known for this user. Pass \`invite: { address }\`, ` +
        "return one from `invitations.addressOf`, or pass `invite: false` to assign the role without inviting.",
      { details: { userId, channel } },
    );
  }

  /** The id of the execution an assignment's invitation belongs to: one per assignment, never reused. */
  function executionIdOf(assignment: RoleAssignment): string {
    const key = JSON.stringify([assignment.userId, assignment.roleId, assignment.assignedAt?.toISOString()]);
    return `invite-${createHash("sha256").update(key).digest("base64url").slice(0, 26)}`;
  }

  return {
    async prepare({ assignment, invite, invitedBy }) {
      if (invite === false || (invite === undefined && options === undefined)) return undefined;
      if (options === undefined) {
        throw unavailable(
          "the kit has no `invitations` option.",
          "Pass `invitations: { channelConfigurationId, link }` to createCampaignKit, or `invite: false`.",
        );
      }
      const { campaign, configuration } = await campaignFor(options);
      const channel = campaign.actions[0]?.channel as Channel;
      const { roleId, userId } = assignment;
      const roleName = isBuiltInRole(roleId)
        ? BUILT_IN_ROLES[roleId].name
        : ((await ctx.repos.roles.getCached(roleId))?.value.name ?? roleId);
      return {
        campaign,
        configuration,
        channel,
        address: await addressOf(userId, channel, invite ?? true),
        context: { link: options.link, userId, roleId, roleName, invitedBy },
      };
    },
    async send(prepared, assignment) {
      const { campaign, channel, address } = prepared;
      const executionId = executionIdOf(assignment);
      const recipient: Profile = {
        id: assignment.userId,
        identities: { user: assignment.userId },
        addresses: { [channel]: address },
        attributes: {},
        consent: {},
        suppressedChannels: [],
      };
      const id = messageId({
        campaignId: campaign.id,
        executionId,
        recipientId: recipient.id,
        channel,
      });
      const report = await dispatcher.dispatch({
        campaign,
        executionId,
        configurations: new Map([[prepared.configuration.id, prepared.configuration]]),
        recipients: [recipient],
        context: prepared.context,
      });
      const status: InvitationOutcome["status"] =
        report.skippedAlreadySent > 0
          ? "already-sent"
          : report.outcomes.sent > 0
            ? "sent"
            : report.outcomes.failed > 0
              ? "failed"
              : "excluded";
      return { messageId: id, status, channel, address };
    },
  };
}
