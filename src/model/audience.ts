import { z } from "zod";
import { idSchema, instantSchema } from "./common.js";

/** An audience's evaluation status; only `realized` audiences are available to campaigns. */
export const audienceStatusSchema = z.enum(["processing", "realized", "failed"]);

/** A named set of profiles a campaign sends to, keyed by one identity namespace. */
export const audienceSchema = z.object({
  id: idSchema,
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  status: audienceStatusSchema.default("processing"),
  /** The identity namespace its members are keyed by (`email`, `phone`, `ecid`...). */
  identityNamespace: z.string().min(1),
  /** How many profiles it holds, as last evaluated. */
  estimatedSize: z.number().int().min(0).optional(),
  evaluatedAt: instantSchema.optional(),
});
/** A named set of profiles a campaign sends to. */
export type Audience = z.infer<typeof audienceSchema>;
/** An audience as accepted by {@link audienceSchema}. */
export type AudienceInput = z.input<typeof audienceSchema>;

/** Whether a campaign may use the audience: it has been evaluated (realized), not processing or failed. */
export function isAudienceAvailable(audience: Pick<Audience, "status">): boolean {
  return audience.status === "realized";
}
