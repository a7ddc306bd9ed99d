import { z } from "zod";
import { instantSchema, localTimeSchema, timeZoneSchema } from "./common.js";

/** Days of the week, as recurrence rules name them. */
export const WEEKDAYS = [
  "sunday",
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
] as const;
/** A day of the week. */
export type Weekday = (typeof WEEKDAYS)[number];

const interval = z
  .number()
  .int()
  .min(1, "`interval` is at least 1 (every 1, 2, ... periods)")
  .max(366)
  .default(1);

const uniqueItems = <T>(items: readonly T[]) => new Set(items).size === items.length;

/**
 * How a campaign repeats: every `interval` days, weeks (on some days of the week) or months (on some days of
 * the month), at a local hour and minute in the schedule's time zone.
 */
export const recurrenceSchema = z.discriminatedUnion(
  "frequency",
  [
    z.object({ frequency: z.literal("daily"), interval, at: localTimeSchema }),
    z.object({
      frequency: z.literal("weekly"),
      interval,
      daysOfWeek: z
        .array(z.enum(WEEKDAYS))
        .min(1, "Name at least one day of the week")
        .refine(uniqueItems, "Each day of the week at most once"),
      at: localTimeSchema,
    }),
    z.object({
      frequency: z.literal("monthly"),
      interval,
      daysOfMonth: z
        .array(z.number().int().min(1).max(31))
        .min(1, "Name at least one day of the month")
        .refine(uniqueItems, "Each day of the month at most once"),
      at: localTimeSchema,
    }),
  ],
  { error: "Expected `frequency` to be one of: daily, weekly, monthly" },
);
/** How a campaign repeats. */
export type Recurrence = z.infer<typeof recurrenceSchema>;

/**
 * When a campaign sends. Without `startAt` it starts when activated; without `recurrence` it sends once.
 * `timeZone` is where the recurrence's local hour applies, and the fallback for profiles without one when
 * `sendInProfileTimeZone` is set.
 */
export const scheduleSchema = z
  .object({
    timeZone: timeZoneSchema.default("UTC"),
    startAt: instantSchema.optional(),
    endAt: instantSchema.optional(),
    recurrence: recurrenceSchema.optional(),
    maxOccurrences: z.number().int().min(1).optional(),
    sendInProfileTimeZone: z.boolean().default(false),
  })
  .superRefine((schedule, ctx) => {
    if (schedule.startAt && schedule.endAt && schedule.endAt <= schedule.startAt) {
      ctx.addIssue({ code: "custom", path: ["endAt"], message: "`endAt` must be after `startAt`" });
    }
    if (schedule.maxOccurrences !== undefined && !schedule.recurrence && schedule.maxOccurrences !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["maxOccurrences"],
        message: "`maxOccurrences` above 1 needs a `recurrence`",
      });
    }
  });
/** When a campaign sends. */
export type Schedule = z.infer<typeof scheduleSchema>;
