import { CampaignKitError } from "../errors.js";
import {
  type ChannelConfiguration,
  type ChannelConfigurationInput,
  channelConfigurationSchema,
} from "../model/channel-configuration.js";
import type { ReadonlyDeep } from "../model/common.js";
import { parseWith } from "../model/parse.js";
import type { Page, PageParams } from "../ports/storage.js";
import type { Versioned } from "../repositories/index.js";
import { type ActorRef, type KitContext, operate, targetsOf } from "./context.js";

/**
 * Channel configurations. Writes need `channel-configuration.manage` (administrators); reads need
 * `campaign.read`. An active configuration keeps its name, channel and subdomain; one used by a live or
 * scheduled campaign can't be deactivated.
 */
export interface ConfigurationsApi {
  /** Registers a configuration (in `draft` unless a status is given). `ALREADY_EXISTS` when the id is taken. */
  register(params: {
    actor: ActorRef;
    configuration: ReadonlyDeep<ChannelConfigurationInput>;
  }): Promise<ChannelConfiguration>;
  /** Changes settings or purpose; `READ_ONLY_FIELD` for name, channel or subdomain of an active one. */
  update(params: {
    actor: ActorRef;
    id: string;
    changes: Partial<Omit<ChannelConfigurationInput, "id" | "status">>;
  }): Promise<ChannelConfiguration>;
  /** Makes a configuration active, so campaigns can select it. */
  activate(params: { actor: ActorRef; id: string }): Promise<ChannelConfiguration>;
  /** Deactivates a configuration; `IN_USE` while a live or scheduled campaign uses it. */
  deactivate(params: { actor: ActorRef; id: string }): Promise<ChannelConfiguration>;
  /** The configuration; `NOT_FOUND` when absent. */
  get(params: { actor: ActorRef; id: string }): Promise<ChannelConfiguration>;
  /** Configurations by id, paged. */
  list(
    params: { actor: ActorRef; channel?: ChannelConfiguration["channel"] } & PageParams,
  ): Promise<Page<ChannelConfiguration>>;
}

const readOnlyWhenActive = (c: ChannelConfiguration) => ({
  name: c.name,
  channel: c.channel,
  subdomain: c.channel === "email" ? c.settings.subdomain : undefined,
});

/** Builds the configurations API. */
export function configurationsApi(ctx: KitContext): ConfigurationsApi {
  const target = targetsOf("channel-configuration");
  const configurations = ctx.repos.configurations;
  const manage = "channel-configuration.manage" as const;

  async function save(current: Versioned<ChannelConfiguration>, next: ChannelConfiguration) {
    await configurations.replace(current, next);
    return { result: next, fromStatus: current.value.status, toStatus: next.status };
  }

  return {
    register: ({ actor, configuration }) =>
      operate(ctx, actor, manage, target("channel-configuration.register", configuration?.id), async () => {
        const now = ctx.now();
        const parsed = parseWith(
          channelConfigurationSchema,
          { ...configuration, createdAt: now, updatedAt: now },
          "channel configuration",
        );
        if (!(await configurations.insert(parsed))) {
          throw new CampaignKitError(
            "ALREADY_EXISTS",
            `Channel configuration '${parsed.id}' already exists; update it instead.`,
            { details: { id: parsed.id } },
          );
        }
        return { result: parsed, toStatus: parsed.status };
      }),
    update: ({ actor, id, changes }) =>
      operate(ctx, actor, manage, target("channel-configuration.update", id), async () => {
        const current = await configurations.find(id);
        const next = parseWith(
          channelConfigurationSchema,
          { ...current.value, ...changes, id, status: current.value.status, updatedAt: ctx.now() },
          "channel configuration",
        );
        if (current.value.status === "active") {
          const before = readOnlyWhenActive(current.value);
          const after = readOnlyWhenActive(next);
          const changed = (Object.keys(before) as (keyof typeof before)[]).filter(
            (k) => before[k] !== after[k],
          );
          if (changed.length > 0) {
            throw new CampaignKitError(
              "READ_ONLY_FIELD",
              `Channel configuration '${id}' is active: its ${changed.join(", ")} can't change. Create a new ` +
                "configuration instead.",
              { details: { fields: changed } },
            );
          }
        }
        return save(current, next);
      }),
    activate: ({ actor, id }) =>
      operate(ctx, actor, manage, target("channel-configuration.activate", id), async () => {
        const current = await configurations.find(id);
        return save(current, { ...current.value, status: "active", updatedAt: ctx.now() });
      }),
    deactivate: ({ actor, id }) =>
      operate(ctx, actor, manage, target("channel-configuration.deactivate", id), async () => {
        const current = await configurations.find(id);
        const { items } = await ctx.repos.campaigns.list(
          { status: { in: ["live", "scheduled"] }, configurations: id },
          { limit: 1 },
        );
        const campaign = items[0];
        if (campaign) {
          throw new CampaignKitError(
            "IN_USE",
            `Channel configuration '${id}' is used by ${campaign.status} campaign '${campaign.id}'; stop ` +
              "that campaign before deactivating it.",
            { details: { campaignId: campaign.id } },
          );
        }
        return save(current, { ...current.value, status: "deactivated", updatedAt: ctx.now() });
      }),
    get: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("channel-configuration.read", id, true), async () => ({
        result: (await configurations.find(id)).value,
      })),
    list: ({ actor, channel, ...page }) =>
      operate(ctx, actor, "campaign.read", target("channel-configuration.list", "*", true), async () => ({
        result: await configurations.list(channel === undefined ? undefined : { channel }, page),
      })),
  };
}
