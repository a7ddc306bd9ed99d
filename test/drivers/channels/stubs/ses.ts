/**
 * A local stand-in for the Amazon SES v2 API, answering the AWS SDK (`@aws-sdk/client-sesv2`, pointed here
 * with `endpoint`) with the shapes SES documents:
 * - SendEmail, `POST /v2/email/outbound-emails` (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html):
 *   a JSON body (`FromEmailAddress`, `Destination`, `ReplyToAddresses`, `Content.Simple` with `Subject`,
 *   `Body`, `Headers`; `EmailTags`, `ConfigurationSetName`), answered 200 `{ MessageId }`.
 * - GetAccount, `GET /v2/email/account`: `{ SendingEnabled, ProductionAccessEnabled, SendQuota }`.
 * - Errors as REST-JSON services send them: the status, an `x-amzn-ErrorType` header naming the error and a
 *   `{ message }` body: 403 `UnrecognizedClientException` for an unknown access key, 400 `MessageRejected`
 *   for an unverified sender, 400 `BadRequestException` for a tag outside SES's alphabet
 *   (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html), 429
 *   `TooManyRequestsException`, 400 `ThrottlingException` "Daily message quota exceeded"
 *   (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html), 400
 *   `SendingPausedException`, 500 `InternalServiceErrorException`.
 * The stub reads the access key id from the SigV4 `Authorization` header and checks nothing else of the
 * signature. Recipients pick failures: `throttle@`, `quota@`, `paused@`, `crash@`, `flaky@` (500 once).
 */
import { randomUUID } from "node:crypto";
import { type StubAnswer, type StubRequest, type StubServer, scenarios, startStubServer } from "./server.js";

export interface SesEmail {
  MessageId: string;
  FromEmailAddress: string;
  Destination: { ToAddresses: string[] };
  ReplyToAddresses?: string[];
  Content: {
    Simple: {
      Subject: { Data: string; Charset?: string };
      Body: { Html?: { Data: string }; Text?: { Data: string } };
      Headers?: Array<{ Name: string; Value: string }>;
    };
  };
  EmailTags?: Array<{ Name: string; Value: string }>;
  ConfigurationSetName?: string;
}

export interface SesStub extends StubServer {
  /** Emails accepted, in order. */
  emails: SesEmail[];
}

export const SES_ACCESS_KEY = "AKIDSTUBSTUBSTUB";
/** Credentials for an `SESv2Client` pointed at the stub. */
export const SES_CREDENTIALS = { accessKeyId: SES_ACCESS_KEY, secretAccessKey: "stub-secret" };
/** The sender identity the stub treats as verified (any address at this domain). */
export const SES_VERIFIED_DOMAIN = "news.acme.test";

const awsError = (status: number, type: string, message: string): StubAnswer => ({
  status,
  headers: { "x-amzn-errortype": type, "x-amzn-requestid": randomUUID() },
  body: { message },
});

const TAG = /^[A-Za-z0-9_-]{1,256}$/;
// Header values (and a sender) must be printable ASCII.
const PRINTABLE = /^[\x20-\x7e]*$/;

export async function startSesStub(options: { sendingEnabled?: boolean } = {}): Promise<SesStub> {
  const emails: SesEmail[] = [];
  const scenario = scenarios();

  function sendEmail(email: SesEmail): StubAnswer {
    const from = /<([^>]+)>\s*$/.exec(email.FromEmailAddress ?? "")?.[1] ?? email.FromEmailAddress;
    // A raw non-ASCII display name is refused: it must come as an RFC 2047 encoded word.
    if (!PRINTABLE.test(email.FromEmailAddress ?? "") || !PRINTABLE.test(from ?? ""))
      return awsError(
        400,
        "BadRequestException",
        "Invalid sender address: non-ASCII characters must be encoded.",
      );
    if (!from?.endsWith(`@${SES_VERIFIED_DOMAIN}`))
      return awsError(
        400,
        "MessageRejected",
        `Email address is not verified. The following identities failed the check in region US-EAST-1: ${from}`,
      );
    const to = email.Destination?.ToAddresses?.[0];
    if (typeof to !== "string" || !/^[^@\s]+@[^@\s]+$/.test(to))
      return awsError(400, "BadRequestException", "Missing final '@domain'");
    for (const tag of email.EmailTags ?? [])
      if (!TAG.test(tag.Name) || !TAG.test(tag.Value))
        return awsError(400, "BadRequestException", `Invalid tag name or value <${tag.Name}>`);
    for (const header of email.Content?.Simple?.Headers ?? [])
      if (!PRINTABLE.test(header.Value))
        return awsError(400, "BadRequestException", `Invalid header ${header.Name}`);
    switch (scenario(to)) {
      case "throttle":
        return awsError(429, "TooManyRequestsException", "Maximum sending rate exceeded.");
      case "quota":
        return awsError(400, "ThrottlingException", "Daily message quota exceeded.");
      case "paused":
        return awsError(400, "SendingPausedException", "Sending is paused for this account.");
      case "crash":
        return awsError(500, "InternalServiceErrorException", "Internal service error.");
    }
    const MessageId = `0100${randomUUID().replace(/-/g, "")}-000000`;
    emails.push({ ...email, MessageId });
    return { status: 200, body: { MessageId } };
  }

  function answer(request: StubRequest): StubAnswer {
    const credential = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1];
    if (credential !== SES_ACCESS_KEY)
      return awsError(
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    if (request.method === "POST" && request.path === "/v2/email/outbound-emails")
      return sendEmail(request.json as SesEmail);
    if (request.method === "GET" && request.path === "/v2/email/account")
      return {
        status: 200,
        body: {
          SendingEnabled: options.sendingEnabled ?? true,
          ProductionAccessEnabled: true,
          SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: emails.length },
        },
      };
    return awsError(404, "NotFoundException", "Not found.");
  }

  const server = await startStubServer(answer);
  return { ...server, emails };
}
