import { z } from "zod";
import { localTimeSchema } from "./common.js";

/** The reference product's limits on per-campaign send rate, in messages per second. */
export const RATE_LIMIT = { min: 1, max: 2000 } as const;

/** Splits an audience into 2 to 10 slices sent at least 30 minutes apart. */
export const wavesSchema = z
  .discriminatedUnion(
    "split",
    [
      z.object({ split: z.literal("equal"), count: z.number().int().min(2).max(10) }),
      z.object({
        split: z.literal("percentages"),
        percentages: z
          .array(z.number().positive())
          .min(2, "At least 2 waves")
          .max(10, "At most 10 waves")
          .refine((values) => Math.abs(values.reduce((a, b) => a + b, 0) - 100) < 1e-9, {
            message: "Wave percentages must sum to 100",
          }),
      }),
      z.object({
        split: z.literal("counts"),
        counts: z.array(z.number().int().positive()).min(2, "At least 2 waves").max(10, "At most 10 waves"),
      }),
    ],
    { error: "Expected `split` to be one of: equal, percentages, counts" },
  )
  .and(
    z.object({
      intervalMinutes: z.number().int().min(30, "Waves are at least 30 minutes apart").default(60),
    }),
  );
/** How an audience is split into waves. */
export type Waves = z.infer<typeof wavesSchema>;

/** No sends between `start` and `end` local time (the range may wrap midnight). */
export const quietHoursSchema = z
  .object({
    start: localTimeSchema,
    end: localTimeSchema,
    /** `queue` holds the message until quiet hours end; `discard` excludes it. */
    behavior: z.enum(["queue", "discard"]).default("queue"),
  })
  .refine((q) => q.start.hour !== q.end.hour || q.start.minute !== q.end.minute, {
    message: "Quiet hours must not start and end at the same time",
  });
/** Quiet hours. */
export type QuietHours = z.infer<typeof quietHoursSchema>;

/** At most `max` messages per profile per channel per `period` (marketing only). */
export const frequencyCapSchema = z.object({
  max: z.number().int().min(1),
  period: z.enum(["hour", "day", "week", "month"]),
});
/** A frequency cap. */
export type FrequencyCap = z.infer<typeof frequencyCapSchema>;

/** A campaign's delivery controls. Everything is optional: absent means unlimited or off. */
export const deliveryControlsSchema = z.object({
  /** Messages per second for this campaign, 1 to 2000; absent means unlimited. */
  rateLimit: z
    .number()
    .int("The rate limit is a whole number of messages per second")
    .min(RATE_LIMIT.min, "The rate limit is at least 1 message per second")
    .max(RATE_LIMIT.max, "The rate limit is at most 2000 messages per second")
    .optional(),
  /** Hours after an occurrence starts during which its messages may go out; what misses it is excluded. */
  deliveryWindowHours: z.number().positive().max(72).default(12),
  waves: wavesSchema.optional(),
  quietHours: quietHoursSchema.optional(),
  frequencyCap: frequencyCapSchema.optional(),
});
/** A campaign's delivery controls. */
export type DeliveryControls = z.infer<typeof deliveryControlsSchema>;
