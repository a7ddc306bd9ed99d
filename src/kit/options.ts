import { z } from "zod";
import { channelSchema, httpUrlSchema, idSchema } from "../model/common.js";
import { parseWith } from "../model/parse.js";
import { STORAGE_METHODS } from "../ports/storage.js";

/*
 * `createCampaignKit` checks its options at run time: a host wiring the kit from JavaScript, or from a config
 * file, learns at start-up that an adapter is missing `send` or that two adapters claim one channel, instead
 * of from a campaign that later sends nothing.
 */

const fn = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === "function",
  "Expected a function",
);

/** An object whose `methods` are all functions; names the missing ones in one issue. */
const withMethods = (what: string, methods: readonly string[]) =>
  z
    .custom<object>((value) => typeof value === "object" && value !== null, `Expected ${what} object`)
    .superRefine((value, ctx) => {
      const missing = methods.filter(
        (name) => typeof (value as Record<string, unknown>)[name] !== "function",
      );
      if (missing.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `${what} lacks ${missing.map((name) => `\`${name}()\``).join(", ")}`,
        });
      }
    });

const adapterSchema = z.looseObject({
  name: z.string().min(1, "An adapter needs a `name`"),
  channel: channelSchema,
  capabilities: z.looseObject({
    batch: z.boolean(),
    idempotencyKeys: z.boolean(),
    maxBatchSize: z.number().int().min(1).optional(),
  }),
  send: fn,
  sendBatch: fn.optional(),
});

const positive = z.number().int().min(1);

const optionsSchema = z.looseObject({
  storage: withMethods("A storage", STORAGE_METHODS).optional(),
  channels: z
    .array(adapterSchema, { error: "Expected a list of channel adapters" })
    .superRefine((adapters, ctx) => {
      const seen = new Map<string, number>();
      adapters.forEach((adapter, index) => {
        const first = seen.get(adapter.channel);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [index],
            message: `A second adapter for ${adapter.channel} ('${adapter.name}', after channels.${first}): pass one adapter per channel`,
          });
        }
        seen.set(adapter.channel, index);
      });
    })
    .optional(),
  audiences: z
    .looseObject({ members: fn, findProfiles: fn, saveProfile: fn }, { error: "Expected an audience source" })
    .optional(),
  clock: z.looseObject({ now: fn, sleep: fn }).optional(),
  newId: fn.optional(),
  administrators: z.array(idSchema).optional(),
  dispatcher: z
    .looseObject({
      concurrency: positive.optional(),
      transactionalConcurrency: positive.optional(),
      batchSize: positive.optional(),
      progressIntervalMs: z.number().min(0).optional(),
      maxMessageChars: positive.optional(),
    })
    .optional(),
  claimMs: positive.optional(),
  readCache: z.boolean().optional(),
  logger: withMethods("A logger", ["debug", "info", "warn", "error"]).optional(),
  telemetry: withMethods("A telemetry", ["startSpan", "count"]).optional(),
  lifecycle: z
    .looseObject({
      completeAfterDays: z.number().min(0, "`completeAfterDays` is a number of days, 0 or more").optional(),
      archiveRetentionDays: z
        .union([z.number().min(0), z.literal(false)], {
          error:
            "`archiveRetentionDays` is a number of days, 0 or more, or `false` to keep archived campaigns",
        })
        .optional(),
    })
    .optional(),
  tracking: z
    .object({
      secret: z.string().min(32, "The tracking secret must be at least 32 characters: use a random one"),
      baseUrl: httpUrlSchema,
      previousSecrets: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  workQueue: withMethods("A work queue", ["enqueue", "serve", "outstanding", "cancel", "close"]).optional(),
  chunkSize: positive.optional(),
  inDoubt: z.enum(["resend-if-idempotent", "fail", "resend"]).optional(),
});

/** Throws `VALIDATION_FAILED`, naming each bad option, unless `options` can build a kit. */
export function checkKitOptions(options: unknown): void {
  parseWith(optionsSchema, options, "createCampaignKit options", { screen: false });
}
