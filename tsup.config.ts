import { readFileSync, rmSync } from "node:fs";
import { defineConfig, type Options } from "tsup";

// One entry per subpath export: optional dependencies (pg, pg-boss, bullmq, nodemailer, the AWS SDK,
// @opentelemetry/api, vitest, jiti) stay behind their own subpath.
const entries = {
  index: "src/index.ts",
  model: "src/model/index.ts",
  schedule: "src/schedule/index.ts",
  http: "src/http/index.ts",
  postgres: "src/drivers/postgres/index.ts",
  "pg-boss": "src/drivers/pg-boss.ts",
  bullmq: "src/drivers/bullmq.ts",
  smtp: "src/drivers/smtp.ts",
  otel: "src/drivers/otel.ts",
  "channels/twilio": "src/drivers/channels/twilio.ts",
  "channels/fcm": "src/drivers/channels/fcm.ts",
  "channels/resend": "src/drivers/channels/resend.ts",
  "channels/postmark": "src/drivers/channels/postmark.ts",
  "channels/sendgrid": "src/drivers/channels/sendgrid.ts",
  "channels/ses": "src/drivers/channels/ses.ts",
  cli: "src/cli/index.ts",
};

const shared: Options = {
  dts: true,
  sourcemap: true,
  target: "node20",
  treeshake: true,
  external: [
    "pg",
    "pg-boss",
    "bullmq",
    "ioredis",
    "nodemailer",
    "vitest",
    "@aws-sdk/client-sesv2",
    "@opentelemetry/api",
    "jiti",
  ],
};

// p-limit (and its yocto-queue) ship as ESM only, which `require` can't load on Nodes without require(esm)
// nor in most bundlers and test runners: the CommonJS build carries its own copy, with their MIT notice.
const bundledInCjs = ["p-limit", "yocto-queue"];
const licenses = new Map<string, string[]>();
for (const name of bundledInCjs) {
  const license = readFileSync(`node_modules/${name}/license`, "utf8").trim();
  licenses.set(license, [...(licenses.get(license) ?? []), name]);
}
const bundledNotice = [...licenses]
  .map(([license, names]) => `${names.join(" and ")}, bundled where imported:\n${license}`)
  .join("\n\n");

export default defineConfig(() => {
  // The two builds run at once, and tsup's `clean` in either would delete the other's output.
  rmSync("dist", { recursive: true, force: true });
  return [
    // campaign-kit/testing is ESM only: it registers vitest tests, and vitest can't be required. So is the
    // `campaign-kit` executable (package.json `bin`, kept executable by tsup for its shebang): it awaits at
    // its top level, and nothing imports it.
    {
      ...shared,
      entry: { ...entries, testing: "src/testing/index.ts", "bin/campaign-kit": "src/cli/bin.ts" },
      format: "esm",
    },
    {
      ...shared,
      entry: entries,
      format: "cjs",
      noExternal: bundledInCjs,
      banner: { js: `/*!\n${bundledNotice}\n*/` },
    },
  ];
});
