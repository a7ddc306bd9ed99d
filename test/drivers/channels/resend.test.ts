import { afterEach, describe, expect, it } from "vitest";
import { decodeTagValue, resendChannel } from "../../../src/drivers/channels/resend.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../../src/errors.js";
import { type ReceivedMessage, runChannelSuite } from "../../../src/testing/index.js";
import { failure } from "../../support/outcomes.js";
import { batchContext, context, emailConfiguration, emailMessage, receivedEmail } from "./fixtures.js";
import { RESEND_API_KEY, RESEND_SENDING_KEY, type ResendStub, startResendStub } from "./stubs/resend.js";
import { startStubServer } from "./stubs/server.js";

const received = (stub: ResendStub) => async (): Promise<ReceivedMessage[]> =>
  stub.emails.map((email) =>
    // Only a single send's key is the message's own; a batch's covers the batch.
    receivedEmail(
      email.to[0],
      email.subject,
      email.html,
      email.text,
      email.via === "emails" ? email.idempotencyKey : undefined,
    ),
  );

for (const batch of [true, false]) {
  runChannelSuite({
    name: `resendChannel (batch: ${batch})`,
    configuration: emailConfiguration(),
    create: async () => {
      const stub = await startResendStub();
      return {
        adapter: resendChannel({ apiKey: RESEND_API_KEY, baseUrl: stub.url, batch }),
        received: received(stub),
        cleanup: stub.close,
      };
    },
    failing: async () => {
      const stub = await startStubServer(() => ({
        status: 500,
        body: { statusCode: 500, name: "internal_server_error", message: "boom" },
      }));
      return {
        adapter: resendChannel({ apiKey: RESEND_API_KEY, baseUrl: stub.url, batch }),
        cleanup: stub.close,
      };
    },
  });
}

