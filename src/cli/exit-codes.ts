import { type ErrorCode, isCampaignKitError } from "../errors.js";

/**
 * What `campaign-kit`'s exit status means, so a script or a cron job can react without parsing output. Every
 * refusal maps from its {@link ErrorCode} (see the CLI guide's table); 1 is kept for what no code describes (a
 * bug, or an error thrown by the host's own config).
 *
 * @example
 * ```sh
 * campaign-kit tick --json > tick.json
 * case $? in
 *   0) ;;                       # done
 *   7) echo "database down" ;;  # STORAGE_UNAVAILABLE: retry on the next run
 *   8) echo "a send failed" ;;  # SEND_FAILED: look at `campaign-kit status <id>`
 *   *) exit 1 ;;
 * esac
 * ```
 */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  OK: 0,
  /** Something no error code describes: a bug, or an error the config's own code threw. */
  UNEXPECTED: 1,
  /** The command line is wrong (`INVALID_ARGUMENTS`): an unknown command or flag, a missing argument. */
  USAGE: 2,
  /**
   * The config is missing, failed to load or built no usable kit (`CONFIG_INVALID`), or the kit lacks what the
   * command needs (`CHANNEL_NOT_REGISTERED`, `AUDIENCE_SOURCE_MISSING`).
   */
  CONFIG: 3,
  /**
   * The kit refused the input or the operation: `VALIDATION_FAILED`, `PREREQUISITES_UNMET`,
   * `CAMPAIGN_NOT_LIVE`, `INVALID_TRANSITION` and every other refusal of bad input or state.
   */
  REFUSED: 4,
  /** The actor lacks the permission (`FORBIDDEN`): give it a role, or pass another `--actor`. */
  FORBIDDEN: 5,
  /** No object has the id given (`NOT_FOUND`). */
  NOT_FOUND: 6,
  /** The storage backend failed or can't be reached (`STORAGE_FAILED`): retry later, or run `migrate`. */
  STORAGE_UNAVAILABLE: 7,
  /** The command ran, but an execution it waited for ended `failed`. */
  SEND_FAILED: 8,
  /** Interrupted by SIGINT or SIGTERM: sends in flight were recorded, a later `tick` resumes them. */
  INTERRUPTED: 130,
} as const;

/** One of {@link EXIT_CODES}' values. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

const BY_CODE: Readonly<Record<ErrorCode, ExitCode>> = {
  INVALID_ARGUMENTS: EXIT_CODES.USAGE,
  CONFIG_INVALID: EXIT_CODES.CONFIG,
  CHANNEL_NOT_REGISTERED: EXIT_CODES.CONFIG,
  AUDIENCE_SOURCE_MISSING: EXIT_CODES.CONFIG,
  WEBHOOK_SIGNATURE_INVALID: EXIT_CODES.REFUSED,
  TRACKING_TOKEN_INVALID: EXIT_CODES.NOT_FOUND,
  INVITATIONS_NOT_CONFIGURED: EXIT_CODES.CONFIG,
  INVITEE_ADDRESS_MISSING: EXIT_CODES.REFUSED,
  FORBIDDEN: EXIT_CODES.FORBIDDEN,
  NOT_FOUND: EXIT_CODES.NOT_FOUND,
  STORAGE_FAILED: EXIT_CODES.STORAGE_UNAVAILABLE,
  VALIDATION_FAILED: EXIT_CODES.REFUSED,
  INVALID_TRANSITION: EXIT_CODES.REFUSED,
  CONFLICT: EXIT_CODES.REFUSED,
  ALREADY_EXISTS: EXIT_CODES.REFUSED,
  PREREQUISITES_UNMET: EXIT_CODES.REFUSED,
  TEMPLATE_INVALID: EXIT_CODES.REFUSED,
  CAMPAIGN_NOT_LIVE: EXIT_CODES.REFUSED,
  OUTSIDE_WINDOW: EXIT_CODES.REFUSED,
  UNKNOWN_RECIPIENT: EXIT_CODES.REFUSED,
  WRONG_CAMPAIGN_TYPE: EXIT_CODES.REFUSED,
  IN_USE: EXIT_CODES.REFUSED,
  NOT_EDITABLE: EXIT_CODES.REFUSED,
  APPROVAL_REQUIRED: EXIT_CODES.REFUSED,
  READ_ONLY_FIELD: EXIT_CODES.REFUSED,
  METHOD_NOT_ALLOWED: EXIT_CODES.REFUSED,
  UNSUPPORTED_MEDIA_TYPE: EXIT_CODES.REFUSED,
  PAYLOAD_TOO_LARGE: EXIT_CODES.REFUSED,
};

/** Errors of Node's sockets that mean the database (or another backend) can't be reached. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

/**
 * The exit status for an error: its code's, when it is a {@link CampaignKitError}; `STORAGE_UNAVAILABLE` for a
 * connection error (a `pg` pool the config built, failing before the kit wraps it); `UNEXPECTED` otherwise.
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (isCampaignKitError(error)) return BY_CODE[error.code];
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && UNREACHABLE.has(code)) return EXIT_CODES.STORAGE_UNAVAILABLE;
  return EXIT_CODES.UNEXPECTED;
}
