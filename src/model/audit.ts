import { z } from "zod";
import { idSchema, instantSchema } from "./common.js";

/** One audited action: who did what to which object, when, and whether it was allowed. */
export const auditEntrySchema = z.object({
  id: idSchema,
  at: instantSchema,
  actorId: idSchema,
  /** The operation, as `object.verb`: `campaign.activate`, `role.assign`... */
  action: z.string().min(1),
  objectType: z.enum([
    "campaign",
    "audience",
    "channel-configuration",
    "role",
    "approval-policy",
    "execution",
    "suppression",
  ]),
  objectId: idSchema,
  /** `denied` for refused attempts (missing permission, invalid transition...), `failed` for other errors. */
  outcome: z.enum(["allowed", "denied", "failed"]),
  /** The object's status before and after, where it has one. */
  fromStatus: z.string().optional(),
  toStatus: z.string().optional(),
  /** The error code of a denied or failed attempt. */
  errorCode: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
/** One audited action. */
export type AuditEntry = z.infer<typeof auditEntrySchema>;
