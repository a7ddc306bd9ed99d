import { z } from "zod";
import { idSchema, instantSchema } from "./common.js";

/** An audience's evaluation status; only `realized` audiences are available to campaigns. */
export const audienceStatusSchema = z.enum(["processing", "realized", "failed"]);

/** A named set of profiles a campaign sends to, keyed by one identity namespace. */
export const audienceSchema = z.object({
  /** Its id, which campaigns name as `audienceId` and the audience source streams members for. */
  id: idSchema,
  /** A name people recognise it by, 1 to 200 characters. */
  name: z.string().min(1).max(200),
  /** Free text. */
  description: z.string().optional(),
  /** `realized` once evaluated and usable by campaigns, `processing` until then, `failed` if it can't be. */
  status: audienceStatusSchema.default("processing"),
  /** The identity namespace its members are keyed by (`email`, `phone`, `ecid`...). */
  identityNamespace: z.string().min(1),
  /** How many profiles it holds, as last evaluated. */
  estimatedSize: z.number().int().min(0).optional(),
  /** When it was last evaluated. */
  evaluatedAt: instantSchema.optional(),
});
/**
 * A named set of profiles a campaign sends to, keyed by one identity namespace. The kit keeps this record;
 * the members come from the kit's `AudienceSource`.
 *
 * @interface
 */
export type Audience = z.infer<typeof audienceSchema>;
/** An audience as accepted by {@link audienceSchema}. */
export type AudienceInput = z.input<typeof audienceSchema>;

/** Whether a campaign may use the audience: it has been evaluated (realized), not processing or failed. */
export function isAudienceAvailable(audience: Pick<Audience, "status">): boolean {
  return audience.status === "realized";
}
