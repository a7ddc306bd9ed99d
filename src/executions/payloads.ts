import { z } from "zod";
import { CampaignKitError, type ErrorCode } from "../errors.js";
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

/** An RFC 7807-style problem document, in the reference API's shape. */
export interface ProblemDocument {
  /** A URI naming the problem: `urn:campaign-kit:error:<CODE>`. */
  type: string;
  /** The code in words. */
  title: string;
  /** The HTTP status to answer with. */
  status: number;
  /** What went wrong and what to do, for people. */
  detail: string;
  /** For programs: the code and its details (validation issues name each field). */
  report: { additionalContext: Record<string, unknown> };
}

/**
 * The HTTP status of each code: 4xx where the caller can fix the call, 5xx where the server is at fault
 * (storage down, the kit missing an adapter or an audience source).
 */
const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  INVALID_TRANSITION: 409,
  NOT_EDITABLE: 409,
  APPROVAL_REQUIRED: 409,
  IN_USE: 409,
  READ_ONLY_FIELD: 409,
  PREREQUISITES_UNMET: 422,
  TEMPLATE_INVALID: 422,
  UNKNOWN_RECIPIENT: 422,
  CAMPAIGN_NOT_LIVE: 422,
  OUTSIDE_WINDOW: 422,
  WRONG_CAMPAIGN_TYPE: 422,
  CHANNEL_NOT_REGISTERED: 500,
  AUDIENCE_SOURCE_MISSING: 500,
  STORAGE_FAILED: 503,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
};

// Storage errors carry the driver's words (table names, SQL, encodings): for logs, never for callers.
const STORAGE_FAILED_DETAIL = "The storage backend failed; retry later. The server's logs hold the cause.";

/**
 * Turns any error into the problem document a REST endpoint answers with: a {@link CampaignKitError} keeps
 * its code, message and details (validation issues name each field), except that `STORAGE_FAILED` says only
 * that storage failed (the driver's message stays in the error's `cause`, for logs); anything else is a 500.
 *
 * @example
 * ```ts
 * try { await kit.executions.triggerUnitary({ actor, request }); }
 * catch (error) { const problem = toProblemDocument(error); res.status(problem.status).json(problem); }
 * ```
 */
export function toProblemDocument(error: unknown): ProblemDocument {
  if (error instanceof CampaignKitError) {
    return {
      type: `urn:campaign-kit:error:${error.code}`,
      title: error.code.toLowerCase().replaceAll("_", " "),
      status: HTTP_STATUS[error.code],
      detail: error.code === "STORAGE_FAILED" ? STORAGE_FAILED_DETAIL : error.message,
      report: { additionalContext: { code: error.code, ...error.details } },
    };
  }
  return {
    type: "urn:campaign-kit:error:INTERNAL",
    title: "internal error",
    status: 500,
    detail: "The request could not be processed; see the server logs.",
    report: { additionalContext: {} },
  };
}
