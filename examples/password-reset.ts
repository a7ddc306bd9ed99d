/**
 * An API-triggered transactional campaign: a password reset, sent when the app calls the unitary execution
 * API with the reference payload. Shows the rendered email, that retrying the same `requestId` sends nothing
 * more, and what the execution API's HTTP handler (`campaign-kit/http`) answers an invalid call: a problem
 * document.
 *
 * Run: npx tsx examples/password-reset.ts
 */

import { executionApi, type ProblemDocument } from "../src/http/index.js";
import {
  createCampaignKit,
  memoryAudiences,
  memoryChannel,
  type Profile,
  type UnitaryExecutionRequest,
} from "../src/index.js";

const ADMIN = "root";
const APP = "auth-service"; // the backend calling the API: a user like any other, with the approver role

// Ana opted out of marketing email: a transactional message needs no consent, so she still gets it.
const ana: Profile = {
  id: "ana",
  identities: { email: "ana@example.com" },
  addresses: {},
  attributes: { person: { name: { firstName: "Ana" } } },
  consent: { email: false },
  suppressedChannels: [],
};

const email = memoryChannel({ channel: "email" });
const kit = await createCampaignKit({
  channels: [email],
  audiences: memoryAudiences({ profiles: [ana] }),
  administrators: [ADMIN],
});
// Triggering needs `campaign.publish`, which the approver role grants (a manager's role doesn't).
await kit.roles.assign({ actor: ADMIN, userId: APP, roleId: "campaign-approver" });
await kit.configurations.register({
  actor: ADMIN,
  configuration: {
    id: "email-transactional",
    name: "Account email",
    channel: "email",
    purpose: "transactional",
    status: "active",
    settings: {
      fromName: "Acme Accounts",
      fromAddress: "no-reply@mail.acme.example",
      subdomain: "mail.acme.example",
    },
  },
});
await kit.campaigns.create({
  actor: ADMIN,
  campaign: {
    id: "password-reset",
    type: "api-triggered",
    category: "transactional",
    name: "Password reset",
    identityNamespace: "email",
    actions: [
      {
        channel: "email",
        channelConfigurationId: "email-transactional",
        content: {
          subject: "Reset your password, {{profile.person.name.firstName}}",
          text: "Hello {{profile.person.name.firstName}},\n\nFollow {{context.resetLink}} within the hour to choose a new password.",
        },
      },
    ],
  },
});
console.log(
  `Campaign password-reset is ${(await kit.campaigns.activate({ actor: ADMIN, id: "password-reset" })).status}.`,
);

// The body of `POST /im/executions/unitary`, as the reference API documents it. `profile` attributes from the
// call take precedence over the stored profile for this message only.
const request: UnitaryExecutionRequest = JSON.parse(`{
  "requestId": "reset-7f3a9c",
  "campaignId": "password-reset",
  "recipients": [
    {
      "type": "aep",
      "namespace": "email",
      "userId": "ana@example.com",
      "context": { "resetLink": "https://acme.example/reset?token=7f3a9c" },
      "profile": { "person": { "name": { "firstName": "Anabel" } } }
    }
  ]
}`);

const accepted = await kit.executions.triggerUnitary({ actor: APP, request });
console.log("\n202 Accepted:", JSON.stringify(accepted));
await kit.executions.wait({ id: accepted.executionId });

const message = email.sent[0];
if (message?.content.channel !== "email") throw new Error("The reset email was not sent");
const settings = message.configuration.channel === "email" ? message.configuration.settings : undefined;
console.log("\n--- rendered email ---");
console.log(`From:    ${settings?.fromName} <${settings?.fromAddress}>`);
console.log(`To:      ${message.to}`);
console.log(`Subject: ${message.content.subject}`);
console.log(`\n${message.content.text}`);
console.log("----------------------");

// The app retries (a timeout, a double click): same requestId, same execution, nothing sent again.
const again = await kit.executions.triggerUnitary({ actor: APP, request });
await kit.idle();
console.log(
  `\nSame requestId again: executionId ${again.executionId === accepted.executionId ? "unchanged" : "CHANGED"}, created: ${again.created}, emails sent in all: ${email.sent.length}`,
);

// An invalid call over HTTP: two errors at once, each named by its path in the payload. The handler takes a
// web `Request`, as Next.js, Hono, Bun or Deno hand it over (node:http and Express go through `toNodeHandler`).
const api = executionApi(kit, { authenticate: () => APP });
const response = await api.handler(
  new Request("http://localhost/im/executions/unitary", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{
      "requestId": "reset-8b1d2e",
      "campaignId": "password-reset",
      "recipients": [{ "type": "crm", "namespace": "email", "userId": "ana@example.com", "context": { "system": {} } }]
    }`,
  }),
);
const problem = (await response.json()) as ProblemDocument;
console.log(`\nInvalid call -> HTTP ${response.status} ${response.headers.get("content-type")}:`);
console.log(JSON.stringify(problem, null, 2));

const report = await kit.reports.campaign({ actor: ADMIN, id: "password-reset" });
console.log(
  `\nReport: ${report.executions} execution, ${report.outcomes.sent} sent, ${report.outcomes.excluded} excluded.`,
);

if (email.sent.length !== 1 || again.created || report.outcomes.sent !== 1) {
  throw new Error(`Expected exactly one reset email, got ${email.sent.length}`);
}
if (
  message.content.subject !== "Reset your password, Anabel" ||
  !message.content.text?.includes("token=7f3a9c")
) {
  throw new Error(`Unexpected rendering: ${JSON.stringify(message.content)}`);
}
if (response.status !== 400 || problem.report.additionalContext.code !== "VALIDATION_FAILED") {
  throw new Error("Expected the invalid call to answer 400 VALIDATION_FAILED");
}
console.log(
  "OK: one email per requestId, rendered with the call's context and profile; bad calls get a 400.",
);
await kit.close();
