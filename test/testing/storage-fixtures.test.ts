import { describe, expect, it } from "vitest";
import { z } from "zod";
import { approvalPolicySchema, approvalRequestSchema } from "../../src/model/approval.js";
import { audienceSchema } from "../../src/model/audience.js";
import { auditEntrySchema } from "../../src/model/audit.js";
import { campaignSchema } from "../../src/model/campaign.js";
import { channelConfigurationSchema } from "../../src/model/channel-configuration.js";
import { executionSchema } from "../../src/model/execution.js";
import { roleSchema } from "../../src/model/roles.js";
import {
  approvalRequest,
  at,
  audience,
  auditEntry,
  configuration,
  execution,
  fullApiCampaign,
  fullCampaign,
  missingFields,
  policy,
  role,
} from "../../src/testing/storage-fixtures.js";

/*
 * The storage suite proves fields survive a round trip only for the fields its full fixtures set. These tests
 * keep those fixtures complete: a field added to a domain schema fails here until the fixture sets it, and the
 * suite then fails on any adapter that drops it (as PostgreSQL once dropped `Execution.recipients`).
 */

const channels = channelConfigurationSchema.options.map((option) => option.shape.channel.value);

const fullFixtures: [string, z.core.$ZodType, unknown][] = [
  ["campaign (scheduled)", campaignSchema, fullCampaign("c1")],
  ["campaign (api-triggered)", campaignSchema, fullApiCampaign("c1")],
  ["audience", audienceSchema, audience("a1")],
  ...channels.map((channel): [string, z.core.$ZodType, unknown] => [
    `channel configuration (${channel})`,
    channelConfigurationSchema,
    configuration(`${channel}-1`, channel),
  ]),
  ["role", roleSchema, role("r1")],
  ["approval policy", approvalPolicySchema, policy("p1")],
  ["approval request", approvalRequestSchema, approvalRequest("q1", "c1", at(1))],
  ["execution", executionSchema, execution("x1", "c1", "req-1")],
  ["audit entry", auditEntrySchema, auditEntry("e1")],
];

describe("storage suite fixtures", () => {
  it.each(fullFixtures)("the full %s sets every field of its schema", (_, schema, fixture) => {
    expect(missingFields(schema, fixture)).toEqual([]);
  });

  it.each(fullFixtures)("the full %s is valid, unchanged by parsing", (_, schema, fixture) => {
    expect(z.parse(schema, fixture)).toStrictEqual(fixture);
  });

  it("covers every variant of the unions: both campaign types, every channel", () => {
    expect(campaignSchema.options.map((option) => option.shape.type.value).sort()).toEqual(
      [fullCampaign("c").type, fullApiCampaign("c").type].sort(),
    );
    expect(channels).toHaveLength(4);
  });

  it("the full execution sets every key of executionSchema.shape", () => {
    const full = execution("x1", "c1", "req-1");
    for (const key of Object.keys(executionSchema.shape)) expect(full, key).toHaveProperty(key);
  });

  it("the minimal fixtures leave every optional field out", () => {
    const optional = (shape: Record<string, z.ZodType>) =>
      Object.keys(shape).filter((key) => shape[key]?.safeParse(undefined).success);
    const minimal = execution("x1", "c1", "req-1", true);
    // targetedProfileCount and streamed have defaults: optional on input, always set on a stored execution.
    for (const key of optional(executionSchema.shape).filter(
      (key) => !["targetedProfileCount", "streamed"].includes(key),
    ))
      expect(minimal, key).not.toHaveProperty(key);
  });

  it("finds what a fixture leaves out, nested and in union members", () => {
    const { recipients: _, ...withoutRecipients } = execution("x1", "c1", "req-1");
    expect(missingFields(executionSchema, withoutRecipients)).toEqual(["$.recipients"]);
    const email = configuration("e1", "email");
    const { replyTo: __, ...settings } = email.settings as Record<string, unknown>;
    expect(missingFields(channelConfigurationSchema, { ...email, settings })).toEqual(["$.settings.replyTo"]);
    const campaign = fullCampaign("c1");
    const { intervalMinutes: ___, ...waves } = campaign.deliveryControls.waves as Record<string, unknown>;
    expect(
      missingFields(campaignSchema, {
        ...campaign,
        deliveryControls: { ...campaign.deliveryControls, waves },
      }),
    ).toEqual(["$.deliveryControls.waves.intervalMinutes"]);
  });
});