describe("resendChannel requests and answers", () => {
  let stub: ResendStub;
  afterEach(async () => {
    await stub?.close();
  });
  const channel = async (options: Partial<Parameters<typeof resendChannel>[0]> = {}) => {
    stub = await startResendStub();
    return resendChannel({ apiKey: RESEND_API_KEY, baseUrl: stub.url, ...options });
  };

  it("maps the message and its configuration onto Resend's email, and returns Resend's id", async () => {
    const resend = await channel();
    const result = await resend.send(emailMessage("ana@example.com"), context("m:1"));
    const [request] = stub.requests;
    expect(request?.headers.authorization).toBe(`Bearer ${RESEND_API_KEY}`);
    expect(request?.headers["idempotency-key"]).toBe("m:1");
    const [email] = stub.emails;
    expect(result).toEqual({ providerMessageId: email?.id });
    expect(email).toMatchObject({
      from: '"Acme, News" <news@news.acme.test>',
      to: ["ana@example.com"],
      reply_to: "help@acme.test",
      subject: "Spring ✓ for Zoë",
      html: "<p>Hi Zoë</p>",
      text: "Hi Zoë",
      headers: {
        "X-Campaign-Kit-Message-Id": "m:6:spring:5:run-1:email:ana@example.com",
        "List-Unsubscribe": "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      },
    });
    const tags = Object.fromEntries(email!.tags.map((t) => [t.name, decodeTagValue(t.value)]));
    expect(tags).toEqual({
      ck_campaign: "spring",
      ck_execution: "run-1",
      ck_recipient: "ana@example.com",
      ck_message: "m:6:spring:5:run-1:email:ana@example.com",
    });
  });

  it("adds no List-Unsubscribe to transactional mail, and personalizes the URL when asked", async () => {
    const resend = await channel({ unsubscribeUrl: ({ message, url }) => `${url}/${message.recipientId}` });
    await resend.send(
      emailMessage("t@example.com", { configuration: emailConfiguration("transactional") }),
      context(),
    );
    await resend.send(emailMessage("m@example.com"), context("key-2"));
    const [transactional, marketing] = stub.emails;
    expect(transactional?.headers["List-Unsubscribe"]).toBeUndefined();
    expect(marketing?.headers["List-Unsubscribe"]).toBe(
      "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u/m@example.com>",
    );
  });

  it("sends a key Resend can't take (too long, not ASCII) as a stable digest, delivered once", async () => {
    const resend = await channel({ batch: false });
    const key = `m:${"é".repeat(300)}`;
    const first = await resend.send(emailMessage("a@example.com"), context(key));
    const again = await resend.send(emailMessage("a@example.com"), context(key));
    const sent = stub.requests.map((r) => String(r.headers["idempotency-key"]));
    expect(sent[0]).toMatch(/^ck-[0-9a-f]{64}$/);
    expect(sent[1]).toBe(sent[0]);
    expect(stub.emails).toHaveLength(1);
    expect(again).toEqual(first);
  });

  it("sends a batch in one request and returns one result per message, in order", async () => {
    const resend = await channel();
    const messages = ["a", "b", "c"].map((n) => emailMessage(`${n}@example.com`));
    const results = await resend.sendBatch!(messages, batchContext());
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]?.headers["x-batch-validation"]).toBe("permissive");
    expect(String(stub.requests[0]?.headers["idempotency-key"])).toMatch(/^ck-batch-[0-9a-f]{64}$/);
    expect(results).toEqual(stub.emails.map((e) => ({ ok: true, providerMessageId: e.id })));
    expect(stub.emails.map((e) => e.to[0])).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    // The same batch again (a retry after a timeout) is answered from Resend's idempotency store.
    expect(await resend.sendBatch!(messages, batchContext())).toEqual(results);
    expect(stub.emails).toHaveLength(3);
  });

  it("fails only the emails Resend or the adapter refuse within a batch", async () => {
    const resend = await channel();
    const { to: _to, ...noAddress } = emailMessage("x@example.com");
    const results = await resend.sendBatch!(
      [
        emailMessage("a@example.com"),
        emailMessage("not-an-address"),
        noAddress,
        emailMessage("c@example.com"),
      ],
      batchContext(),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
    expect(!results[1]!.ok && results[1]!.error).toBeInstanceOf(PermanentDeliveryError);
    expect(!results[1]!.ok && results[1]!.error.message).toContain("Invalid `to` field");
    expect(!results[2]!.ok && results[2]!.error.message).toContain("no email address");
    expect(stub.emails.map((e) => e.to[0])).toEqual(["a@example.com", "c@example.com"]);
  });

  it("gives every message of a throttled batch the RateLimitedError, with Resend's retry-after", async () => {
    const resend = await channel();
    const results = await resend.sendBatch!(
      [emailMessage("a@example.com"), emailMessage("throttle@example.com")],
      batchContext(),
    );
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatchObject({ name: "RateLimitedError", retryAfterMs: 1000 });
    }
    expect(stub.emails).toHaveLength(0);
  });

  it("maps Resend's documented errors to permanent, throttled and retried failures", async () => {
    const resend = await channel({ dailyQuotaRetryAfterMs: 60_000 });
    const send = (to: string, key = to) => failure(resend.send(emailMessage(to), context(key)));

    const throttled = await send("throttle@example.com");
    expect(throttled).toBeInstanceOf(RateLimitedError);
    expect((throttled as RateLimitedError).retryAfterMs).toBe(1000);
    const daily = await send("quota@example.com");
    expect(daily).toBeInstanceOf(RateLimitedError);
    expect((daily as RateLimitedError).retryAfterMs).toBe(60_000);
    const monthly = await send("monthly@example.com");
    expect(monthly).toBeInstanceOf(PermanentDeliveryError);
    expect((monthly as Error).message).toContain("monthly_quota_exceeded");
    const unverified = await send("unverified@example.com");
    expect(unverified).toBeInstanceOf(PermanentDeliveryError);
    expect((unverified as Error).message).toContain("only send testing emails");
    const invalid = await send("not-an-address");
    expect(invalid).toBeInstanceOf(PermanentDeliveryError);
    expect((invalid as Error).message).toContain("422");

    for (const to of ["crash@example.com", "flaky@example.com"]) {
      const error = await send(to);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDeliveryError);
      expect(error).not.toBeInstanceOf(RateLimitedError);
    }
    // flaky@ failed once: the retry goes through.
    await expect(resend.send(emailMessage("flaky@example.com"), context("flaky-2"))).resolves.toMatchObject({
      providerMessageId: expect.any(String),
    });

    await resend.send(emailMessage("a@example.com"), context("same"));
    const conflict = await failure(resend.send(emailMessage("b@example.com"), context("same")));
    expect(conflict).toBeInstanceOf(PermanentDeliveryError);
    expect((conflict as Error).message).toContain("invalid_idempotent_request");
  });

  it("fails a wrong API key permanently, saying to fix it; verify accepts full and sending-only keys", async () => {
    await channel();
    const wrong = resendChannel({ apiKey: "re_wrong", baseUrl: stub.url });
    const error = await failure(wrong.send(emailMessage("a@example.com"), context()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toMatch(/403: invalid_api_key.*check the API key/);
    await expect(wrong.verify!()).rejects.toThrow(/check the API key/);
    await expect(
      resendChannel({ apiKey: RESEND_API_KEY, baseUrl: stub.url }).verify!(),
    ).resolves.toBeUndefined();
    await expect(
      resendChannel({ apiKey: RESEND_SENDING_KEY, baseUrl: stub.url }).verify!(),
    ).resolves.toBeUndefined();
  });

  it("retries a refused connection and a timeout, and aborts a request in flight on stop", async () => {
    const resend = await channel();
    await stub.close();
    const refused = await failure(resend.send(emailMessage("a@example.com"), context()));
    expect(refused).not.toBeInstanceOf(PermanentDeliveryError);
    expect((refused as Error).message).toMatch(/Request to Resend failed: .*ECONNREFUSED/);

    const { createServer } = await import("node:http");
    // Never answers; tells the stop below when a request has arrived, so it is in flight.
    let arrived = () => {};
    const silent = createServer(() => arrived());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const slow = resendChannel({ apiKey: RESEND_API_KEY, baseUrl: url, timeoutMs: 100 });
      const timedOut = await failure(slow.send(emailMessage("a@example.com"), context()));
      expect((timedOut as Error).message).toBe("Resend did not answer within 100 ms.");
      const stop = new AbortController();
      arrived = () => stop.abort(new Error("stopped"));
      const stopped = await failure(
        resendChannel({ apiKey: RESEND_API_KEY, baseUrl: url }).send(
          emailMessage("a@example.com"),
          context("k", stop.signal),
        ),
      );
      expect(stopped).toEqual(new Error("stopped"));
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("calls the fetch it is given, and rejects bad options with a CampaignKitError", async () => {
    await channel();
    const calls: string[] = [];
    const traced: typeof fetch = (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    };
    await resendChannel({ apiKey: RESEND_API_KEY, baseUrl: `${stub.url}/`, fetch: traced }).send(
      emailMessage("a@example.com"),
      context(),
    );
    expect(calls).toEqual([`${stub.url}/emails`]);
    expect(() => resendChannel({ apiKey: "" })).toThrow(CampaignKitError);
    expect(() => resendChannel({ apiKey: "re_x", timeoutMs: 0 })).toThrow(CampaignKitError);
    expect(() => resendChannel({ apiKey: "re_x", defaultRetryAfterMs: -1 })).toThrow(CampaignKitError);
    expect(resendChannel({ apiKey: "re_x" }).capabilities).toEqual({
      batch: true,
      idempotencyKeys: false,
      maxBatchSize: 100,
    });
    expect(resendChannel({ apiKey: "re_x", batch: false }).capabilities).toEqual({
      batch: false,
      idempotencyKeys: true,
    });
  });
});
