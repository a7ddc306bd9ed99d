import { SESv2Client } from "@aws-sdk/client-sesv2";
import { afterEach, describe, expect, it } from "vitest";
import { classifySesError, decodeTagValue, sesChannel } from "../../../src/drivers/channels/ses.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import { runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { context, emailConfiguration, emailMessage, receivedEmail } from "./fixtures.js";
import { startStubServer } from "./stubs/server.js";
import { SES_CREDENTIALS, type SesStub, startSesStub } from "./stubs/ses.js";

/** A real SDK client pointed at the stub: dummy credentials, one attempt (the dispatcher owns retries). */
const clientFor = (url: string, credentials = SES_CREDENTIALS) =>
  new SESv2Client({ region: "us-east-1", endpoint: url, credentials, maxAttempts: 1 });

runChannelSuite({
  name: "sesChannel",
  configuration: emailConfiguration(),
  create: async () => {
    const stub = await startSesStub();
    const client = clientFor(stub.url);
    return {
      adapter: sesChannel({ client }),
      received: async () =>
        stub.emails.map((email) =>
          receivedEmail(
            email.Destination.ToAddresses[0],
            email.Content.Simple.Subject.Data,
            email.Content.Simple.Body.Html?.Data,
            email.Content.Simple.Body.Text?.Data,
          ),
        ),
      cleanup: async () => {
        client.destroy();
        await stub.close();
      },
    };
  },
  failing: async () => {
    const stub = await startStubServer(() => ({
      status: 500,
      headers: { "x-amzn-errortype": "InternalServiceErrorException" },
      body: { message: "boom" },
    }));
    const client = clientFor(stub.url);
    return {
      adapter: sesChannel({ client }),
      cleanup: async () => {
        client.destroy();
        await stub.close();
      },
    };
  },
});

