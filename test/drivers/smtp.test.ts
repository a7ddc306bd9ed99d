import { createServer as createNetServer } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { classifySmtpError, smtpChannel, smtpMessageId } from "../../src/drivers/smtp.js";
import { CampaignKitError, PermanentDeliveryError, RateLimitedError } from "../../src/errors.js";
import type { ChannelConfiguration } from "../../src/model/channel-configuration.js";
import type { OutboundMessage } from "../../src/ports/channel.js";
import { type ReceivedMessage, runChannelSuite } from "../../src/testing/index.js";
import { failure } from "../support/outcomes.js";

interface Delivered {
  envelopeTo: string[];
  mail: ParsedMail;
}

const reply = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });

/**
 * A real SMTP server on 127.0.0.1 and a nodemailer transporter pointed at it. Recipients named
 * `reject-<code>@...` are refused at RCPT TO with that code; `data-<code>@...` after the message data.
 */
async function smtpBackend(options: Partial<SMTPServerOptions> = {}, transport: object = {}) {
  const delivered: Delivered[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(address, _session, callback) {
      const code = /^reject-(\d{3})@/.exec(address.address)?.[1];
      callback(code ? reply(Number(code), `Refused ${address.address}`) : undefined);
    },
    onData(stream, session: SMTPServerSession, callback) {
      simpleParser(stream).then((mail) => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        const code = envelopeTo.map((to) => /^data-(\d{3})@/.exec(to)?.[1]).find(Boolean);
        if (code) return callback(reply(Number(code), "Message rejected as spam"));
        delivered.push({ envelopeTo, mail });
        callback();
      }, callback);
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as { port: number };
  const transporter = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    ...transport,
  });
  return {
    delivered,
    transporter,
    close: async () => {
      transporter.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header's raw value, unfolded (mailparser restructures the List-* headers). */
const header = (mail: ParsedMail | undefined, key: string): string | undefined =>
  mail?.headerLines
    .find((h) => h.key === key)
    ?.line.replace(/^[^:]+:\s*/, "")
    .replace(/\r?\n[ \t]+/g, " ");

const received = (delivered: Delivered[]): ReceivedMessage[] =>
  delivered.map(({ envelopeTo, mail }) => ({
    to: envelopeTo[0],
    idempotencyKey: mail.headers.get("x-campaign-kit-message-id") as string | undefined,
    content: {
      channel: "email",
      subject: mail.subject ?? "",
      ...(mail.html === false ? {} : { html: mail.html }),
      ...(mail.text === undefined ? {} : { text: mail.text }),
    },
  }));

async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const configuration = (purpose: "marketing" | "transactional" = "marketing"): ChannelConfiguration => ({
  id: "email-news",
  name: "Newsletter",
  purpose,
  status: "active",
  channel: "email",
  settings: {
    fromName: "Acme Café",
    fromAddress: "news@news.acme.test",
    replyTo: "help@acme.test",
    subdomain: "news.acme.test",
    listUnsubscribe: { mailto: "unsubscribe@news.acme.test", url: "https://acme.test/u", oneClick: true },
  },
});

runChannelSuite({
  name: "smtpChannel",
  configuration: configuration(),
  create: async () => {
    const backend = await smtpBackend();
    return {
      adapter: smtpChannel({ transporter: backend.transporter }),
      received: async () => received(backend.delivered),
      cleanup: backend.close,
    };
  },
  failing: async () => {
    const transporter = nodemailer.createTransport({ host: "127.0.0.1", port: await closedPort() });
    return { adapter: smtpChannel({ transporter }), cleanup: async () => transporter.close() };
  },
});

const message = (to: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  id: `m:6:spring:5:run-1:email:${to}`,
  campaignId: "spring",
  executionId: "run-1",
  recipientId: to,
  channel: "email",
  category: "marketing",
  to,
  content: { channel: "email", subject: "Spring sale", html: "<p>20% off</p>", text: "20% off" },
  configuration: configuration(),
  ...overrides,
});
const context = { idempotencyKey: "k", attempt: 1, signal: new AbortController().signal };

describe("smtpChannel mail and errors", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });
  async function backend(...args: Parameters<typeof smtpBackend>) {
    const started = await smtpBackend(...args);
    close = started.close;
    return started;
  }

  it("builds From, Reply-To, a deterministic Message-ID and the campaign headers", async () => {
    const { transporter, delivered } = await backend();
    const channel = smtpChannel({ transporter });
    const sent = message("ana@example.com");
    const first = await channel.send(sent, context);
    await channel.send(sent, { ...context, attempt: 2 });
    const expectedId = smtpMessageId({ id: sent.id, subdomain: "news.acme.test" });
    expect(expectedId).toMatch(/^<ck\.[0-9a-f]{40}@news\.acme\.test>$/);
    expect(first).toEqual({ providerMessageId: expectedId });
    const [a, b] = delivered.map((d) => d.mail);
    expect(a?.from?.value).toEqual([{ name: "Acme Café", address: "news@news.acme.test" }]);
    expect(a?.replyTo?.value).toEqual([{ name: "", address: "help@acme.test" }]);
    expect(a?.messageId).toBe(expectedId);
    expect(b?.messageId).toBe(expectedId); // a re-send carries the same Message-ID
    expect(a?.headers.get("x-campaign-kit-message-id")).toBe(sent.id);
    expect(header(a, "list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    expect(header(a, "list-unsubscribe")).toBe("<mailto:unsubscribe@news.acme.test>, <https://acme.test/u>");
  });

  it("adds List-Unsubscribe to marketing messages only, and One-Click only with a URL", async () => {
    const { transporter, delivered } = await backend();
    const base = configuration();
    if (base.channel !== "email") throw new Error("unreachable");
    const mailtoOnly = {
      ...base,
      settings: { ...base.settings, listUnsubscribe: { mailto: "u@acme.test", oneClick: true } },
    };
    const channel = smtpChannel({
      transporter,
      unsubscribeUrl: ({ message: m, url }) => `${url}/${encodeURIComponent(m.recipientId)}`,
    });
    await channel.send(
      message("t@example.com", { category: "transactional", configuration: configuration("transactional") }),
      context,
    );
    await channel.send(message("m@example.com", { configuration: mailtoOnly }), context);
    await channel.send(message("p@example.com"), context);
    const [transactional, mailto, personal] = delivered.map((d) => d.mail);
    expect(header(transactional, "list-unsubscribe")).toBeUndefined();
    expect(header(mailto, "list-unsubscribe")).toBe("<mailto:u@acme.test>");
    expect(header(mailto, "list-unsubscribe-post")).toBeUndefined();
    expect(header(personal, "list-unsubscribe")).toBe(
      "<mailto:unsubscribe@news.acme.test>, <https://acme.test/u/p%40example.com>",
    );
    expect(header(personal, "list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
  });

  it.each([550, 553, 554])("fails a %i to RCPT TO permanently", async (code) => {
    const { transporter } = await backend();
    const error = await failure(
      smtpChannel({ transporter }).send(message(`reject-${code}@example.com`), context),
    );
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toContain(String(code));
  });

  it("fails a 554 to the message data (spam rejection) permanently", async () => {
    const { transporter } = await backend();
    const error = await failure(smtpChannel({ transporter }).send(message("data-554@example.com"), context));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
  });

  it("maps 421 to RateLimitedError, with the wait the reply names or the default", async () => {
    const { transporter } = await backend({
      onRcptTo(address, _session, callback) {
        const text = address.address.startsWith("says") ? "Throttled, try again in 30 seconds" : "Busy";
        callback(reply(421, text));
      },
    });
    const channel = smtpChannel({ transporter, throttleRetryAfterMs: 5000 });
    const says = await failure(channel.send(message("says@example.com"), context));
    expect(says).toBeInstanceOf(RateLimitedError);
    expect((says as RateLimitedError).retryAfterMs).toBe(30_000);
    const silent = await failure(channel.send(message("silent@example.com"), context));
    expect((silent as RateLimitedError).retryAfterMs).toBe(5000);
  });

  it.each([450, 451, 452, 552])("retries a %i to RCPT TO with the server's error", async (code) => {
    const { transporter } = await backend();
    const error = await failure(
      smtpChannel({ transporter }).send(message(`reject-${code}@example.com`), context),
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentDeliveryError);
    expect(error).not.toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ responseCode: code });
  });

  it("retries a refused connection, a 554 greeting and failed authentication; verify reports them", async () => {
    const refused = nodemailer.createTransport({ host: "127.0.0.1", port: await closedPort() });
    const connection = await failure(
      smtpChannel({ transporter: refused }).send(message("a@example.com"), context),
    );
    expect((connection as Error).message).toContain("ECONNREFUSED");
    await expect(smtpChannel({ transporter: refused }).verify?.()).rejects.toThrow();

    const greeting = await backend({ onConnect: (_session, callback) => callback(reply(554, "No service")) });
    const refusedAtGreeting = await failure(
      smtpChannel({ transporter: greeting.transporter }).send(message("a@example.com"), context),
    );
    expect(refusedAtGreeting).not.toBeInstanceOf(PermanentDeliveryError);
    expect(refusedAtGreeting).toMatchObject({ responseCode: 554 });
    await close?.();

    const auth = await backend(
      {
        authOptional: false,
        allowInsecureAuth: true,
        onAuth: (_auth, _session, callback) => callback(reply(535, "Bad credentials")),
      },
      { auth: { user: "u", pass: "wrong" } },
    );
    const badLogin = await failure(
      smtpChannel({ transporter: auth.transporter }).send(message("a@example.com"), context),
    );
    expect(badLogin).toMatchObject({ code: "EAUTH" });
    expect(badLogin).not.toBeInstanceOf(PermanentDeliveryError);
    await expect(smtpChannel({ transporter: auth.transporter }).verify?.()).rejects.toThrow();
  });

  it("refuses messages it can never send, and bad options", async () => {
    const { transporter } = await backend();
    const channel = smtpChannel({ transporter });
    const { to: _to, ...noAddress } = message("x@example.com");
    expect(await failure(channel.send(noAddress, context))).toBeInstanceOf(PermanentDeliveryError);
    expect(
      classifySmtpError(Object.assign(new Error("No recipients defined"), { code: "EENVELOPE" })),
    ).toBeInstanceOf(PermanentDeliveryError);
    expect(() => smtpChannel({ transporter: {} as never })).toThrow(CampaignKitError);
    expect(() => smtpChannel({ transporter, throttleRetryAfterMs: -1 })).toThrow(CampaignKitError);
    const stopped = new AbortController();
    stopped.abort(new Error("stopped"));
    const error = await failure(
      channel.send(message("y@example.com"), { ...context, signal: stopped.signal }),
    );
    expect(error).toEqual(new Error("stopped"));
  });
});
