/**
 * The Amazon SES v2 channel against a local stub of the SES API, through a real `SESv2Client` pointed at it
 * with `endpoint` and dummy credentials: SendEmail per reader with `EmailTags` for event publishing; an
 * invalid address fails for good (BadRequestException), an InternalServiceErrorException the stub answers
 * once is retried. Drop `endpoint` and use real credentials to send for real.
 *
 * Run: npx tsx examples/channels/ses.ts
 */
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { decodeTagValue, sesChannel } from "../../src/drivers/channels/ses.js";
import { SES_CREDENTIALS, startSesStub } from "../../test/drivers/channels/stubs/ses.js";
import { sendNewsletter } from "./support/send-campaign.js";

const stub = await startSesStub();
// maxAttempts: 1 leaves retries to the dispatcher, which knows the campaign's rate and window.
const client = new SESv2Client({
  region: "us-east-1",
  endpoint: stub.url,
  credentials: SES_CREDENTIALS,
  maxAttempts: 1,
});
try {
  const email = sesChannel({ client, configurationSetName: "campaigns" });
  await email.verify?.();
  console.log(`SES stub at ${stub.url}; capabilities ${JSON.stringify(email.capabilities)}`);

  const report = await sendNewsletter(email, [
    "ana@example.com",
    "ben@example.com",
    "not-an-address", // SES answers 400 BadRequestException
    "flaky@example.com", // the stub answers 500 InternalServiceErrorException once: retried
    "eli@example.com",
  ]);

  console.log(`SES accepted ${stub.emails.length} emails:`);
  for (const e of stub.emails) console.log(`  ${e.MessageId} -> ${e.Destination.ToAddresses[0]}`);
  const tags = stub.emails[0]?.EmailTags?.map((t) => `${t.Name}=${decodeTagValue(t.Value)}`).join(", ");
  console.log(`  EmailTags: ${tags}; ConfigurationSetName: ${stub.emails[0]?.ConfigurationSetName}`);

  if (report.outcomes.sent !== 4 || report.outcomes.failed !== 1 || stub.emails.length !== 4)
    throw new Error(`Expected 4 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
  console.log(
    "OK: SendEmail per message through the SDK; the invalid address failed for good, the 500 was retried.",
  );
} finally {
  client.destroy();
  await stub.close();
}
