/**
 * The whole story on the embedded in-memory default, in under a minute: `npm run demo`.
 *
 * Roles, 50,000 synthetic profiles, channel configurations, prerequisites failing then passing, an approval,
 * a scheduled promotion sent with a live progress line, a recurring newsletter's next occurrences, a
 * password reset triggered with context, and a report table.
 */

import { toProblemDocument } from "../src/http/index.js";
import {
  type CampaignDraftInput,
  type CampaignKit,
  type CampaignStatus,
  createCampaignKit,
  type ExecutionProgressEvent,
  isCampaignKitError,
  type MemoryChannel,
  memoryAudiences,
  memoryChannel,
  type Profile,
  type UnitaryExecutionRequest,
} from "../src/index.js";
import { scheduleSchema } from "../src/model/index.js";
import { occurrencesBetween } from "../src/schedule/index.js";
import { progressWriter } from "./support/progress-writer.js";

const PROFILES = 50_000;
const ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", undefined] as const;

// Terminal escapes (bold, redraws) only on a terminal: piped into a file or a CI log they are noise.
const tty = process.stdout.isTTY === true;
const heading = (text: string) => console.log(tty ? `\n\x1b[1m${text}\x1b[0m` : `\n${text}`);
const line = (text = "") => console.log(`  ${text}`);

/** Synthetic profiles, made on demand: consent, suppression and missing phones vary as in real lists. */
function* syntheticProfiles(): Generator<Profile> {
  for (let i = 0; i < PROFILES; i++) {
    const zone = ZONES[i % ZONES.length];
    yield {
      id: `p${i}`,
      identities: { email: `user${i}@example.com` },
      addresses: i % 10 === 3 ? {} : { sms: `+3361${String(i).padStart(7, "0")}` },
      attributes: { firstName: i % 50 === 0 ? "" : `Name${i}`, tier: i % 5 === 0 ? "gold" : "silver" },
      consent: { email: i % 20 !== 7, sms: i % 4 !== 1 },
      suppressedChannels: i % 100 === 42 ? ["email"] : [],
      ...(zone ? { timeZone: zone } : {}),
    };
  }
}

async function expectRefusal(what: string, attempt: Promise<unknown>): Promise<void> {
  try {
    await attempt;
    throw new Error(`${what} should have been refused`);
  } catch (error) {
    if (!isCampaignKitError(error)) throw error;
    line(`✗ ${what}: ${error.code}`);
    const problems = (error.details.problems ?? []) as { code: string; message: string; fix: string }[];
    for (const p of problems) line(`    - ${p.code}: ${p.message}\n      fix: ${p.fix}`);
    if (problems.length === 0) line(`    ${error.message}`);
  }
}

function progressLine(event: ExecutionProgressEvent): string {
  const { sent, failed, excluded } = event.outcomes;
  const n = (value: number) => value.toLocaleString("en");
  // The total is the audience's registered size, an estimate until the last event: say so with a "~".
  const total = event.total === undefined ? "" : ` / ${event.estimated ? "~" : ""}${n(event.total)}`;
  const percentage = event.percentage === undefined ? "" : ` (${event.percentage.toFixed(1)} %)`;
  return `  sending: ${n(event.processed)}${total} recipients${percentage}, ${n(sent)} sent, ${n(excluded)} excluded, ${failed} failed, ${event.retries} retries`;
}

/**
 * Resolves when the kit says the campaign reached `status`: its `campaign-status-changed` event, emitted by
 * this process's scheduler, so nothing polls. Rejects if it ends in another final status, or after a minute.
 */
