import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  correlationMetadata,
  decodeTagValue,
  encodeTagValue,
  formatAddress,
  providerIdempotencyKey,
} from "../../../src/drivers/channels/email.js";

describe("what the email channels share", () => {
  it("tag-encodes any id into the SES and Resend tag alphabet, and decodes it back", () => {
    expect(encodeTagValue("m:6:spring:5:run-1:email:p_42")).toBe(
      "m_3A6_3Aspring_3A5_3Arun-1_3Aemail_3Ap_5F42",
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 60 }), (id) => {
        const encoded = encodeTagValue(id);
        expect(encoded).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
        expect(decodeTagValue(encoded)).toBe(id);
      }),
      { numRuns: 500 },
    );
  });

  it("turns an id too long for a tag into a stable digest that decodes to nothing", () => {
    const long = "é".repeat(100); // 200 bytes, 600 characters encoded
    const encoded = encodeTagValue(long);
    expect(encoded).toMatch(/^_x[0-9a-f]{40}$/);
    expect(encodeTagValue(long)).toBe(encoded);
    expect(decodeTagValue(encoded)).toBeUndefined();
    expect(decodeTagValue("not:ours")).toBeUndefined();
  });

  it("keeps a usable idempotency key as is, and digests one a provider can't take", () => {
    expect(providerIdempotencyKey("m:6:spring:5:run-1:email:p-42", 256)).toBe(
      "m:6:spring:5:run-1:email:p-42",
    );
    const unicode = providerIdempotencyKey("m:1:Zoë", 256);
    expect(unicode).toMatch(/^ck-[0-9a-f]{64}$/);
    expect(providerIdempotencyKey("m:1:Zoë", 256)).toBe(unicode);
    expect(providerIdempotencyKey("x".repeat(257), 256)).toMatch(/^ck-[0-9a-f]{64}$/);
    expect(providerIdempotencyKey("with space", 256)).toMatch(/^ck-/);
  });

  it("quotes a sender name, and encodes a non-ASCII one as RFC 2047 when asked", () => {
    expect(formatAddress({ name: 'Acme, "News"', address: "n@acme.test" })).toBe(
      '"Acme, \\"News\\"" <n@acme.test>',
    );
    expect(formatAddress({ name: "Zoë", address: "z@acme.test" }, true)).toBe(
      "=?UTF-8?B?Wm/Dqw==?= <z@acme.test>",
    );
    expect(formatAddress({ name: "Plain", address: "p@acme.test" }, true)).toBe('"Plain" <p@acme.test>');
  });

  it("fits free-form metadata into a length limit with a stable digest", () => {
    const ids = { campaignId: "c", executionId: "e", recipientId: "r".repeat(81), messageId: "m" };
    const fitted = correlationMetadata(ids, 80);
    expect(fitted).toMatchObject({ ck_campaign: "c", ck_execution: "e", ck_message: "m" });
    expect(fitted.ck_recipient).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(correlationMetadata(ids).ck_recipient).toBe(ids.recipientId);
  });
});
