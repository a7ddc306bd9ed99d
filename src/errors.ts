/**
 * Every error code campaign-kit can raise, in one map, each with the default message that tells the reader
 * what to do. Codes are stable: match on `error.code`, never on the message.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: "The input does not match the schema; see `issues` for each path and reason.",
  INVALID_TRANSITION: "This action is not allowed from the campaign's current status.",
  FORBIDDEN: "The actor lacks the permission this operation needs; assign a role that grants it.",
  NOT_FOUND: "The object does not exist; check the id.",
  CONFLICT: "The object changed since it was read; read it again and retry the update.",
  ALREADY_EXISTS: "An object with this id already exists; pick another id.",
  PREREQUISITES_UNMET: "The campaign's prerequisites are not met; see `problems` for each one and its fix.",
  TEMPLATE_INVALID: "A template does not compile; fix its Handlebars syntax.",
  CHANNEL_NOT_REGISTERED: "No channel adapter is registered for this channel; pass one in `channels`.",
  AUDIENCE_SOURCE_MISSING: "No audience source can stream this audience; pass one in `audiences`.",
  CAMPAIGN_NOT_LIVE: "The campaign must be live to be triggered; activate it first.",
  OUTSIDE_WINDOW: "The call falls outside the campaign's start/end window.",
  UNKNOWN_RECIPIENT: "A recipient has no profile and the campaign does not create new ones.",
  WRONG_CAMPAIGN_TYPE: "This operation does not apply to this type or category of campaign.",
  IN_USE: "The object is used by a live or scheduled campaign; stop the campaign first.",
  NOT_EDITABLE: "Only draft campaigns can be edited; create a new version or duplicate the campaign.",
  APPROVAL_REQUIRED: "An approval policy covers this campaign; request approval instead of activating it.",
  READ_ONLY_FIELD: "The field is read-only in the object's current status.",
  STORAGE_FAILED: "The storage backend failed; see `cause`.",
  METHOD_NOT_ALLOWED: "The execution API serves this path with other HTTP methods; see the `allow` header.",
  UNSUPPORTED_MEDIA_TYPE: "The execution API reads JSON bodies only; send `content-type: application/json`.",
  PAYLOAD_TOO_LARGE: "The request body is larger than any valid call; send less.",
  INVITATIONS_NOT_CONFIGURED:
    "An assignment asked to invite its user, but the kit's `invitations` option is absent or its configuration unusable.",
  INVITEE_ADDRESS_MISSING:
    "No address is known to invite the user on the invitations' channel; pass `invite: { address }` or `invite: false`.",
  INVALID_ARGUMENTS: "The command line is not valid; see `campaign-kit --help` for the commands and flags.",
  CONFIG_INVALID:
    "The campaign-kit config was not found, did not load, or did not build a kit; see the message for the fix.",
  WEBHOOK_SIGNATURE_INVALID:
    "A provider webhook call's signature or credentials don't check out; check the webhook's secret or key.",
  TRACKING_TOKEN_INVALID:
    "A tracking link's token is not one the kit signed; the link was altered, or the tracking secret changed.",
} as const;

/** One reason a value failed validation. */
export interface ValidationIssue {
  /** Where the problem is, as a dotted path (`actions.0.content.subject`); empty for the whole value. */
  path: string;
  /** What is wrong there, in words. */
  message: string;
}

/** A stable error code; see {@link ERROR_CODES} for the meaning of each. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** `T` with every field optional, and allowed to hold `undefined`: details carry what each refusal knows. */
type Known<T> = { [K in keyof T]?: T[K] | undefined };

type Turned<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * The structured `details` of each error code, for programs. Every field but `issues`, `problems` and
 * `userIds` is optional: not every refusal of a code knows each. Narrow on `error.code` (or pass the code to
 * {@link isCampaignKitError}), then read that code's details.
 */