function statusReached(kit: CampaignKit, campaignId: string, status: CampaignStatus): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`campaign ${campaignId} never became ${status}`)),
      60_000,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      kit.events.off("campaign-status-changed", listener);
      if (error) reject(error);
      else resolve();
    };
    const listener = ({ campaignId: id, to }: { campaignId: string; to: CampaignStatus }) => {
      if (id !== campaignId) return;
      if (to === status) finish();
      else if (to === "failed" || to === "stopped") finish(new Error(`campaign ${campaignId} became ${to}`));
    };
    kit.events.on("campaign-status-changed", listener);
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const email = memoryChannel({ channel: "email", latencyMs: 2, failureRate: 0.002, seed: 7 });
  const sms = memoryChannel({ channel: "sms", latencyMs: 2 });
  const ana = {
    id: "ana",
    identities: { email: "ana@example.com" },
    addresses: {},
    attributes: { person: { name: { firstName: "Ana" } } },
    consent: {},
    suppressedChannels: [],
  } satisfies Profile;
  const kit = await createCampaignKit({
    channels: [email, sms],
    audiences: memoryAudiences({
      audiences: { "newsletter-subscribers": syntheticProfiles },
      profiles: [ana],
    }),
    administrators: ["ada"],
    dispatcher: { concurrency: 16, progressIntervalMs: 100 },
    // Completed on the tick after the send, not 3 days later as by default (the reference product's delay).
    lifecycle: { completeAfterDays: 0 },
  });
  // Closing stops the scheduler's timer: without it a failed step would leave the process running.
  try {
    await tellTheStory(kit, email, sms);
  } finally {
    await kit.close();
  }
  heading(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

async function tellTheStory(kit: CampaignKit, email: MemoryChannel, sms: MemoryChannel): Promise<void> {
  heading("1. Roles");
  for (const [user, role] of [
    ["maya", "campaign-manager"],
    ["arno", "campaign-approver"],
    ["vic", "campaign-viewer"],
  ] as const) {
    await kit.roles.assign({ actor: "ada", userId: user, roleId: role });
  }
  for (const user of ["ada", "arno", "maya", "vic"]) {
    const access = await kit.roles.get({ actor: "ada", userId: user });
    line(
      `${user.padEnd(5)} ${access.roles.join(", ").padEnd(24)} ${access.permissions.filter((p) => p.startsWith("campaign")).join(" ")}`,
    );
  }

  heading(
    `2. Audience and channel configurations (${PROFILES.toLocaleString("en")} synthetic profiles, streamed)`,
  );
  await kit.audiences.register({
    actor: "ada",
    audience: {
      id: "newsletter-subscribers",
      name: "Newsletter subscribers",
      identityNamespace: "email",
      estimatedSize: PROFILES,
    },
  });
  const emailSettings = {
    fromName: "Acme",
    fromAddress: "news@mail.acme.example",
    subdomain: "mail.acme.example",
  };
  await kit.configurations.register({
    actor: "ada",
    configuration: {
      id: "email-marketing",
      name: "Marketing email",
      channel: "email",
      purpose: "marketing",
      status: "active",
      settings: emailSettings,
    },
  });
  await kit.configurations.register({
    actor: "ada",
    configuration: {
      id: "sms-marketing",
      name: "Marketing SMS",
      channel: "sms",
      purpose: "marketing",
      settings: { provider: "memory", senderNumber: "+33612345678" },
    },
  });
  await kit.configurations.register({
    actor: "ada",
    configuration: {
      id: "email-transactional",
      name: "Transactional email",
      channel: "email",
      purpose: "transactional",
      status: "active",
      settings: { ...emailSettings, fromAddress: "no-reply@mail.acme.example" },
    },
  });
  line(
    "audience 'newsletter-subscribers': processing; 'sms-marketing': draft; 'email-marketing', 'email-transactional': active",
  );

  heading("3. Prerequisites: failing, then passing");
  const promotion: CampaignDraftInput & { id: string } = {
    id: "winter-sale",
    type: "scheduled",
    category: "marketing",
    name: "Winter sale",
    tags: ["promo"],
    audienceId: "newsletter-subscribers",
    identityNamespace: "email",
    schedule: { startAt: new Date(Date.now() + 1500) },
    actions: [
      {
        channel: "email",
        channelConfigurationId: "email-marketing",
        content: {
          subject: "{{fallback profile.firstName 'Hello'}}, the winter sale is on",
          html: "<p>Hi {{fallback profile.firstName 'there'}}, {{#if (eq profile.tier 'gold')}}gold members get 30% off{{else}}20% off everything{{/if}}.</p>",
          text: "Hi {{fallback profile.firstName 'there'}}, the winter sale is on.",
        },
      },
      {
        channel: "sms",
        channelConfigurationId: "sms-marketing",
        content: { body: "Acme winter sale: 20% off this week. STOP to opt out" },
      },
    ],
  } as const;
  await expectRefusal(
    "viewer 'vic' creates the promotion",
    kit.campaigns.create({ actor: "vic", campaign: promotion }),
  );
  await expectRefusal(
    "manager 'maya' creates the promotion",
    kit.campaigns.create({ actor: "maya", campaign: promotion }),
  );
  await kit.audiences.update({ actor: "ada", id: "newsletter-subscribers", changes: { status: "realized" } });
  await kit.configurations.activate({ actor: "ada", id: "sms-marketing" });
  line("ada: audience realized, 'sms-marketing' activated");
  await kit.campaigns.create({ actor: "maya", campaign: promotion });
  line("✓ manager 'maya' creates the promotion: draft");

  heading("4. Approval");
  await kit.approvalPolicies.define({
    actor: "ada",
    policy: {
      id: "marketing",
      name: "Marketing needs an approver",
      status: "active",
      conditions: { categories: ["marketing"] },
      approvers: { users: [], roles: ["campaign-approver"] },
    },
  });
  await expectRefusal(
    "manager 'maya' activates directly",
    kit.campaigns.activate({ actor: "maya", id: "winter-sale" }),
  );
  line(
    `maya requests approval: ${(await kit.campaigns.requestApproval({ actor: "maya", id: "winter-sale" })).status}`,
  );
  line(
    `arno approves: ${(await kit.campaigns.approve({ actor: "arno", id: "winter-sale" })).status} (starts in 1.5 s)`,
  );

  heading("5. The scheduled promotion goes out (both actions at once)");
  const progress = progressWriter({ tty, write: (text) => process.stdout.write(text), format: progressLine });
  kit.events.on("execution-progress", (event) => {
    if (event.campaignId === "winter-sale") progress.update(event);
  });
  const completed = statusReached(kit, "winter-sale", "completed");
  kit.scheduler.start({ intervalMs: 250 });
  await completed;
  progress.done();
  line(
    `completed: ${email.sent.length.toLocaleString("en")} emails and ${sms.sent.length.toLocaleString("en")} SMS delivered`,
  );
  const sample = email.sent.find((m) => m.recipientId === "p5");
  if (sample?.content.channel === "email")
    line(`p5 got: "${sample.content.subject}" / ${sample.content.html}`);

  heading(
    "6. A recurring newsletter's next occurrences (weekly, Monday 09:00 Europe/Paris, across the DST change)",
  );
  const weekly = scheduleSchema.parse({
    timeZone: "Europe/Paris",
    startAt: "2027-03-08T00:00:00Z",
    recurrence: { frequency: "weekly", daysOfWeek: ["monday"], at: { hour: 9, minute: 0 } },
    maxOccurrences: 52,
  });
  for (const o of occurrencesBetween(weekly, {
    from: new Date("2027-03-08T00:00:00Z"),
    to: new Date("2027-04-06T00:00:00Z"),
  })) {
    const local = `${o.local.year}-${String(o.local.month).padStart(2, "0")}-${String(o.local.day).padStart(2, "0")} ${String(o.local.hour).padStart(2, "0")}:${String(o.local.minute).padStart(2, "0")}`;
    line(`#${o.index + 1}  ${local} Paris = ${o.at.toISOString()}`);
  }

  heading("7. A password reset, triggered with context (its own lane: never behind marketing)");
  await kit.campaigns.create({
    actor: "ada",
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
            text: "Use {{context.resetLink}} within an hour.",
          },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: "ada", id: "password-reset" });
  const request: UnitaryExecutionRequest = {
    requestId: "reset-7f3a",
    campaignId: "password-reset",
    recipients: [
      {
        type: "aep",
        namespace: "email",
        userId: "ana@example.com",
        context: { resetLink: "https://acme.example/reset?t=7f3a" },
      },
    ],
  } as const;
  const accepted = await kit.executions.triggerUnitary({ actor: "ada", request });
  await kit.executions.wait({ id: accepted.executionId });
  const reset = email.sent.find((m) => m.campaignId === "password-reset");
  line(
    `202 ${JSON.stringify({ executionId: accepted.executionId.slice(0, 8), requestId: accepted.requestId })}`,
  );
  if (reset?.content.channel === "email")
    line(`to ${reset.to}: "${reset.content.subject}" / "${reset.content.text}"`);
  const again = await kit.executions.triggerUnitary({ actor: "ada", request });
  line(
    `same requestId again: same execution (${again.executionId === accepted.executionId}), nothing more sent`,
  );
  try {
    await kit.executions.triggerUnitary({
      actor: "ada",
      request: { ...request, requestId: "bad", recipients: [] },
    });
  } catch (error) {
    const problem = toProblemDocument(error);
    line(
      `a call with no recipients: ${problem.status} ${JSON.stringify(problem.report.additionalContext.issues)}`,
    );
  }

  heading("8. Report");
  const rows = [];
  for (const id of ["winter-sale", "password-reset"]) {
    const r = await kit.reports.campaign({ actor: "vic", id });
    rows.push({
      campaign: id,
      targeted: r.targeted,
      sent: r.outcomes.sent,
      failed: r.outcomes.failed,
      excluded: r.outcomes.excluded,
      retries: r.retries,
      ...Object.fromEntries(Object.entries(r.excludedByReason).filter(([, n]) => n > 0)),
    });
  }
  console.table(rows);
  const audit = await kit.audit({ actor: "vic", filter: { objectId: "winter-sale" } });
  line("audit of 'winter-sale':");
  for (const e of audit.items)
    line(
      `  ${e.actorId.padEnd(18)} ${e.action.padEnd(26)} ${e.outcome.padEnd(8)} ${e.fromStatus ?? ""}${e.toStatus ? ` -> ${e.toStatus}` : ""}`,
    );

  const expected = rows[0]?.sent ?? 0;
  if (expected < 60_000 || email.sent.length + sms.sent.length !== expected + 1) {
    throw new Error(`unexpected delivery counts: ${JSON.stringify(rows)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
