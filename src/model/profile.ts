import { z } from "zod";
import { attributesSchema, channelSchema, idSchema, timeZoneSchema } from "./common.js";

/**
 * A person who can receive messages. `attributes` are what templates see as `profile` (so
 * `{{profile.person.name.firstName}}` reads `attributes.person.name.firstName`).
 */
export const profileSchema = z.object({
  /** Its id: the recipient id in messages, the ledger and reports. */
  id: idSchema,
  /** Identities by namespace: `{ email: "ana@example.com", ecid: "123" }`. */
  identities: z.record(z.string(), z.string()).default({}),
  /** Where to reach the profile per channel when it isn't its identity: email address, E.164 phone, push token. */
  addresses: z.partialRecord(channelSchema, z.string()).default({}),
  /** What templates see as `profile`: `{{profile.person.name.firstName}}` reads `person.name.firstName`. */
  attributes: attributesSchema.default({}),
  /** Marketing consent per channel; marketing sends need an explicit `true`. */
  consent: z.partialRecord(channelSchema, z.boolean()).default({}),
  /** Channels on which this profile is suppressed (bounces, complaints): nothing is sent there. */
  suppressedChannels: z.array(channelSchema).default([]),
  /** The profile's IANA time zone, for sends in profile time zone and quiet hours. */
  timeZone: timeZoneSchema.optional(),
});
/**
 * A person who can receive messages.
 *
 * @interface
 */
export type Profile = z.infer<typeof profileSchema>;
/** A profile as accepted by {@link profileSchema}. */
export type ProfileInput = z.input<typeof profileSchema>;
