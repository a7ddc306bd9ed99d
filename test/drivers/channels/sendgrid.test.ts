import { afterEach, describe, expect, it } from "vitest";
import { sendgridChannel } from "../../../src/drivers/channels/sendgrid.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import { runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { context, emailConfiguration, emailMessage, receivedEmail } from "./fixtures.js";
import {
  SENDGRID_API_KEY,
  SENDGRID_READ_ONLY_KEY,
  type SendgridStub,
  startSendgridStub,
} from "./stubs/sendgrid.js";
import { startStubServer } from "./stubs/server.js";

runChannelSuite({
  name: "sendgridChannel",
  configuration: emailConfiguration(),
  create: async () => {
    const stub = await startSendgridStub();
    return {
      adapter: sendgridChannel({ apiKey: SENDGRID_API_KEY, baseUrl: stub.url }),
      received: async () =>
        stub.mails.map((mail) =>
          receivedEmail(
            mail.personalizations[0]?.to[0]?.email,
            mail.subject,
            mail.content.find((c) => c.type === "text/html")?.value,
            mail.content.find((c) => c.type === "text/plain")?.value,
          ),
        ),
      cleanup: stub.close,
    };
  },
  failing: async () => {
    const stub = await startStubServer(() => ({ status: 503, body: { errors: [{ message: "down" }] } }));
    return { adapter: sendgridChannel({ apiKey: SENDGRID_API_KEY, baseUrl: stub.url }), cleanup: stub.close };
  },
});

describe("sendgridChannel requests and answers", () => {
  let stub: SendgridStub;
  afterEach(async () => {
    await stub?.close();
  });
  const channel = async (options: Partial<Parameters<typeof sendgridChannel>[0]> = {}) => {
    stub = await startSendgridStub();
    return sendgridChannel({ apiKey: SENDGRID_API_KEY, baseUrl: stub.url, ...options });
  };

  it("maps the message onto one Mail Send request and returns the X-Message-Id", async () => {
    const sendgrid = await channel();
    const configuration = emailConfiguration("marketing", { ipPool: "marketing-pool" });
    const result = await sendgrid.send(emailMessage("ana@example.com", { configuration }), context());
    const [mail] = stub.mails;
    expect(stub.requests[0]?.headers.authorization).toBe(`Bearer ${SENDGRID_API_KEY}`);
    expect(result).toEqual({ providerMessageId: mail?.messageId });
    expect(mail).toMatchObject({
      personalizations: [{ to: [{ email: "ana@example.com" }] }],
      from: { email: "news@news.acme.test", name: "Acme, News" },
      reply_to: { email: "help@acme.test" },
      subject: "Spring ✓ for Zoë",
      content: [
        { type: "text/plain", value: "Hi Zoë" },
        { type: "text/html", value: "<p>Hi Zoë</p>" },
      ],
      headers: {
        "X-Campaign-Kit-Message-Id": "m:6:spring:5:run-1:email:ana@example.com",
        "List-Unsubscribe": "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
      custom_args: {
        ck_campaign: "spring",
        ck_execution: "run-1",
        ck_recipient: "ana@example.com",
        ck_message: "m:6:spring:5:run-1:email:ana@example.com",
      },
      categories: ["spring"],
      ip_pool_name: "marketing-pool",
    });
    // No idempotency key: SendGrid has none, and the adapter doesn't pretend.
    expect(stub.requests[0]?.headers["idempotency-key"]).toBeUndefined();
  });

  it("sends an HTML-only or text-only message with the one part it has", async () => {
    const sendgrid = await channel();
    const html = emailMessage("h@example.com", {
      content: { channel: "email", subject: "s", html: "<b>x</b>" },
    });
    await sendgrid.send(html, context());
    expect(stub.mails[0]?.content).toEqual([{ type: "text/html", value: "<b>x</b>" }]);
  });

  it("maps SendGrid's documented errors to permanent, throttled and retried failures", async () => {
    const sendgrid = await channel();
    const send = (to: string, configuration = emailConfiguration()) =>
      failure(sendgrid.send(emailMessage(to, { configuration }), context()));
    const throttled = await send("throttle@example.com");
    expect(throttled).toBeInstanceOf(RateLimitedError);
    // X-RateLimit-Reset is a Unix time about 2 s ahead.
    expect((throttled as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    expect((throttled as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(3000);
    const invalid = await send("not-an-address");
    expect(invalid).toBeInstanceOf(PermanentDeliveryError);
    expect((invalid as Error).message).toBe(
      "SendGrid answered 400: personalizations.0.to.0.email: Does not contain a valid address.",
    );
    const unverified = await send(
      "a@example.com",
      emailConfiguration("marketing", { fromAddress: "unverified@acme.test" }),
    );
    expect(unverified).toBeInstanceOf(PermanentDeliveryError);
    expect((unverified as Error).message).toMatch(
      /403: from: The from address does not match.*verify the configuration's sender/,
    );
    for (const to of ["crash@example.com", "flaky@example.com"]) {
      const error = await send(to);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error).not.toBeInstanceOf(RateLimitedError);
    }
    await expect(sendgrid.send(emailMessage("flaky@example.com"), context())).resolves.toMatchObject({
      providerMessageId: expect.any(String),
    });
  });

  it("fails a bad key permanently, saying to fix it; verify wants a valid key with mail.send", async () => {
    const sendgrid = await channel();
    const wrong = sendgridChannel({ apiKey: "SG.wrong", baseUrl: stub.url });
    const error = await failure(wrong.send(emailMessage("a@example.com"), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(
      /401: The provided authorization grant is invalid.*check the API key/,
    );
    await expect(wrong.verify!()).rejects.toThrow(/check the API key/);
    await expect(
      sendgridChannel({ apiKey: SENDGRID_READ_ONLY_KEY, baseUrl: stub.url }).verify!(),
    ).rejects.toThrow(/mail\.send/);
    await expect(sendgrid.verify!()).resolves.toBeUndefined();
  });

  it("declares neither batch nor idempotency keys, and rejects bad options", () => {
    expect(sendgridChannel({ apiKey: "SG.x" }).capabilities).toEqual({
      batch: false,
      idempotencyKeys: false,
    });
    expect(() => sendgridChannel({ apiKey: undefined as never })).toThrow(CampaignKitError);
    expect(() => sendgridChannel({ apiKey: "SG.x", defaultRetryAfterMs: Number.NaN })).toThrow(
      CampaignKitError,
    );
  });
});