export interface ErrorDetails {
  VALIDATION_FAILED: { issues: ValidationIssue[] } & Known<{ refusal: unknown; refusedIds: unknown }>;
  INVALID_TRANSITION: Known<{
    status: string;
    action: string;
    allowed: string[];
    replacesCampaignId: string;
  }>;
  FORBIDDEN: Known<{
    permission: string;
    actorId: string;
    grantedBy: string[];
    action: string;
    policyId: string;
    reason: "not-an-approver" | "self-approval-blocked" | "policy-missing";
  }>;
  NOT_FOUND: Known<{
    id: string;
    roleId: string;
    audienceId: string;
    channelConfigurationId: string;
    campaignId: string;
    issues: ValidationIssue[];
  }>;
  CONFLICT: Known<{
    id: string;
    expectedVersion: number;
    actualVersion: number;
    requestId: string;
    status: string;
  }>;
  ALREADY_EXISTS: Known<{ id: string; versionId: string }>;
  PREREQUISITES_UNMET: {
    problems: {
      code: string;
      message: string;
      fix: string;
      subject: { kind: string; id?: string; path?: string };
    }[];
  };
  TEMPLATE_INVALID: Known<{ where: string }>;
  CHANNEL_NOT_REGISTERED: Known<{ channel: string; campaignId: string }>;
  AUDIENCE_SOURCE_MISSING: Known<{ audienceId: string }>;
  CAMPAIGN_NOT_LIVE: Known<{ status: string }>;
  OUTSIDE_WINDOW: Known<{ startAt: Date; endAt: Date; at: Date }>;
  UNKNOWN_RECIPIENT: { userIds: string[] };
  WRONG_CAMPAIGN_TYPE: Known<{ type: string; category: string; status: string }>;
  IN_USE: Known<{ campaignId: string }>;
  NOT_EDITABLE: Known<{ status: string }>;
  APPROVAL_REQUIRED: Known<{ policyId: string }>;
  READ_ONLY_FIELD: Known<{ fields: string[] }>;
  STORAGE_FAILED: Known<{
    collection: string;
    id: string;
    operation: string;
    action: string;
    outcome: string;
    refusal: unknown;
  }>;
  METHOD_NOT_ALLOWED: Known<{ allow: string[] }>;
  UNSUPPORTED_MEDIA_TYPE: Known<{ accepted: string[] }>;
  PAYLOAD_TOO_LARGE: Known<{ maxBytes: number }>;
  INVITATIONS_NOT_CONFIGURED: Known<{ problem: string; channelConfigurationId: string }>;
  INVITEE_ADDRESS_MISSING: Known<{ userId: string; channel: string }>;
  INVALID_ARGUMENTS: Known<{ command: string; argument: string }>;
  CONFIG_INVALID: Known<{ path: string; issues: ValidationIssue[] }>;
  WEBHOOK_SIGNATURE_INVALID: Known<{ provider: string }>;
  TRACKING_TOKEN_INVALID: Known<{ problem: string }>;
}

/** The details of an error whose code isn't narrowed: any code's fields, each optional. */
export type AnyErrorDetails = Known<Turned<ErrorDetails[ErrorCode]>>;

/** Options for {@link CampaignKitError}. */
export interface CampaignKitErrorOptions {
  /** The underlying error, when there is one. */
  cause?: unknown;
  /** Structured detail for programs: validation issues, unmet prerequisites, the missing permission... */
  details?: AnyErrorDetails;
}

/**
 * The one error class campaign-kit throws for bad input and refused operations.
 *
 * @example
 * ```ts
 * try {
 *   await kit.campaigns.activate({ actor, id });
 * } catch (error) {
 *   if (isCampaignKitError(error, "FORBIDDEN")) console.log(error.details.permission);
 * }
 * ```
 */
export class CampaignKitError extends Error {
  /** The stable code; see {@link ERROR_CODES}. */
  readonly code: ErrorCode;
  /**
   * Structured detail: see {@link ErrorDetails} for each code's fields. {@link isCampaignKitError} with a code
   * narrows it to that code's.
   */
  readonly details: AnyErrorDetails;

  constructor(code: ErrorCode, message: string = ERROR_CODES[code], options: CampaignKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CampaignKitError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** A {@link CampaignKitError} of code `C`, with that code's details. */
export type CampaignKitErrorOf<C extends ErrorCode> = CampaignKitError & {
  code: C;
  details: ErrorDetails[C];
};

/**
 * Whether `error` is a {@link CampaignKitError}, optionally of the given code: by class, or by name and a
 * known code when another copy of campaign-kit threw it (its ESM and CommonJS builds side by side, or the
 * copy each subpath's CommonJS bundle carries).
 */
export function isCampaignKitError(error: unknown): error is CampaignKitError;
export function isCampaignKitError<C extends ErrorCode>(
  error: unknown,
  code: C,
): error is CampaignKitErrorOf<C>;
export function isCampaignKitError(error: unknown, code?: ErrorCode): boolean {
  const like =
    error instanceof CampaignKitError ||
    (error instanceof Error &&
      error.name === "CampaignKitError" &&
      Object.hasOwn(ERROR_CODES, (error as { code?: unknown }).code as string));
  return like && (code === undefined || (error as CampaignKitError).code === code);
}

/**
 * Thrown by a channel adapter when a message can never be delivered (invalid address, content rejected):
 * the dispatcher records it as failed with this reason and does not retry.
 */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentDeliveryError";
  }
}

/**
 * Thrown by a channel adapter when the provider throttles: the dispatcher waits `retryAfterMs`, slows the
 * campaign's rate, retries, and never counts the message as sent until it is.
 */
export class RateLimitedError extends Error {
  /** How long the provider asked to wait, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, options: { retryAfterMs: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RateLimitedError";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Whether `error` is a {@link PermanentDeliveryError}: by class, or by name when another copy of campaign-kit
 * (its ESM and CommonJS builds side by side, or two versions in one app) threw it.
 */
export function isPermanentDeliveryError(error: unknown): error is PermanentDeliveryError {
  return (
    error instanceof PermanentDeliveryError ||
    (error instanceof Error && error.name === "PermanentDeliveryError")
  );
}

/**
 * Whether `error` is a {@link RateLimitedError}: by class, or by name and a numeric `retryAfterMs` when another
 * copy of campaign-kit threw it.
 */
export function isRateLimitedError(error: unknown): error is RateLimitedError {
  return (
    error instanceof RateLimitedError ||
    (error instanceof Error &&
      error.name === "RateLimitedError" &&
      typeof (error as { retryAfterMs?: unknown }).retryAfterMs === "number")
  );
}
