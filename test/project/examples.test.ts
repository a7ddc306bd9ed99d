import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

// Each example checks its own outcome and exits non-zero when it fails; here we also pin a line of output
// that only appears when the feature it demonstrates worked.
const examples: [name: string, keyLines: (string | RegExp)[]][] = [
  ["scheduled-promotion", [/no-consent\s+300/, /sent\s+5520 \(email 2700, SMS 2820\)/]],
  ["recurring-newsletter", ["Mon 26 Oct, 09:00 America/New_York", "Campaign weekly is completed"]],
  [
    "password-reset",
    ["Subject: Reset your password, Anabel", "created: false, emails sent in all: 1", "HTTP 400"],
  ],
  ["audience-trigger", ['"status":"Scheduled"', "Tick at 10:00Z: launched 1 execution, 36 emails so far"]],
  ["content-experiment", [/urgent\s+Urgent subject\s+exposed/, "Winner at 95 % confidence: urgent."]],
  ["custom-channel-adapter", ["failed for good: c3 (PermanentDeliveryError", "5 sent, 1 failed"]],
  [
    "feedback-report",
    [
      "delivered     190 (95.0 %)",
      "bounces       10 (hard 6, soft 4; 5.0 %)",
      "clicks        30 unique, 50 in all",
      "Next send: 193 sent, 7 suppressed.",
    ],
  ],
  [
    "channels/twilio",
    [
      "failed for good: c2 (PermanentDeliveryError: Twilio answered 400: 21610",
      /sid SM[0-9a-f]{32}/,
      "3 sent, 1 failed",
    ],
  ],
  [
    "channels/fcm",
    [
      "failed for good: c1 (PermanentDeliveryError: FCM answered 404: UNREGISTERED",
      "rate-limited by FCM",
      "3 sent, 1 failed",
    ],
  ],
  // Provider channels against their local stubs.
  ["channels/resend", ["Report: 5 targeted, 4 sent, 1 failed", "Resend received 2 batch requests"]],
  ["channels/postmark", ["ErrorCode 406", "Postmark received 2 batch calls and accepted 4 messages"]],
  ["channels/sendgrid", ["SendGrid accepted 4 mails", "Does not contain a valid address."]],
  ["channels/ses", ["SES accepted 4 emails", "ConfigurationSetName: campaigns"]],
  // The README's quick start: `npm run demo`.
  [
    "demo",
    [
      "completed: 47,000 emails and 35,000 SMS delivered",
      "same requestId again: same execution (true)",
      "Done in",
    ],
  ],
];

describe.concurrent("examples", () => {
  for (const [name, keyLines] of examples) {
    it(`${name} runs and shows what it demonstrates`, { timeout: 60_000 }, async () => {
      // execFile rejects on a non-zero exit code, with the output attached to the error.
      const { stdout } = await run(process.execPath, ["--import", "tsx", `examples/${name}.ts`], {
        cwd: root,
        timeout: 60_000,
      });
      if (name !== "demo") expect(stdout).toContain("OK:");
      else {
        // Piped, as into a CI log, the demo's progress comes as plain lines: no redraws, no terminal escapes.
        expect(stdout).toMatch(/^ {2}sending: .* sent/m);
        expect(stdout).not.toContain("\x1b");
      }
      for (const line of keyLines) {
        if (typeof line === "string") expect(stdout).toContain(line);
        else expect(stdout).toMatch(line);
      }
    });
  }
});
