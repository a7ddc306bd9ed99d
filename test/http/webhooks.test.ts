/**
 * The providers' feedback webhooks through `feedbackEndpoints`, as each provider signs and shapes them: SES
 * through SNS (a signing certificate this test makes with openssl), Resend (Svix), Postmark (basic auth or a
 * header), SendGrid (ECDSA) and Twilio (X-Twilio-Signature). Good calls record their events on memory and
 * PostgreSQL; bad signatures are 401 problems, bad bodies 400, never a 500.
 */
import { execFileSync } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeTagValue } from "../../src/drivers/channels/email.js";
import {
  feedbackEndpoints,
  postmarkWebhook,
  resendWebhook,
  sendgridWebhook,
  sesWebhook,
  twilioWebhook,
} from "../../src/http/index.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { delivery } from "../../src/testing/storage-fixtures.js";
import { storageTargets } from "../support/storages.js";

// A signing certificate of our own, as SNS's would be, at an SNS-looking URL the test serves.
const folder = mkdtempSync(join(tmpdir(), "ck-sns-"));
execFileSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=sns.amazonaws.com",
    "-keyout",
    join(folder, "key.pem"),
    "-out",
    join(folder, "cert.pem"),
  ],
  { stdio: "ignore" },
);
const snsKey = readFileSync(join(folder, "key.pem"), "utf8");
const snsCert = readFileSync(join(folder, "cert.pem"), "utf8");
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback";

