/**
 * The Amazon SES channel adapter (`campaign-kit/channels/ses`): delivers email through the SES v2 API with
 * an `SESv2Client` from `@aws-sdk/client-sesv2` (an optional peer dependency) that the host creates and owns.
 *
 * @packageDocumentation
 * @module campaign-kit/channels/ses
 */
import { GetAccountCommand, type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { PermanentDeliveryError, RateLimitedError } from "../../errors.js";
import type { ChannelAdapter, OutboundMessage, SendContext, SendResult } from "../../ports/channel.js";
import { correlationTags, emailParts, formatAddress, type UnsubscribeUrl } from "./email.js";
import { credentialsRefused, withDeadline } from "./http.js";
import { checkNumber, optionError } from "./options.js";

export { decodeTagValue, type UnsubscribeUrl } from "./email.js";

/** Options for {@link sesChannel}. */
export interface SesChannelOptions {
  /** The client sends go through. You create it (region, credentials, `endpoint`), and destroy it. */
  client: SESv2Client;
  /** The configuration set to send with: it routes SES's event publishing (bounces, complaints...). */
  configurationSetName?: string;
  /** How long one send may take, in ms; defaults to 10,000. A timeout is retried. */
  timeoutMs?: number;
  /** How long to wait after "Maximum sending rate exceeded", in ms; defaults to 1,000 (the rate is per second). */
  throttleRetryAfterMs?: number;
  /** How long to wait after "Daily message quota exceeded", in ms; defaults to 10 minutes, as AWS advises. */
  quotaRetryAfterMs?: number;
  /** Personalizes the List-Unsubscribe URL per message; see `smtpChannel`'s option of the same name. */
  unsubscribeUrl?: UnsubscribeUrl;
  /** A name for logs and reports; defaults to `"ses"`. */
  name?: string;
}

/** What an SDK error carries (`$metadata`, `$fault`): typed structurally so any SDK version's errors read. */
interface AwsError extends Error {
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
}

// Error names from the SES v2 SendEmail reference and its common errors.
const THROTTLED = new Set([
  "TooManyRequestsException",
  "ThrottlingException",
  "Throttling",
  "LimitExceededException",
]);
const ACCOUNT = new Set(["AccountSuspendedException", "SendingPausedException"]);
const CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "MissingAuthenticationToken",
]);

/**
 * Turns an SES v2 failure into the error that steers the dispatcher (see {@link sesChannel} for the table).
 * Exported so a custom adapter over another SES call classifies alike.
 */
export function classifySesError(
  error: unknown,
  waits: { throttleRetryAfterMs?: number; quotaRetryAfterMs?: number } = {},
): Error {
  if (!(error instanceof Error)) return new Error(String(error), { cause: error });
  const { name } = error;
  const status = (error as AwsError).$metadata?.httpStatusCode;
  const detail = `SES refused the email: ${name}${error.message ? `: ${error.message}` : ""}`;
  if (THROTTLED.has(name) || status === 429) {
    const quota = name === "LimitExceededException" || /daily message quota/i.test(error.message);
    return new RateLimitedError(detail, {
      retryAfterMs: quota ? (waits.quotaRetryAfterMs ?? 600_000) : (waits.throttleRetryAfterMs ?? 1000),
      cause: error,
    });
  }
  // Expired temporary credentials are refreshed by the client's provider: the next attempt may pass.
  if (/^Expired/.test(name)) return error;
  if (CREDENTIALS.has(name) || status === 401 || status === 403) {
    const check = "the AWS credentials and their IAM permissions (ses:SendEmail)";
    return credentialsRefused("SES", detail, check, error);
  }
  if (ACCOUNT.has(name))
    return new PermanentDeliveryError(
      `${detail} (the AWS account or configuration set may not send; fix it in SES)`,
      {
        cause: error,
      },
    );
  const fault = (error as AwsError).$fault;
  if (fault === "client" || (status !== undefined && status >= 400 && status < 500))
    return new PermanentDeliveryError(detail, { cause: error }); // MessageRejected, BadRequest, NotFound...
  return error; // InternalServiceError, 5xx, network errors, timeouts: retried as is
}

