import { z } from "zod";
import { attributesSchema, idSchema, instantSchema } from "../model/common.js";

/** The largest trigger context, in bytes of JSON: 200 KB, as in the reference product. */
export const MAX_CONTEXT_BYTES = 200 * 1024;

/** The most recipients one unitary call may name. */
export const MAX_UNITARY_RECIPIENTS = 20;

/**
 * A trigger's real-time context: any JSON object of at most 200 KB, `system` excluded (reserved). Never
 * stored on the profile.
 */
export const triggerContextSchema = attributesSchema.superRefine((context, ctx) => {
  if (Object.hasOwn(context, "system")) {
    ctx.addIssue({
      code: "custom",
      path: ["system"],
      message: "`context.system` is reserved; use another key",
    });
  }
  const bytes = Buffer.byteLength(JSON.stringify(context), "utf8");
  if (bytes > MAX_CONTEXT_BYTES) {
    ctx.addIssue({
      code: "custom",
      message: `The context is ${Math.ceil(bytes / 1024)} KB; the limit is ${MAX_CONTEXT_BYTES / 1024} KB`,
    });
  }
});

/** One recipient of a unitary (transactional) execution, as the reference API names its fields. */
export const unitaryRecipientSchema = z.object({
  /** `aep`: a known profile looked up by identity; `external`: a person the payload describes. */
  type: z.enum(["aep", "external"], { error: "Expected `type` to be 'aep' or 'external'" }),
  /** The recipient's identity in `namespace`. */
  userId: z.string().min(1, "`userId` can't be empty"),
  namespace: z.string().min(1, "`namespace` can't be empty"),
  context: triggerContextSchema.optional(),
  /** Profile attributes for personalization (and for the new profile when one is created). */
  profile: attributesSchema.optional(),
  /** Where to send instead of the profile's address: `emailAddress`, `mobilePhoneNumber`, `pushToken`. */
  channelData: z
    .object({
      emailAddress: z.string().min(1).optional(),
      mobilePhoneNumber: z.string().min(1).optional(),
      pushToken: z.string().min(1).optional(),
    })
    .catchall(z.unknown())
    .optional(),
});
/** One recipient of a unitary execution. */
export type UnitaryRecipient = z.infer<typeof unitaryRecipientSchema>;

/** `POST /im/executions/unitary`: a transactional send to 1-20 named recipients. */
export const unitaryExecutionRequestSchema = z.object({
  requestId: idSchema,
  campaignId: idSchema,
  recipients: z
    .array(unitaryRecipientSchema)
    .min(1, "Name at least 1 recipient")
    .max(MAX_UNITARY_RECIPIENTS, `Name at most ${MAX_UNITARY_RECIPIENTS} recipients per call`)
    .superRefine((recipients, ctx) => {
      const seen = new Set<string>();
      recipients.forEach((recipient, index) => {
        if (seen.has(recipient.userId)) {
          ctx.addIssue({
            code: "custom",
            path: [index, "userId"],
            message: `Duplicate userId '${recipient.userId}': each recipient must be unique`,
          });
        }
        seen.add(recipient.userId);
      });
    }),
});
/** A unitary execution request, as accepted. */
export type UnitaryExecutionRequest = z.input<typeof unitaryExecutionRequestSchema>;

/** `POST /im/executions/audience`: a marketing send to the campaign's audience, now or at `executeAt`. */
export const audienceExecutionRequestSchema = z.object({
  campaignId: idSchema,
  requestId: idSchema.optional(),
  audience: z.object({ id: idSchema }).optional(),
  context: triggerContextSchema.optional(),
  schedule: z.object({ executeAt: instantSchema }).optional(),
});
/** An audience execution request, as accepted. */
export type AudienceExecutionRequest = z.input<typeof audienceExecutionRequestSchema>;

/** What both trigger calls answer at once (202), while sending goes on. */
export interface ExecutionAccepted {
  /** The execution that sends (or sent) the request's messages. */
  executionId: string;
  /** The caller's request id, echoed. */
  requestId: string;
  /** When the execution was created, ISO 8601. */
  createdAt: string;
  /** Whether this call created the execution; `false` when the request id was seen before. */
  created: boolean;
}

/** `GET /im/executions/audience/{executionId}`, in the reference product's shape. */
export interface ExecutionStatusView {
  /** The execution. */
  executionId: string;
  /** Its campaign. */
  campaignId: string;
  /** The audience an audience execution sends to. */
  audienceId?: string;
  /** Where it stands, in the reference product's words. */
  status: "Succeeded" | "InProgress" | "Failed" | "Scheduled" | "Cancelled";
  /** Profiles targeted so far. */
  targetedProfileCount: number;
  /** When it was created, ISO 8601. */
  createdAt: string;
  /** When a deferred (`Scheduled`) execution fires, or when an occurrence was due. */
  executeAt?: string;
}
