import { type ErrorCode, isCampaignKitError } from "../errors.js";

/** An RFC 9457 (formerly 7807) problem document, in the reference execution API's shape. */
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
  INVITATIONS_NOT_CONFIGURED: 500,
  INVITEE_ADDRESS_MISSING: 422,
  STORAGE_FAILED: 503,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  // The CLI's own refusals: a handler never raises them, and a kit that can't be built is the server's fault.
  INVALID_ARGUMENTS: 400,
  CONFIG_INVALID: 500,
  WEBHOOK_SIGNATURE_INVALID: 401,
  // A link no message carried: as absent as any other unknown path.
  TRACKING_TOKEN_INVALID: 404,
};

// Storage errors carry the driver's words (table names, SQL, encodings): for logs, never for callers.
const STORAGE_FAILED_DETAIL = "The storage backend failed; retry later. The server's logs hold the cause.";

/**
 * `details` minus a storage failure's words: an operation refused because storage failed, whose audit entry
 * then failed too, carries the first failure as `refusal`.
 */
function withoutStorageWords(details: unknown): Record<string, unknown> {
  const all = { ...(details as Record<string, unknown> | undefined) };
  const refusal = all.refusal as { code?: unknown } | undefined;
  if (refusal?.code === "STORAGE_FAILED") all.refusal = { code: refusal.code };
  return all;
}

/**
 * Turns any error into the problem document a REST endpoint answers with: a
 * {@link campaign-kit!CampaignKitError | CampaignKitError} keeps its code, message and details (validation
 * issues name each field), except that `STORAGE_FAILED` says only that storage failed (the driver's message
 * stays in the error's `cause`, for logs); anything else is a 500 that says nothing of its cause.
 *
 * The execution API's handler answers with these already; call it where you expose other kit operations
 * over HTTP yourself.
 *
 * @example
 * ```ts
 * import { toProblemDocument } from "campaign-kit/http";
 *
 * try {
 *   await kit.campaigns.activate({ actor, id });
 * } catch (error) {
 *   const problem = toProblemDocument(error);
 *   return Response.json(problem, {
 *     status: problem.status,
 *     headers: { "content-type": "application/problem+json" },
 *   });
 * }
 * ```
 */
export function toProblemDocument(error: unknown): ProblemDocument {
  // `isCampaignKitError` also knows errors thrown by another copy of the package: the CommonJS build bundles
  // each entry point on its own, so a kit required from `campaign-kit` throws another class than this one's.
  if (isCampaignKitError(error)) {
    const known = error;
    return {
      type: `urn:campaign-kit:error:${known.code}`,
      title: known.code.toLowerCase().replaceAll("_", " "),
      status: HTTP_STATUS[known.code],
      detail: known.code === "STORAGE_FAILED" ? STORAGE_FAILED_DETAIL : known.message,
      report: { additionalContext: { code: known.code, ...withoutStorageWords(known.details) } },
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
