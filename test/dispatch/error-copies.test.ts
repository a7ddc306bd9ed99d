import { describe, expect, it } from "vitest";
import { classifyError } from "../../src/dispatch/retry.js";
import { PermanentDeliveryError, RateLimitedError } from "../../src/errors.js";

// The CommonJS build bundles each entry on its own, so `campaign-kit/channels/twilio` (or `/smtp`) throws its
// own copy of these classes, not the root entry's: the dispatcher must still read them.
class CopiedPermanentDeliveryError extends Error {
  override name = "PermanentDeliveryError";
}
class CopiedRateLimitedError extends Error {
  override name = "RateLimitedError";
  readonly retryAfterMs = 5000;
}

describe("classifyError", () => {
  it("reads the error classes of another copy of campaign-kit by name", () => {
    expect(classifyError(new PermanentDeliveryError("gone"))).toBe("permanent");
    expect(classifyError(new RateLimitedError("slow", { retryAfterMs: 1 }))).toBe("rate-limited");
    expect(classifyError(new CopiedPermanentDeliveryError("gone"))).toBe("permanent");
    expect(classifyError(new CopiedRateLimitedError("slow"))).toBe("rate-limited");
    expect(classifyError(new Error("reset"))).toBe("retryable");
    expect(classifyError("a string")).toBe("retryable");
  });
});
