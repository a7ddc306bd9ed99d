import { z } from "zod";
import { categorySchema, channelSchema, idSchema, instantSchema } from "./common.js";

/**
 * An approval policy: IF a campaign matches `conditions` THEN activation needs one of `approvers`. When several
 * active policies match, the most recently activated wins.
 */
export const approvalPolicySchema = z.object({
  id: idSchema,
  name: z.string().min(1).max(200),
  status: z.enum(["active", "inactive"]).default("inactive"),
  activatedAt: instantSchema.optional(),
  /** Every given condition must hold; an absent or empty condition matches anything. */
  conditions: z
    .object({
      types: z.array(z.enum(["scheduled", "api-triggered"])).optional(),
      categories: z.array(categorySchema).optional(),
      channels: z.array(channelSchema).optional(),
      /** Matches when the campaign has any of these tags. */
      tags: z.array(z.string().min(1)).optional(),
      /** Matches when the requester is one of these users. */
      requesters: z.array(idSchema).optional(),
      /** Matches when the requester belongs to any of these groups. */
      requesterGroups: z.array(idSchema).optional(),
    })
    .default({}),
  /** Who may approve: any listed user, or anyone holding a listed role. */
  approvers: z
    .object({ users: z.array(idSchema).default([]), roles: z.array(idSchema).default([]) })
    .refine((a) => a.users.length + a.roles.length > 0, {
      message: "Name at least one approver user or role",
    }),
  /** When set, the requester can't approve their own request. */
  blockSelfApproval: z.boolean().default(true),
});
/** An approval policy. */
export type ApprovalPolicy = z.infer<typeof approvalPolicySchema>;
/** An approval policy as accepted by {@link approvalPolicySchema}. */
export type ApprovalPolicyInput = z.input<typeof approvalPolicySchema>;

/** A request to activate a campaign, decided by an approver. */
export const approvalRequestSchema = z.object({
  id: idSchema,
  campaignId: idSchema,
  /** The campaign version the request is for: a later edit needs a new request. */
  campaignVersion: z.number().int().min(1),
  /** The matching policy; absent when none matched and the request was auto-approved. */
  policyId: idSchema.optional(),
  status: z.enum(["pending", "approved", "changes-requested", "cancelled"]),
  requestedBy: idSchema,
  requestedAt: instantSchema,
  decidedBy: idSchema.optional(),
  decidedAt: instantSchema.optional(),
  comment: z.string().max(2000).optional(),
});
/** A request to activate a campaign. */
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;