/**
 * A {@link ChannelAdapter} that sends email with SES v2 `SendEmail` through the `SESv2Client` you pass.
 * Each message is a `Simple` email: `FromEmailAddress` is `"fromName" <fromAddress>` (a non-ASCII name as an
 * RFC 2047 encoded word, as SES requires), `Destination.ToAddresses` the recipient, `ReplyToAddresses`,
 * `Subject` and `Body` (`Html`, `Text`) in UTF-8, `Headers` with `X-Campaign-Kit-Message-Id` and, for
 * marketing, List-Unsubscribe; `EmailTags` carry `ck_campaign`, `ck_execution`, `ck_recipient` and
 * `ck_message`, encoded to SES's tag alphabet (`decodeTagValue` reads them back from event publishing);
 * `ConfigurationSetName` is `configurationSetName`. SES's `MessageId` is the `providerMessageId`.
 *
 * Capabilities are `{ batch: false, idempotencyKeys: false }`: `SendEmail` takes no idempotency token, and
 * SES's batch call, `SendBulkEmail`, sends one template to many recipients, while campaign-kit renders each
 * message itself. The ledger's guarantee applies (a crash duplicates at most what was in flight). The SDK
 * retries throttling and 5xx itself (`maxAttempts`, 3 by default) before the dispatcher sees the error; set
 * `maxAttempts: 1` on the client to leave retries to the dispatcher alone.
 *
 * Errors (see {@link classifySesError}): `TooManyRequestsException`, `ThrottlingException` ("Maximum sending
 * rate exceeded") are a {@link RateLimitedError} waiting `throttleRetryAfterMs`; `LimitExceededException` and
 * "Daily message quota exceeded" one waiting `quotaRetryAfterMs`; refused credentials (403,
 * `UnrecognizedClientException`, `AccessDeniedException`...), `AccountSuspendedException` and
 * `SendingPausedException` are permanent and say what to fix; `MessageRejected`,
 * `MailFromDomainNotVerifiedException`, `BadRequestException`, `NotFoundException` and other client faults are
 * permanent; `InternalServiceErrorException`, 5xx, network errors, timeouts and expired temporary credentials
 * are retried.
 *
 * @example
 * ```ts
 * import { SESv2Client } from "@aws-sdk/client-sesv2";
 * import { sesChannel } from "campaign-kit/channels/ses";
 *
 * const client = new SESv2Client({ region: "eu-west-1" });
 * const email = sesChannel({ client, configurationSetName: "campaigns" });
 * await email.verify?.();
 * const kit = await createCampaignKit({ storage, channels: [email] });
 * ```
 */
export function sesChannel(options: SesChannelOptions): ChannelAdapter {
  const factory = "sesChannel";
  const client = options?.client;
  if (typeof client?.send !== "function")
    throw optionError(
      factory,
      "`client` must be an SESv2Client from @aws-sdk/client-sesv2 (`new SESv2Client({ region })`).",
    );
  const timeoutMs = options.timeoutMs ?? 10_000;
  const waits = {
    throttleRetryAfterMs: options.throttleRetryAfterMs ?? 1000,
    quotaRetryAfterMs: options.quotaRetryAfterMs ?? 600_000,
  };
  checkNumber(factory, "timeoutMs", timeoutMs, true);
  checkNumber(factory, "throttleRetryAfterMs", waits.throttleRetryAfterMs);
  checkNumber(factory, "quotaRetryAfterMs", waits.quotaRetryAfterMs);

  function command(message: OutboundMessage): SendEmailCommand {
    const parts = emailParts(message, factory, options.unsubscribeUrl);
    const utf8 = (data: string) => ({ Data: data, Charset: "UTF-8" });
    return new SendEmailCommand({
      FromEmailAddress: formatAddress(parts.from, true),
      Destination: { ToAddresses: [parts.to] },
      ...(parts.replyTo === undefined ? {} : { ReplyToAddresses: [parts.replyTo] }),
      Content: {
        Simple: {
          Subject: utf8(parts.subject),
          Body: {
            ...(parts.html === undefined ? {} : { Html: utf8(parts.html) }),
            ...(parts.text === undefined ? {} : { Text: utf8(parts.text) }),
          },
          Headers: Object.entries(parts.headers).map(([Name, Value]) => ({ Name, Value })),
        },
      },
      EmailTags: correlationTags(parts.correlation).map(({ name, value }) => ({ Name: name, Value: value })),
      ...(options.configurationSetName === undefined
        ? {}
        : { ConfigurationSetName: options.configurationSetName }),
    });
  }

  async function send(message: OutboundMessage, context: SendContext): Promise<SendResult | undefined> {
    const sendEmail = command(message);
    const output = await withDeadline(
      { provider: "SES", timeoutMs, signal: context.signal },
      (abortSignal) => client.send(sendEmail, { abortSignal }),
      (error) => classifySesError(error, waits),
    );
    return output.MessageId === undefined ? undefined : { providerMessageId: output.MessageId };
  }

  return {
    name: options.name ?? "ses",
    channel: "email",
    capabilities: { batch: false, idempotencyKeys: false },
    send,
    async verify() {
      // GetAccount checks the credentials and says whether the account may send at all.
      let account: { SendingEnabled?: boolean | undefined };
      try {
        account = await client.send(new GetAccountCommand({}));
      } catch (error) {
        throw classifySesError(error, waits);
      }
      if (account.SendingEnabled === false)
        throw new PermanentDeliveryError("SES: sending is disabled for this AWS account in this region.");
    },
  };
}
