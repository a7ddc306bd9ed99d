import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { messageId } from "../../src/model/message-id.js";

describe("message id", () => {
  it("is deterministic and never collides for different tuples", () => {
    expect(
      messageId({ campaignId: "spring", executionId: "run-1", recipientId: "p-42", channel: "email" }),
    ).toBe("m:6:spring:5:run-1:email:p-42");
    const tuple = fc.record({
      campaignId: fc.string({ minLength: 1 }),
      executionId: fc.string({ minLength: 1 }),
      recipientId: fc.string({ minLength: 1 }),
      channel: fc.constantFrom("email" as const, "sms" as const),
    });
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        const same =
          a.campaignId === b.campaignId &&
          a.executionId === b.executionId &&
          a.recipientId === b.recipientId &&
          a.channel === b.channel;
        expect(messageId(a) === messageId(b)).toBe(same);
      }),
      { numRuns: 2000 },
    );
  });
});
