/**
 * The Postmark channel against a local stub of Postmark's API: a newsletter to five readers goes out through
 * `POST /email/batch` on the broadcast stream; Postmark refuses an inactive (hard-bounced) recipient inside
 * the batch, which fails for good, and a 500 the stub answers once is retried. Drop `baseUrl` and use your
 * server token to send for real.
 *
 * Run: npx tsx examples/channels/postmark.ts
 */
import { postmarkChannel } from "../../src/drivers/channels/postmark.js";
import { POSTMARK_TOKEN, startPostmarkStub } from "../../test/drivers/channels/stubs/postmark.js";
import { sendNewsletter } from "./support/send-campaign.js";

const stub = await startPostmarkStub();
try {
  const email = postmarkChannel({ serverToken: POSTMARK_TOKEN, baseUrl: stub.url });
  await email.verify?.();
  console.log(`Postmark stub at ${stub.url}; capabilities ${JSON.stringify(email.capabilities)}`);

  const report = await sendNewsletter(email, [
    "ana@example.com",
    "inactive@example.com", // Postmark answers ErrorCode 406 (inactive recipient) for this message
    "chloe@example.com",
    "flaky@example.com", // the stub answers the first batch with a 500: the batch is retried
    "eli@example.com",
  ]);

  const batches = stub.requests.filter((r) => r.path === "/email/batch");
  console.log(
    `Postmark received ${batches.length} batch calls and accepted ${stub.messages.length} messages:`,
  );
  for (const m of stub.messages)
    console.log(`  ${m.MessageID} -> ${m.To} on ${m.MessageStream}: ${m.Subject}`);
  const first = stub.messages[0]!;
  console.log(`  Tag: ${first.Tag}; Metadata: ${JSON.stringify(first.Metadata)}`);

  if (report.outcomes.sent !== 4 || report.outcomes.failed !== 1 || stub.messages.length !== 4)
    throw new Error(`Expected 4 sent and 1 failed, got ${JSON.stringify(report.outcomes)}`);
  console.log("OK: per-message results from one batch call; the inactive recipient failed alone.");
} finally {
  await stub.close();
}
