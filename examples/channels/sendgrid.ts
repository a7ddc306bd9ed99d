/**
 * The SendGrid channel against a local stub of SendGrid's v3 Mail Send API: one request per reader, the
 * correlation ids in `custom_args`; an invalid address fails for good (400), a 500 the stub answers once is
 * retried. Drop `baseUrl` and use your API key to send for real.
 *
 * Run: npx tsx examples/channels/sendgrid.ts
 */
import { sendgridChannel } from "../../src/drivers/channels/sendgrid.js";
import { SENDGRID_API_KEY, startSendgridStub } from "../../test/drivers/channels/stubs/sendgrid.js";
import { sendNewsletter } from "./support/send-campaign.js";

const stub = await startSendgridStub();
try {
  const email = sendgridChannel({ apiKey: SENDGRID_API_KEY, baseUrl: stub.url });
  await email.verify?.();
  console.log(`SendGrid stub at ${stub.url}; capabilities ${JSON.stringify(email.capabilities)}`);

  const report = await sendNewsletter(email, [
    "ana@example.com",
    "ben@example.com",
    "not-an-address", // SendGrid answers 400 "Does not contain a valid address."
    "flaky@example.com", // the stub answers 500 once: retried
    "eli@example.com",
  ]);

  console.log(`SendGrid accepted ${stub.mails.length} mails:`);
  for (const m of stub.mails)
    console.log(`  X-Message-Id ${m.messageId} -> ${m.personalizations[0]?.to[0]?.email}`);
  console.log(`  custom_args: ${JSON.stringify(stub.mails[0]?.custom_args)}`);

  if (report.outcomes.sent !== 4 || report.outcomes.failed !== 1 || stub.mails.length !== 4)
    throw new Error(`Expected 4 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
  console.log("OK: one Mail Send per message; the invalid address failed for good, the 500 was retried.");
} finally {
  await stub.close();
}