describe("sesChannel requests and answers", () => {
  let stub: SesStub;
  let client: SESv2Client | undefined;
  afterEach(async () => {
    client?.destroy();
    await stub?.close();
  });
  const channel = async (options: Omit<Partial<Parameters<typeof sesChannel>[0]>, "client"> = {}) => {
    stub = await startSesStub();
    client = clientFor(stub.url);
    return sesChannel({ client, ...options });
  };

  it("maps the message onto SendEmail's Simple content, tags and configuration set", async () => {
    const ses = await channel({ configurationSetName: "campaigns" });
    const result = await ses.send(emailMessage("ana@example.com"), context());
    const [email] = stub.emails;
    expect(result).toEqual({ providerMessageId: email?.MessageId });
    expect(email).toMatchObject({
      FromEmailAddress: '"Acme, News" <news@news.acme.test>',
      Destination: { ToAddresses: ["ana@example.com"] },
      ReplyToAddresses: ["help@acme.test"],
      ConfigurationSetName: "campaigns",
      Content: {
        Simple: {
          Subject: { Data: "Spring ✓ for Zoë", Charset: "UTF-8" },
          Body: {
            Html: { Data: "<p>Hi Zoë</p>", Charset: "UTF-8" },
            Text: { Data: "Hi Zoë", Charset: "UTF-8" },
          },
          Headers: [
            { Name: "X-Campaign-Kit-Message-Id", Value: "m:6:spring:5:run-1:email:ana@example.com" },
            { Name: "List-Unsubscribe", Value: "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u>" },
            { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" },
          ],
        },
      },
    });
    const tags = Object.fromEntries(email!.EmailTags!.map((t) => [t.Name, decodeTagValue(t.Value)]));
    expect(tags).toEqual({
      ck_campaign: "spring",
      ck_execution: "run-1",
      ck_recipient: "ana@example.com",
      ck_message: "m:6:spring:5:run-1:email:ana@example.com",
    });
  });

  it("encodes a non-ASCII sender name as RFC 2047, as SES requires", async () => {
    const ses = await channel();
    const configuration = emailConfiguration("transactional", { fromName: "Zoë's Café" });
    await ses.send(emailMessage("a@example.com", { configuration }), context());
    const from = stub.emails[0]?.FromEmailAddress;
    expect(from).toBe(`=?UTF-8?B?${Buffer.from("Zoë's Café").toString("base64")}?= <news@news.acme.test>`);
    expect(stub.emails[0]?.Content.Simple.Headers).toHaveLength(1);
  });

  it("maps SES's documented errors to permanent, throttled and retried failures", async () => {
    const ses = await channel({ throttleRetryAfterMs: 1500, quotaRetryAfterMs: 120_000 });
    const send = (to: string, configuration = emailConfiguration()) =>
      failure(ses.send(emailMessage(to, { configuration }), context()));
    const throttled = await send("throttle@example.com");
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect((throttled as RateLimitedError).retryAfterMs).toBe(1500);
    expect((throttled as Error).message).toBe(
      "SES refused the email: TooManyRequestsException: Maximum sending rate exceeded.",
    );
    const quota = await send("quota@example.com");
    expect(quota).toBeInstanceOf(RateLimitedError);
    expect((quota as RateLimitedError).retryAfterMs).toBe(120_000);
    const unverified = await send(
      "a@example.com",
      emailConfiguration("marketing", { fromAddress: "x@elsewhere.test" }),
    );
    expect(unverified).toBeInstanceOf(PermanentDeliveryError);
    expect((unverified as Error).message).toContain("MessageRejected: Email address is not verified");
    const paused = await send("paused@example.com");
    expect(paused).toBeInstanceOf(PermanentDeliveryError);
    expect((paused as Error).message).toContain("may not send");
    const invalid = await send("not-an-address");
    expect(invalid).toBeInstanceOf(PermanentDeliveryError);
    for (const to of ["crash@example.com", "flaky@example.com"]) {
      const error = await send(to);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error).not.toBeInstanceOf(RateLimitedError);
      expect((error as Error).name).toBe("InternalServiceErrorException");
    }
    await expect(ses.send(emailMessage("flaky@example.com"), context())).resolves.toMatchObject({
      providerMessageId: expect.any(String),
    });
  });

  it("fails unknown credentials permanently, saying to fix them; verify checks the account", async () => {
    const ses = await channel();
    const wrongClient = clientFor(stub.url, { accessKeyId: "AKIDWRONG", secretAccessKey: "x" });
    try {
      const wrong = sesChannel({ client: wrongClient });
      const error = await failure(wrong.send(emailMessage("a@example.com"), context()));
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect((error as Error).message).toMatch(/UnrecognizedClientException.*check the AWS credentials/);
      expect((error as Error).cause).toMatchObject({ name: "UnrecognizedClientException" });
      await expect(wrong.verify!()).rejects.toThrow(/UnrecognizedClientException/);
    } finally {
      wrongClient.destroy();
    }
    await expect(ses.verify!()).resolves.toBeUndefined();
    const disabled = await startSesStub({ sendingEnabled: false });
    const disabledClient = clientFor(disabled.url);
    try {
      await expect(sesChannel({ client: disabledClient }).verify!()).rejects.toThrow(/sending is disabled/);
    } finally {
      disabledClient.destroy();
      await disabled.close();
    }
  });

  it("classifies errors by name when they come from elsewhere, and rejects bad options", () => {
    const named = (name: string, message = "", extra = {}) =>
      Object.assign(new Error(message), { name, ...extra });
    expect(classifySesError(named("LimitExceededException"))).toMatchObject({ retryAfterMs: 600_000 });
    expect(classifySesError(named("Throttling", "Maximum sending rate exceeded."))).toMatchObject({
      retryAfterMs: 1000,
    });
    expect(classifySesError(named("AccountSuspendedException"))).toBeInstanceOf(PermanentDeliveryError);
    expect(classifySesError(named("AccessDeniedException"))).toBeInstanceOf(PermanentDeliveryError);
    const expired = named("ExpiredTokenException", "", { $metadata: { httpStatusCode: 403 } });
    expect(classifySesError(expired)).toBe(expired);
    const network = named("TimeoutError");
    expect(classifySesError(network)).toBe(network);
    expect(classifySesError(named("NotFoundException", "", { $fault: "client" }))).toBeInstanceOf(
      PermanentDeliveryError,
    );
    expect(sesChannel({ client: clientFor("http://127.0.0.1:1") }).capabilities).toEqual({
      batch: false,
      idempotencyKeys: false,
    });
    expect(() => sesChannel({ client: {} as never })).toThrow(CampaignKitError);
    expect(() => sesChannel({ client: clientFor("http://127.0.0.1:1"), timeoutMs: 0 })).toThrow(
      CampaignKitError,
    );
  });
});
