/**
 * The Resend channel against a local stub of Resend's API: a newsletter to five readers goes out in one
 * `POST /emails/batch` call; one address Resend refuses fails for good, one request the stub fails once
 * with a 500 is retried. Swap the stub's URL and key for the real ones (drop `baseUrl`) to send for real.
 *
 * Run: npx tsx examples/channels/resend.ts
 */
import { decodeTagValue, resendChannel } from "../../src/drivers/channels/resend.js";
import { RESEND_API_KEY, startResendStub } from "../../test/drivers/channels/stubs/resend.js";
import { sendNewsletter } from "./support/send-campaign.js";

const stub = await startResendStub();
try {
  const email = resendChannel({ apiKey: RESEND_API_KEY, baseUrl: stub.url });
  await email.verify?.();
  console.log(`Resend stub at ${stub.url}; capabilities ${JSON.stringify(email.capabilities)}`);

  const report = await sendNewsletter(email, [
    "ana@example.com",
    "ben@example.com",
    "not-an-address", // Resend answers 422 validation_error for this one email of the batch
    "flaky@example.com", // the stub fails its batch once with a 500: the whole batch is retried
    "eli@example.com",
  ]);

  const batches = stub.requests.filter((r) => r.path === "/emails/batch");
  console.log(`Resend received ${batches.length} batch requests and accepted ${stub.emails.length} emails:`);
  for (const e of stub.emails) console.log(`  ${e.id} -> ${e.to[0]}: ${e.subject}`);
  const first = stub.emails[0]!;
  console.log(`  from: ${first.from}; List-Unsubscribe: ${first.headers["List-Unsubscribe"]}`);
  const tags = first.tags.map((t) => `${t.name}=${decodeTagValue(t.value)}`).join(", ");
  console.log(`  tags: ${tags}`);

  const delivered = new Set(stub.emails.map((e) => e.to[0]));
  if (report.outcomes.sent !== 4 || report.outcomes.failed !== 1 || delivered.size !== 4)
    throw new Error(`Expected 4 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
  console.log("OK: one batch call per attempt; the refused address failed alone, the 500 was retried.");
} finally {
  await stub.close();
}
