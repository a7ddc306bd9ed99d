import { CampaignKitError } from "../errors.js";
import { type Audience, type AudienceInput, audienceSchema } from "../model/audience.js";
import type { ReadonlyDeep } from "../model/common.js";
import { parseWith } from "../model/parse.js";
import type { Page, PageParams } from "../ports/storage.js";
import { type ActorRef, type KitContext, operate, targetsOf } from "./context.js";

/** Audience registration. Writes need `audience.manage` (administrators); reads need `campaign.read`. */
export interface AudiencesApi {
  /** Registers a new audience. `ALREADY_EXISTS` when the id is taken. */
  register(params: { actor: ActorRef; audience: ReadonlyDeep<AudienceInput> }): Promise<Audience>;
  /** Changes an audience (name, status after evaluation, estimated size...); the id stays. */
  update(params: {
    actor: ActorRef;
    id: string;
    changes: Partial<Omit<AudienceInput, "id">>;
  }): Promise<Audience>;
  /** The audience; `NOT_FOUND` when absent. */
  get(params: { actor: ActorRef; id: string }): Promise<Audience>;
  /** Audiences by id, paged. */
  list(params: { actor: ActorRef } & PageParams): Promise<Page<Audience>>;
}

/** Builds the audiences API. */
export function audiencesApi(ctx: KitContext): AudiencesApi {
  const target = targetsOf("audience");
  const audiences = ctx.repos.audiences;

  return {
    register: ({ actor, audience }) =>
      operate(ctx, actor, "audience.manage", target("audience.register", audience?.id), async () => {
        const parsed = parseWith(audienceSchema, audience, "audience");
        if (!(await audiences.insert(parsed))) {
          throw new CampaignKitError(
            "ALREADY_EXISTS",
            `Audience '${parsed.id}' already exists; update it instead.`,
            { details: { id: parsed.id } },
          );
        }
        return { result: parsed, toStatus: parsed.status };
      }),
    update: ({ actor, id, changes }) =>
      operate(ctx, actor, "audience.manage", target("audience.update", id), async () => {
        const current = await audiences.find(id);
        const parsed = parseWith(audienceSchema, { ...current.value, ...changes, id }, "audience");
        await audiences.replace(current, parsed);
        return { result: parsed, fromStatus: current.value.status, toStatus: parsed.status };
      }),
    get: ({ actor, id }) =>
      operate(ctx, actor, "campaign.read", target("audience.read", id, true), async () => ({
        result: (await audiences.find(id)).value,
      })),
    list: ({ actor, ...page }) =>
      operate(ctx, actor, "campaign.read", target("audience.list", "*", true), async () => ({
        result: await audiences.list(undefined, page),
      })),
  };
}
