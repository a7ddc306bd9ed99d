import { afterEach, describe, expect, it } from "vitest";
import { postmarkChannel } from "../../../src/drivers/channels/postmark.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import { runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { batchContext, context, emailConfiguration, emailMessage, receivedEmail } from "./fixtures.js";
import { POSTMARK_TOKEN, type PostmarkStub, startPostmarkStub } from "./stubs/postmark.js";
import { startStubServer } from "./stubs/server.js";

for (const batch of [true, false]) {
  runChannelSuite({
    name: `postmarkChannel (batch: ${batch})`,
    configuration: emailConfiguration(),
    create: async () => {
      const stub = await startPostmarkStub();
      return {
        adapter: postmarkChannel({ serverToken: POSTMARK_TOKEN, baseUrl: stub.url, batch }),
        received: async () =>
          stub.messages.map((m) => receivedEmail(m.To, m.Subject, m.HtmlBody, m.TextBody)),
        cleanup: stub.close,
      };
    },
    failing: async () => {
      const stub = await startStubServer(() => ({ status: 500, body: { ErrorCode: 0, Message: "boom" } }));
      return {
        adapter: postmarkChannel({ serverToken: POSTMARK_TOKEN, baseUrl: stub.url, batch }),
        cleanup: stub.close,
      };
    },
  });
}