function snsSigned(fields: Record<string, string>, version: "1" | "2" = "2"): Record<string, string> {
  const order =
    fields.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = order
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}\n${fields[k]}\n`)
    .join("");
  const signature = sign(version === "1" ? "RSA-SHA1" : "RSA-SHA256", Buffer.from(text), snsKey).toString(
    "base64",
  );
  return { ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: CERT_URL };
}

const RESEND_SECRET = `whsec_${randomBytes(24).toString("base64")}`;
const sendgridKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const SENDGRID_KEY = sendgridKeys.publicKey.export({ format: "der", type: "spki" }).toString("base64");
const TWILIO_TOKEN = "twilio-auth-token";

describe.each(storageTargets("the webhook tests"))("feedback webhooks on $name storage", (target) => {
  async function setUp() {
    const storage: Storage = await target.create();
    await storage.record({
      records: [
        delivery("m:ses", { providerMessageId: "ses-1", recipientId: "ana" }),
        delivery("m:resend", { providerMessageId: "re_1", recipientId: "ben" }),
        delivery("m:postmark", { providerMessageId: "pm-1", recipientId: "cy" }),
        delivery("m:sendgrid", { providerMessageId: "sg-1", recipientId: "di" }),
        delivery("m:twilio", { providerMessageId: "SM1", recipientId: "ed", channel: "sms" }),
      ],
    });
    const kit = await createCampaignKit({ storage, readCache: false });
    const confirmed: string[] = [];
    const errors: unknown[] = [];
    const { handler } = feedbackEndpoints(kit, {
      webhooks: [
        sesWebhook({
          topicArns: [TOPIC],
          fetchCertificate: async (url) => {
            expect(url).toBe(CERT_URL);
            return snsCert;
          },
          confirmSubscription: async (url) => {
            confirmed.push(url);
          },
        }),
        resendWebhook({ secret: RESEND_SECRET }),
        postmarkWebhook({ basicAuth: { username: "pm", password: "s3cret" } }),
        sendgridWebhook({ publicKey: SENDGRID_KEY }),
        twilioWebhook({ authToken: TWILIO_TOKEN }),
      ],
      onError: (error) => errors.push(error),
    });
    const post = (provider: string, body: string, headers: Record<string, string> = {}) =>
      handler(
        new Request(`https://hooks.example/campaign-kit/webhooks/${provider}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", ...headers },
        }),
      );
    const feedback = () => createRepositories(storage).feedback.every();
    return { kit, post, feedback, confirmed, errors };
  }

  it("SES through SNS: verifies the certificate signature, confirms subscriptions, records bounces with suppression", async () => {
    const { post, feedback, confirmed, kit } = await setUp();
    const confirmation = snsSigned({
      Type: "SubscriptionConfirmation",
      MessageId: "sub-1",
      Token: "tok",
      TopicArn: TOPIC,
      Message: "You have chosen to subscribe",
      SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok",
      Timestamp: "2026-12-01T08:00:00.000Z",
    });
    expect((await post("ses", JSON.stringify(confirmation))).status).toBe(200);
    expect(confirmed).toEqual([confirmation.SubscribeURL]);

    const bounce = {
      eventType: "Bounce",
      mail: { messageId: "ses-1", tags: { ck_message: [encodeTagValue("m:ses")] } },
      bounce: {
        bounceType: "Permanent",
        timestamp: "2026-12-01T08:01:00.000Z",
        bouncedRecipients: [{ emailAddress: "Ana@example.com", diagnosticCode: "550 5.1.1 user unknown" }],
      },
    };
    const note = snsSigned(
      {
        Type: "Notification",
        MessageId: "n-1",
        TopicArn: TOPIC,
        Message: JSON.stringify(bounce),
        Timestamp: "2026-12-01T08:01:01.000Z",
      },
      "1",
    );
    const response = await post("ses", JSON.stringify(note));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ recorded: 1, duplicates: 0, unmatched: 0 });
    expect(await (await post("ses", JSON.stringify(note))).json()).toEqual({
      recorded: 0,
      duplicates: 1,
      unmatched: 0,
    });
    expect(await feedback()).toMatchObject([{ messageId: "m:ses", type: "bounced", bounce: "hard" }]);
    const suppressed = await kit.suppressions.list({ actor: "root" }).catch(() => undefined);
    expect(suppressed).toBeUndefined(); // root is no administrator here: the list is guarded
    const entries = await createRepositories((kit as { storage: Storage }).storage).suppressions.every();
    expect(entries).toMatchObject([
      { address: "ana@example.com", reasons: ["bounced"], detail: "550 5.1.1 user unknown" },
    ]);

    // Tampered, unsigned, from a foreign host or topic: 401; not SNS at all: 400.
    const tampered = { ...note, Message: (note.Message as string).replace("Permanent", "Transient") };
    for (const bad of [
      tampered,
      { ...note, Signature: undefined },
      { ...note, SigningCertURL: "https://evil.example/cert.pem" },
      { ...note, SigningCertURL: "http://sns.eu-west-1.amazonaws.com/cert.pem" },
      snsSigned({ ...note, TopicArn: "arn:aws:sns:eu-west-1:999:other", Signature: "" } as never),
    ]) {
      const refused = await post("ses", JSON.stringify(bad));
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
    }
    for (const body of ["not json", "[]", JSON.stringify({ Type: "Other" })])
      expect((await post("ses", body)).status).toBe(400);
  });

  it("Resend: verifies Svix signatures and their timestamp, records clicks by provider id", async () => {
    const { post, feedback } = await setUp();
    const body = JSON.stringify({
      type: "email.clicked",
      created_at: "2026-12-01T08:02:00.000Z",
      data: { email_id: "re_1", to: ["ben@example.com"], click: { link: "https://acme.example/sale" } },
    });
    const headersFor = (content: string, seconds = Math.floor(Date.now() / 1000), id = "msg_1") => {
      const key = Buffer.from(RESEND_SECRET.slice(6), "base64");
      const signature = createHmac("sha256", key).update(`${id}.${seconds}.${content}`).digest("base64");
      return {
        "svix-id": id,
        "svix-timestamp": String(seconds),
        "svix-signature": `v1,bogus v1,${signature}`,
      };
    };
    expect((await post("resend", body, headersFor(body))).status).toBe(200);
    expect(await feedback()).toMatchObject([
      { messageId: "m:resend", type: "clicked", urls: ["https://acme.example/sale"] },
    ]);
    expect((await post("resend", body, headersFor(`${body} `))).status).toBe(401);
    expect((await post("resend", body, headersFor(body, Math.floor(Date.now() / 1000) - 3600))).status).toBe(
      401,
    );
    expect((await post("resend", body)).status).toBe(401);
    expect((await post("resend", "{", headersFor("{"))).status).toBe(400);
  });

  it("Postmark: checks basic auth, records hard bounces and unsubscriptions", async () => {
    const { post, feedback } = await setUp();
    const auth = { authorization: `Basic ${Buffer.from("pm:s3cret").toString("base64")}` };
    const bounce = JSON.stringify({
      RecordType: "Bounce",
      ID: 42,
      Type: "HardBounce",
      MessageID: "pm-1",
      Email: "cy@example.com",
      BouncedAt: "2026-12-01T08:03:00Z",
      Description: "The server was unable to deliver your message",
    });
    expect((await post("postmark", bounce, auth)).status).toBe(200);
    expect((await post("postmark", bounce, { authorization: "Basic d3Jvbmc6d3Jvbmc=" })).status).toBe(401);
    expect((await post("postmark", bounce)).status).toBe(401);
    expect((await post("postmark", "[1,2", auth)).status).toBe(400);
    expect(await feedback()).toMatchObject([{ messageId: "m:postmark", type: "bounced", bounce: "hard" }]);
  });

  it("SendGrid: verifies the ECDSA signature over timestamp and body, records a batch by sg_event_id", async () => {
    const { post, feedback } = await setUp();
    const events = [
      {
        event: "delivered",
        sg_event_id: "ev1",
        sg_message_id: "sg-1.filter0001.123",
        email: "di@example.com",
        timestamp: 1_796_112_000,
      },
      {
        event: "open",
        sg_event_id: "ev2",
        sg_message_id: "sg-1.filter0001.123",
        email: "di@example.com",
        timestamp: 1_796_112_060,
      },
      {
        event: "processed",
        sg_event_id: "ev3",
        sg_message_id: "sg-1.filter0001.123",
        timestamp: 1_796_112_000,
      },
    ];
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign("sha256", Buffer.from(timestamp + body), sendgridKeys.privateKey).toString(
      "base64",
    );
    const headers = {
      "x-twilio-email-event-webhook-signature": signature,
      "x-twilio-email-event-webhook-timestamp": timestamp,
    };
    const response = await post("sendgrid", body, headers);
    expect(await response.json()).toEqual({ recorded: 2, duplicates: 0, unmatched: 0 });
    expect((await feedback()).map((f) => f.type).sort()).toEqual(["delivered", "opened"]);
    expect((await post("sendgrid", body.replace("ev2", "ev9"), headers)).status).toBe(401);
    expect(
      (await post("sendgrid", body, { ...headers, "x-twilio-email-event-webhook-timestamp": "1" })).status,
    ).toBe(401);
  });

  it("Twilio: checks X-Twilio-Signature over the URL and sorted parameters, records undelivered as a bounce", async () => {
    const { post, feedback } = await setUp();
    const params = new URLSearchParams({
      MessageSid: "SM1",
      MessageStatus: "undelivered",
      ErrorCode: "30005",
      To: "+33612345678",
    });
    const url = "https://hooks.example/campaign-kit/webhooks/twilio";
    const data =
      url +
      [...params.keys()]
        .sort()
        .map((k) => k + params.get(k))
        .join("");
    const signature = createHmac("sha1", TWILIO_TOKEN).update(data).digest("base64");
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect(
      (await post("twilio", params.toString(), { ...form, "x-twilio-signature": signature })).status,
    ).toBe(200);
    expect(await feedback()).toMatchObject([
      { messageId: "m:twilio", channel: "sms", type: "bounced", bounce: "hard" },
    ]);
    expect((await post("twilio", params.toString(), { ...form, "x-twilio-signature": "AAAA" })).status).toBe(
      401,
    );
    const noSid = new URLSearchParams({ MessageStatus: "sent" });
    const noSidSignature = createHmac("sha1", TWILIO_TOKEN)
      .update(`${url}MessageStatussent`)
      .digest("base64");
    expect(
      (await post("twilio", noSid.toString(), { ...form, "x-twilio-signature": noSidSignature })).status,
    ).toBe(400);
  });

  it("answers unknown providers 404 and other methods 405, and never 500 for garbage", async () => {
    const { post, errors } = await setUp();
    expect((await post("mailgun", "{}")).status).toBe(404);
    for (const provider of ["ses", "resend", "postmark", "sendgrid", "twilio"]) {
      for (const body of ["", "\u0000\u0001", "{}", "null", '{"Type":"Notification"}', "x".repeat(10_000)]) {
        const status = (await post(provider, body)).status;
        expect([400, 401], `${provider} ${JSON.stringify(body.slice(0, 20))}`).toContain(status);
      }
    }
    expect(errors).toEqual([]);
  });
});
