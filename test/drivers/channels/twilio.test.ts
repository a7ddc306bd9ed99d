import { afterEach, describe, expect, it } from "vitest";
import { twilioChannel } from "../../../src/drivers/channels/twilio.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import type { ChannelConfiguration } from "../../../src/model/channel-configuration.js";
import type { OutboundMessage } from "../../../src/ports/channel.js";
import { runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { context } from "./fixtures.js";
import { type StubAnswer, startStubServer } from "./stubs/server.js";
import {
  startTwilioStub,
  TEST_ACCOUNT_SID,
  TEST_API_KEY,
  TEST_AUTH_TOKEN,
  type TwilioStub,
  twilioException,
  twilioQueueFull,
  twilioTooManyRequests,
} from "./stubs/twilio.js";

const configuration = (settings: Partial<{ messagingServiceSid: string }> = {}): ChannelConfiguration => ({
  id: "sms-alerts",
  name: "Service alerts",
  purpose: "transactional",
  status: "active",
  channel: "sms",
  settings: { provider: "twilio", senderNumber: "+15017122661", ...settings },
});

const credentials = { accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN };

runChannelSuite({
  name: "twilioChannel",
  configuration: configuration(),
  create: async () => {
    const stub = await startTwilioStub();
    return {
      adapter: twilioChannel({ ...credentials, baseUrl: stub.url }),
      received: async () =>
        stub.messages.map((m) => ({ to: m.to, content: { channel: "sms", body: m.body } })),
      cleanup: stub.close,
    };
  },
  failing: async () => {
    const stub = await startStubServer(() => twilioException(500, 20500, "Internal Server Error"));
    return { adapter: twilioChannel({ ...credentials, baseUrl: stub.url }), cleanup: stub.close };
  },
});

const message = (to = "+15558675310", config = configuration()): OutboundMessage => ({
  id: "m:1:alerts:1:run-1:sms:p1",
  campaignId: "alerts",
  executionId: "run-1",
  recipientId: "p1",
  channel: "sms",
  category: "transactional",
  to,
  content: { channel: "sms", body: "Zoë, your code is 4242 ✓ & more" },
  configuration: config,
});

describe("twilioChannel requests and answers", () => {
  let stub: TwilioStub;
  afterEach(async () => {
    await stub?.close();
  });
  const start = async () => {
    stub = await startTwilioStub();
    return stub;
  };

  it("posts a form to the account's Messages.json with basic auth and returns the Message sid", async () => {
    const { url, requests, messages } = await start();
    const result = await twilioChannel({ ...credentials, baseUrl: url }).send(message(), context());
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`);
    expect(request?.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    const basic = Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString("base64");
    expect(request?.headers.authorization).toBe(`Basic ${basic}`);
    expect(Object.fromEntries(new URLSearchParams(request?.text))).toEqual({
      To: "+15558675310",
      From: "+15017122661",
      Body: "Zoë, your code is 4242 ✓ & more",
    });
    expect(result).toEqual({ providerMessageId: messages[0]?.sid });
    expect(result?.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it("authenticates with an API key and adds the Messaging Service and status callback", async () => {
    const { url, requests, messages } = await start();
    const service = `MG${"ab".repeat(16)}`;
    const channel = twilioChannel({
      accountSid: TEST_ACCOUNT_SID,
      apiKey: TEST_API_KEY,
      baseUrl: url,
      statusCallback: (m) => `https://hooks.example.com/status?m=${encodeURIComponent(m.id)}`,
    });
    await channel.send(message("+15558675310", configuration({ messagingServiceSid: service })), context());
    const basic = Buffer.from(`${TEST_API_KEY.sid}:${TEST_API_KEY.secret}`).toString("base64");
    expect(requests[0]?.headers.authorization).toBe(`Basic ${basic}`);
    expect(messages[0]).toMatchObject({
      messagingServiceSid: service,
      from: "+15017122661",
      statusCallback: "https://hooks.example.com/status?m=m%3A1%3Aalerts%3A1%3Arun-1%3Asms%3Ap1",
    });
  });

  it.each<[string, () => StubAnswer | "unsubscribed", RegExp]>([
    [
      "21211 invalid To",
      () => twilioException(400, 21211, "The 'To' number 5551234 is not a valid phone number."),
      /21211 The 'To' number/,
    ],
    ["21610 unsubscribed (STOP)", () => "unsubscribed", /21610 Attempt to send to unsubscribed recipient/],
    [
      "21614 not a mobile number",
      () => twilioException(400, 21614, "'To' number is not a valid mobile number"),
      /21614/,
    ],
    [
      "21408 region not enabled",
      () =>
        twilioException(
          400,
          21408,
          "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
        ),
      /21408/,
    ],
  ])("fails %s permanently, naming Twilio's code and its page", async (_name, reply, pattern) => {
    const { url, unsubscribed, enqueue } = await start();
    const answer = reply();
    if (answer === "unsubscribed") unsubscribed.add("+15558675310");
    else enqueue(answer);
    const error = await failure(twilioChannel({ ...credentials, baseUrl: url }).send(message(), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).toContain("https://www.twilio.com/docs/errors/");
    expect((error as Error).message).not.toContain(TEST_AUTH_TOKEN);
  });

  it("fails a message the stub refuses on its own (bad number) permanently", async () => {
    const { url } = await start();
    const error = await failure(
      twilioChannel({ ...credentials, baseUrl: url }).send(message("555"), context()),
    );
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toContain("Twilio answered 400: 21211");
    // The provider's whole answer stays reachable for logs.
    expect((error as Error).cause).toMatchObject({ status: 400, body: { code: 21211, status: 400 } });
  });

  it("maps 429 (20429) to RateLimitedError, honouring Retry-After or the default", async () => {
    const { url, enqueue } = await start();
    enqueue(twilioTooManyRequests(7), twilioTooManyRequests());
    const channel = twilioChannel({ ...credentials, baseUrl: url, defaultRetryAfterMs: 2500 });
    const told = await failure(channel.send(message(), context()));
    expect(told).toBeInstanceOf(RateLimitedError);
    expect((told as RateLimitedError).retryAfterMs).toBe(7000);
    expect((told as Error).message).toContain("20429");
    const untold = await failure(channel.send(message(), context()));
    expect((untold as RateLimitedError).retryAfterMs).toBe(2500);
  });

  it("maps a full sender queue (400 / 21611) to RateLimitedError with queueFullRetryAfterMs", async () => {
    const { url, enqueue } = await start();
    enqueue(twilioQueueFull(), twilioQueueFull());
    const error = await failure(twilioChannel({ ...credentials, baseUrl: url }).send(message(), context()));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(60_000);
    const tuned = twilioChannel({ ...credentials, baseUrl: url, queueFullRetryAfterMs: 5000 });
    expect(((await failure(tuned.send(message(), context()))) as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it("maps 503 with Retry-After to RateLimitedError, and 500, 502, 503 without it to a retried Error", async () => {
    const { url, enqueue } = await start();
    enqueue(
      { ...twilioException(503, 20503, "Service Unavailable"), headers: { "retry-after": "3" } },
      twilioException(500, 20500, "Internal Server Error"),
      { status: 502, body: undefined },
      twilioException(503, 20503, "Service Unavailable"),
    );
    const channel = twilioChannel({ ...credentials, baseUrl: url });
    const throttled = await failure(channel.send(message(), context()));
    expect((throttled as RateLimitedError).retryAfterMs).toBe(3000);
    for (const status of [500, 502, 503]) {
      const error = await failure(channel.send(message(), context()));
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error).not.toBeInstanceOf(RateLimitedError);
      expect((error as Error).message).toContain(`answered ${status}`);
    }
  });

  it("retries, never fails permanently, on wrong credentials (20003) or an unknown account (20404)", async () => {
    const { url } = await start();
    const wrongToken = twilioChannel({ accountSid: TEST_ACCOUNT_SID, authToken: "nope", baseUrl: url });
    const unauthenticated = await failure(wrongToken.send(message(), context()));
    expect(unauthenticated).not.toBeInstanceOf(PermanentDeliveryError);
    expect((unauthenticated as Error).message).toContain("answered 401: 20003 Authenticate");
    expect((unauthenticated as Error).message).not.toContain("nope");
    await expect(wrongToken.verify?.()).rejects.toThrow(/20003/);

    const otherAccount = `AC${"f".repeat(32)}`;
    const unknown = twilioChannel({ accountSid: otherAccount, apiKey: TEST_API_KEY, baseUrl: url });
    const missing = await failure(unknown.send(message(), context()));
    expect(missing).toBeInstanceOf(Error);
    expect(missing).not.toBeInstanceOf(PermanentDeliveryError);
    expect((missing as Error).message).toContain("20404");
  });

  it("verify lists one message with the configured credentials", async () => {
    const { url, requests } = await start();
    await expect(twilioChannel({ ...credentials, baseUrl: url }).verify?.()).resolves.toBeUndefined();
    expect(requests[0]).toMatchObject({
      method: "GET",
      path: `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json?PageSize=1`,
    });
  });

  it("refuses a message it can't send without calling Twilio", async () => {
    const { url, requests } = await start();
    const channel = twilioChannel({ ...credentials, baseUrl: url });
    const { to: _, ...noAddress } = message();
    expect(await failure(channel.send(noAddress, context()))).toBeInstanceOf(PermanentDeliveryError);
    const email = { ...message(), content: { channel: "email", subject: "Hi", text: "Hi" } } as const;
    expect(await failure(channel.send(email, context()))).toBeInstanceOf(PermanentDeliveryError);
    expect(requests).toHaveLength(0);
  });

  it("rejects bad options with a CampaignKitError that says what to fix", () => {
    const bad = (options: Parameters<typeof twilioChannel>[0], text: string) =>
      expect(() => twilioChannel(options)).toThrow(
        expect.objectContaining({ name: "CampaignKitError", message: expect.stringContaining(text) }),
      );
    bad({ accountSid: "AC123", authToken: "t" }, "`accountSid`");
    bad({ accountSid: TEST_ACCOUNT_SID }, "exactly one");
    bad({ ...credentials, apiKey: TEST_API_KEY }, "exactly one");
    bad({ accountSid: TEST_ACCOUNT_SID, apiKey: { sid: "AK1", secret: "s" } }, "`apiKey`");
    bad({ ...credentials, timeoutMs: 0 }, "`timeoutMs`");
    bad({ ...credentials, queueFullRetryAfterMs: -1 }, "`queueFullRetryAfterMs`");
    bad({ ...credentials, baseUrl: "api.twilio.com" }, "`baseUrl`");
    expect(() => twilioChannel({ ...credentials, timeoutMs: 0 })).toThrow(CampaignKitError);
  });
});