describe("postmarkChannel requests and answers", () => {
  let stub: PostmarkStub;
  afterEach(async () => {
    await stub?.close();
  });
  const channel = async (options: Partial<Parameters<typeof postmarkChannel>[0]> = {}) => {
    stub = await startPostmarkStub();
    return postmarkChannel({ serverToken: POSTMARK_TOKEN, baseUrl: stub.url, ...options });
  };

  it("maps the message onto Postmark's fields, by category's stream, and returns Postmark's MessageID", async () => {
    const postmark = await channel();
    const result = await postmark.send(emailMessage("ana@example.com"), context());
    await postmark.send(
      emailMessage("tx@example.com", { configuration: emailConfiguration("transactional") }),
      context(),
    );
    const [marketing, transactional] = stub.messages;
    expect(result).toEqual({ providerMessageId: marketing?.MessageID });
    expect(marketing).toMatchObject({
      From: '"Acme, News" <news@news.acme.test>',
      To: "ana@example.com",
      ReplyTo: "help@acme.test",
      Subject: "Spring ✓ for Zoë",
      HtmlBody: "<p>Hi Zoë</p>",
      TextBody: "Hi Zoë",
      MessageStream: "broadcast",
      Tag: "spring",
      Metadata: {
        ck_campaign: "spring",
        ck_execution: "run-1",
        ck_recipient: "ana@example.com",
        ck_message: "m:6:spring:5:run-1:email:ana@example.com",
      },
    });
    expect(marketing?.Headers).toEqual([
      { Name: "X-Campaign-Kit-Message-Id", Value: "m:6:spring:5:run-1:email:ana@example.com" },
      { Name: "List-Unsubscribe", Value: "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u>" },
      { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" },
    ]);
    expect(transactional?.MessageStream).toBe("outbound");
    expect(transactional?.Headers).toHaveLength(1);
  });

  it("fits metadata over Postmark's 80 characters as a stable digest, and honours custom streams", async () => {
    const postmark = await channel({ messageStreams: { marketing: "outbound" } });
    const long = `${"r".repeat(100)}@example.com`;
    await postmark.send(emailMessage(long), context());
    const [message] = stub.messages;
    expect(message?.MessageStream).toBe("outbound");
    expect(message?.Metadata?.ck_recipient).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(message?.Metadata?.ck_campaign).toBe("spring");
  });

  it("sends a batch in one call and reads each message's own result, in order", async () => {
    const postmark = await channel();
    const { to: _to, ...noAddress } = emailMessage("x@example.com");
    const results = await postmark.sendBatch!(
      [
        emailMessage("a@example.com"),
        emailMessage("inactive@example.com"),
        noAddress,
        emailMessage("c@example.com"),
      ],
      batchContext(),
    );
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]?.path).toBe("/email/batch");
    const [a, c] = stub.messages;
    expect(results[0]).toEqual({ ok: true, providerMessageId: a?.MessageID });
    expect(results[3]).toEqual({ ok: true, providerMessageId: c?.MessageID });
    expect(!results[1]!.ok && results[1]!.error).toBeInstanceOf(PermanentDeliveryError);
    expect(!results[1]!.ok && results[1]!.error.message).toContain("ErrorCode 406");
    expect(!results[2]!.ok && results[2]!.error.message).toContain("no email address");
  });

  it("gives every message of a refused batch the batch's error", async () => {
    const postmark = await channel();
    const results = await postmark.sendBatch!(
      [emailMessage("a@example.com"), emailMessage("throttle@example.com")],
      batchContext(),
    );
    for (const result of results)
      expect(result).toEqual({ ok: false, error: expect.objectContaining({ name: "RateLimitedError" }) });
    const wrong = postmarkChannel({ serverToken: "nope", baseUrl: stub.url });
    for (const result of await wrong.sendBatch!([emailMessage("a@example.com")], batchContext()))
      expect(!result.ok && result.error.message).toMatch(/401: ErrorCode 10: .*check the API key/);
  });

  it("maps Postmark's statuses and ErrorCodes to permanent, throttled and retried failures", async () => {
    const postmark = await channel({ batch: false, defaultRetryAfterMs: 2500 });
    const send = (to: string) => failure(postmark.send(emailMessage(to), context()));
    const throttled = await send("throttle@example.com");
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect((throttled as RateLimitedError).retryAfterMs).toBe(2500);
    const inactive = await send("inactive@example.com");
    expect(inactive).toBeInstanceOf(PermanentDeliveryError);
    expect((inactive as Error).message).toContain("422: ErrorCode 406: You tried to send to recipient(s)");
    const badStream = await failure(
      postmarkChannel({
        serverToken: POSTMARK_TOKEN,
        baseUrl: stub.url,
        messageStreams: { marketing: "nope" },
      }).send(emailMessage("a@example.com"), context()),
    );
    expect((badStream as Error).message).toContain("ErrorCode 1235");
    expect(badStream).toBeInstanceOf(PermanentDeliveryError);
    for (const to of ["crash@example.com", "maintenance@example.com", "flaky@example.com"]) {
      const error = await send(to);
      expect(error, to).toBeInstanceOf(Error);
      expect(error, to).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error, to).not.toBeInstanceOf(RateLimitedError);
    }
    await expect(postmark.send(emailMessage("flaky@example.com"), context())).resolves.toMatchObject({
      providerMessageId: expect.any(String),
    });
  });

  it("fails a wrong token permanently, saying to fix it; verify checks the token", async () => {
    const postmark = await channel();
    const wrong = postmarkChannel({ serverToken: "nope", baseUrl: stub.url });
    const error = await failure(wrong.send(emailMessage("a@example.com"), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(/refused the credentials/);
    await expect(wrong.verify!()).rejects.toThrow(/check the API key/);
    await expect(postmark.verify!()).resolves.toBeUndefined();
  });

  it("declares no idempotency keys, batches of 500, and rejects bad options", () => {
    expect(postmarkChannel({ serverToken: "t" }).capabilities).toEqual({
      batch: true,
      idempotencyKeys: false,
      maxBatchSize: 500,
    });
    expect(postmarkChannel({ serverToken: "t", batch: false }).sendBatch).toBeUndefined();
    expect(() => postmarkChannel({ serverToken: " " })).toThrow(CampaignKitError);
    expect(() => postmarkChannel({ serverToken: "t", timeoutMs: -5 })).toThrow(CampaignKitError);
  });
});
