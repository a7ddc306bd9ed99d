import { afterEach, describe, expect, it } from "vitest";
import { fcmChannel } from "../../../src/drivers/channels/fcm.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import type { ChannelConfiguration } from "../../../src/model/channel-configuration.js";
import type { OutboundMessage } from "../../../src/ports/channel.js";
import { runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { context } from "./fixtures.js";
import {
  type FcmStub,
  fcmError,
  fcmQuotaExceeded,
  fcmUnavailable,
  startFcmStub,
  TEST_ACCESS_TOKEN,
  TEST_PROJECT,
} from "./stubs/fcm.js";

const configuration: ChannelConfiguration = {
  id: "push-app",
  name: "Mobile app",
  purpose: "marketing",
  status: "active",
  channel: "push",
  settings: { appId: "com.example.app", platform: "android" },
};

const options = { projectId: TEST_PROJECT, getAccessToken: async () => TEST_ACCESS_TOKEN };

runChannelSuite({
  name: "fcmChannel",
  configuration,
  create: async () => {
    const stub = await startFcmStub();
    return {
      adapter: fcmChannel({ ...options, baseUrl: stub.url }),
      received: async () =>
        stub.messages.map((m) => ({
          to: m.token,
          content: {
            channel: "push",
            title: m.notification?.title ?? "",
            body: m.notification?.body ?? "",
            ...(m.data ? { data: m.data } : {}),
          },
        })),
      cleanup: stub.close,
    };
  },
  failing: async () => {
    const stub = await startFcmStub();
    // Every answer is FCM's INTERNAL error.
    const internal = fcmError(500, "INTERNAL", "Internal error encountered.", "INTERNAL");
    stub.enqueue(...Array.from({ length: 5 }, () => internal));
    return { adapter: fcmChannel({ ...options, baseUrl: stub.url }), cleanup: stub.close };
  },
});

const message = (to = "dE7x:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"): OutboundMessage => ({
  id: "m:1:promo:1:run-1:push:p1",
  campaignId: "promo",
  executionId: "run-1",
  recipientId: "p1",
  channel: "push",
  category: "marketing",
  to,
  content: {
    channel: "push",
    title: "Zoë, it's back ✓",
    body: "20% off today",
    data: { deepLink: "app://promo/42" },
  },
  configuration,
});

describe("fcmChannel requests and answers", () => {
  let stub: FcmStub;
  afterEach(async () => {
    await stub?.close();
  });
  const start = async () => {
    stub = await startFcmStub();
    return stub;
  };

  it("posts the FCM message as JSON with a bearer token and returns its name", async () => {
    const { url, requests, messages } = await start();
    const result = await fcmChannel({ ...options, baseUrl: url }).send(message(), context());
    const [request] = requests;
    expect(request).toMatchObject({ method: "POST", path: `/v1/projects/${TEST_PROJECT}/messages:send` });
    expect(request?.headers.authorization).toBe(`Bearer ${TEST_ACCESS_TOKEN}`);
    expect(request?.headers["content-type"]).toMatch(/^application\/json/);
    expect(request?.json).toEqual({
      message: {
        token: "dE7x:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx",
        notification: { title: "Zoë, it's back ✓", body: "20% off today" },
        data: { deepLink: "app://promo/42" },
      },
    });
    expect(result).toEqual({ providerMessageId: messages[0]?.name });
    expect(result?.providerMessageId).toMatch(new RegExp(`^projects/${TEST_PROJECT}/messages/`));
  });

  it("asks for a token before every request, and lets customize add platform options", async () => {
    const { url, messages, accessTokens } = await start();
    let calls = 0;
    accessTokens.add("token-2");
    const channel = fcmChannel({
      projectId: TEST_PROJECT,
      baseUrl: url,
      getAccessToken: () => (++calls === 1 ? TEST_ACCESS_TOKEN : "token-2"),
      customize: ({ message: m, fcmMessage }) => ({
        ...fcmMessage,
        android: { priority: "high", collapse_key: m.campaignId },
      }),
    });
    await channel.send(message(), context());
    await channel.send(message(), context());
    expect(calls).toBe(2);
    expect(messages[1]?.raw).toMatchObject({ android: { priority: "high", collapse_key: "promo" } });
  });

  it.each([
    ["UNREGISTERED (404), an uninstalled app", "unregistered", /404: UNREGISTERED/],
    [
      "INVALID_ARGUMENT (400), a malformed token",
      "not a token!",
      /400: INVALID_ARGUMENT The registration token/,
    ],
    ["SENDER_ID_MISMATCH (403), another project's token", "mismatch", /403: SENDER_ID_MISMATCH/],
  ])("fails %s permanently, naming FCM's code", async (_name, to, pattern) => {
    const { url, unregistered, enqueue } = await start();
    const token =
      to === "unregistered" ? "fGhi:APA91-uninstalled" : to === "mismatch" ? "jKlm:APA91-other" : to;
    if (to === "unregistered") unregistered.add(token);
    if (to === "mismatch")
      enqueue(fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"));
    const error = await failure(fcmChannel({ ...options, baseUrl: url }).send(message(token), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain(TEST_ACCESS_TOKEN);
  });

  it("fails a non-string data value permanently with the documented field violation", async () => {
    const { url } = await start();
    const channel = fcmChannel({
      ...options,
      baseUrl: url,
      customize: ({ fcmMessage }) => ({ ...fcmMessage, data: { count: 12 as unknown as string } }),
    });
    const error = await failure(channel.send(message(), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toContain("INVALID_ARGUMENT Invalid value at 'message.data[0].value'");
  });

  it("maps QUOTA_EXCEEDED (429) to RateLimitedError, honouring Retry-After or FCM's one-minute floor", async () => {
    const { url, enqueue } = await start();
    enqueue(fcmQuotaExceeded(30), fcmQuotaExceeded(), fcmQuotaExceeded());
    const channel = fcmChannel({ ...options, baseUrl: url });
    const told = await failure(channel.send(message(), context()));
    expect(told).toBeInstanceOf(RateLimitedError);
    expect((told as RateLimitedError).retryAfterMs).toBe(30_000);
    expect((told as Error).message).toContain("QUOTA_EXCEEDED");
    expect(((await failure(channel.send(message(), context()))) as RateLimitedError).retryAfterMs).toBe(
      60_000,
    );
    const tuned = fcmChannel({ ...options, baseUrl: url, defaultRetryAfterMs: 5000 });
    expect(((await failure(tuned.send(message(), context()))) as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it("maps UNAVAILABLE with Retry-After to RateLimitedError; without it, and INTERNAL, to a retried Error", async () => {
    const { url, enqueue } = await start();
    enqueue(
      fcmUnavailable(10),
      fcmUnavailable(),
      fcmError(500, "INTERNAL", "Internal error encountered.", "INTERNAL"),
    );
    const channel = fcmChannel({ ...options, baseUrl: url });
    expect(((await failure(channel.send(message(), context()))) as RateLimitedError).retryAfterMs).toBe(
      10_000,
    );
    for (const code of ["UNAVAILABLE", "INTERNAL"]) {
      const error = await failure(channel.send(message(), context()));
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error).not.toBeInstanceOf(RateLimitedError);
      expect((error as Error).message).toContain(code);
    }
  });

  it("retries, never fails permanently, on credential and project errors", async () => {
    const { url, enqueue } = await start();
    const expired = fcmChannel({ ...options, baseUrl: url, getAccessToken: () => "expired" });
    const unauthenticated = await failure(expired.send(message(), context()));
    expect(unauthenticated).not.toBeInstanceOf(PermanentDeliveryError);
    expect((unauthenticated as Error).message).toContain("401: UNAUTHENTICATED");
    await expect(expired.verify?.()).rejects.toThrow(/UNAUTHENTICATED/);

    enqueue(
      fcmError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"),
    );
    const apns = await failure(fcmChannel({ ...options, baseUrl: url }).send(message(), context()));
    expect(apns).not.toBeInstanceOf(PermanentDeliveryError);
    expect((apns as Error).message).toContain("THIRD_PARTY_AUTH_ERROR");

    const otherProject = fcmChannel({ ...options, projectId: "someone-else", baseUrl: url });
    const missing = await failure(otherProject.send(message(), context()));
    expect(missing).toBeInstanceOf(Error);
    expect(missing).not.toBeInstanceOf(PermanentDeliveryError);
    expect((missing as Error).message).toContain("404: NOT_FOUND");

    const broken = fcmChannel({
      ...options,
      baseUrl: url,
      getAccessToken: () => Promise.reject(new Error("metadata server unreachable")),
    });
    const noToken = await failure(broken.send(message(), context()));
    expect(noToken).not.toBeInstanceOf(PermanentDeliveryError);
    expect((noToken as Error).message).toContain("metadata server unreachable");
    const empty = fcmChannel({ ...options, baseUrl: url, getAccessToken: () => null });
    expect(((await failure(empty.send(message(), context()))) as Error).message).toContain("no token");
  });

  it("verify sends a dry run that delivers nothing", async () => {
    const { url, requests, messages } = await start();
    await expect(fcmChannel({ ...options, baseUrl: url }).verify?.()).resolves.toBeUndefined();
    expect(requests[0]?.json).toMatchObject({
      validate_only: true,
      message: { topic: expect.any(String) },
    });
    expect(messages).toHaveLength(0);
  });

  it("refuses a message it can't send without calling FCM", async () => {
    const { url, requests } = await start();
    const channel = fcmChannel({ ...options, baseUrl: url });
    const { to: _, ...noToken } = message();
    expect(await failure(channel.send(noToken, context()))).toBeInstanceOf(PermanentDeliveryError);
    const sms = { ...message(), content: { channel: "sms", body: "hi" } } as const;
    expect(await failure(channel.send(sms, context()))).toBeInstanceOf(PermanentDeliveryError);
    expect(requests).toHaveLength(0);
  });

  it("rejects bad options with a CampaignKitError that says what to fix", () => {
    const bad = (o: Parameters<typeof fcmChannel>[0], text: string) =>
      expect(() => fcmChannel(o)).toThrow(
        expect.objectContaining({ name: "CampaignKitError", message: expect.stringContaining(text) }),
      );
    bad({ ...options, projectId: "../other" }, "`projectId`");
    bad({ projectId: TEST_PROJECT } as Parameters<typeof fcmChannel>[0], "`getAccessToken`");
    bad({ ...options, timeoutMs: -1 }, "`timeoutMs`");
    expect(() => fcmChannel({ ...options, baseUrl: "fcm.googleapis.com" })).toThrow(CampaignKitError);
  });
});
