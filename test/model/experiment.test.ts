/** The experiment part of the campaign schema: what it accepts, and how it says what is wrong. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import { actionVariants, campaignDraftSchema } from "../../src/model/campaign.js";
import { parseWith } from "../../src/model/parse.js";

const content = (n: number) => ({ subject: `S${n}`, text: `T${n}` });
const draftWith = (action: object) => ({
  type: "scheduled",
  name: "Spring",
  category: "marketing",
  audienceId: "vip",
  actions: [{ channel: "email", channelConfigurationId: "news", ...action }],
});
const issuesOf = (input: unknown) => {
  try {
    parseWith(campaignDraftSchema, input, "campaign");
    return [];
  } catch (error) {
    if (!isCampaignKitError(error, "VALIDATION_FAILED")) throw error;
    return error.details.issues;
  }
};
const experiment = (changes: object = {}) => ({
  metric: "opened",
  treatments: [
    { id: "a", percentage: 50, content: content(1) },
    { id: "b", percentage: 50, content: content(2) },
  ],
  ...changes,
});

describe("the experiment schema", () => {
  it("accepts any split of 2 to 5 treatments and a holdout that sums to 100, and round-trips it", () => {
    const splitArb = fc
      .integer({ min: 2, max: 5 })
      .chain((count) =>
        fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: count + 1, maxLength: count + 1 }),
      )
      .map((weights) => {
        // Hundredths of a percent: the treatments take a positive share each, the holdout what remains.
        const total = weights.reduce((sum, w) => sum + w, 0);
        const points = weights.map((w) => Math.max(1, Math.floor((w / total) * 10_000)));
        const treatments = points.slice(1);
        const holdout = 10_000 - treatments.reduce((sum, p) => sum + p, 0);
        return { treatments: treatments.map((p) => p / 100), holdout: holdout / 100 };
      });
    fc.assert(
      fc.property(
        splitArb,
        fc.constantFrom("opened", "clicked", "custom:purchase", "custom:sign-up.v2"),
        (split, metric) => {
          const input = draftWith({
            experiment: {
              metric,
              holdoutPercentage: split.holdout,
              treatments: split.treatments.map((percentage, i) => ({
                id: `t${i}`,
                percentage,
                content: content(i),
              })),
            },
          });
          const parsed = parseWith(campaignDraftSchema, input, "campaign");
          expect(parseWith(campaignDraftSchema, parsed, "campaign")).toEqual(parsed);
          const variants = actionVariants(parsed.actions[0]!);
          expect(variants.map((v) => v.treatmentId)).toEqual(split.treatments.map((_, i) => `t${i}`));
          expect(variants[1]?.contentPath).toBe("experiment.treatments.1.content");
        },
      ),
    );
  });

  it.each<[string, object, { path: string; message: string }[]]>([
    [
      "percentages that don't sum to 100",
      { experiment: experiment({ holdoutPercentage: 5 }) },
      [
        {
          path: "actions.0.experiment.treatments",
          message:
            "The treatments' percentages (50 + 50) and the holdout (5) sum to 105, not 100; adjust them",
        },
      ],
    ],
    [
      "one treatment",
      { experiment: experiment({ treatments: [{ id: "a", percentage: 100, content: content(1) }] }) },
      [
        {
          path: "actions.0.experiment.treatments",
          message: "An experiment compares 2 to 5 treatments; this one has 1",
        },
      ],
    ],
    [
      "a duplicate id",
      {
        experiment: experiment({
          treatments: [
            { id: "a", percentage: 50, content: content(1) },
            { id: "a", percentage: 50, content: content(2) },
          ],
        }),
      },
      [
        {
          path: "actions.0.experiment.treatments.1.id",
          message: "Treatment id 'a' is used twice; give each treatment its own id",
        },
      ],
    ],
    [
      "the reserved id, a three-decimal percentage, a zero percentage",
      {
        experiment: experiment({
          treatments: [
            { id: "holdout", percentage: 50, content: content(1) },
            { id: "b", percentage: 49.995, content: content(2) },
            { id: "c", percentage: 0, content: content(3) },
          ],
        }),
      },
      [
        {
          path: "actions.0.experiment.treatments.0.id",
          message: "'holdout' is reserved for the holdout; name the treatment otherwise",
        },
        {
          path: "actions.0.experiment.treatments.1.percentage",
          message: "A treatment's percentage has at most two decimals, such as 33.33",
        },
        {
          path: "actions.0.experiment.treatments.2.percentage",
          message: "A treatment's percentage must be more than 0; remove a treatment nobody should get",
        },
      ],
    ],
    [
      "an unknown metric",
      { experiment: experiment({ metric: "purchased" }) },
      [
        {
          path: "actions.0.experiment.metric",
          message:
            "Expected a success metric: 'opened', 'clicked', or a custom feedback event such as 'custom:purchase'",
        },
      ],
    ],
    [
      "a treatment's content missing what the channel needs",
      {
        experiment: experiment({
          treatments: [
            { id: "a", percentage: 50, content: content(1) },
            { id: "b", percentage: 50, content: { text: "no subject" } },
          ],
        }),
      },
      [
        {
          path: "actions.0.experiment.treatments.1.content.subject",
          message: "Invalid input: expected string, received undefined",
        },
      ],
    ],
    [
      "content and an experiment",
      { content: content(0), experiment: experiment() },
      [
        {
          path: "actions.0.content",
          message: "An action with an `experiment` takes its content from the treatments; remove `content`",
        },
      ],
    ],
    [
      "neither content nor an experiment",
      {},
      [
        {
          path: "actions.0.content",
          message: "An action needs `content`, or an `experiment` whose treatments carry it",
        },
      ],
    ],
  ])("refuses %s, saying where and what to do", (_, action, issues) => {
    expect(issuesOf(draftWith(action))).toEqual(issues);
  });

  it("refuses a second experiment in one campaign", () => {
    const input = {
      ...draftWith({ experiment: experiment() }),
      actions: [
        { channel: "email", channelConfigurationId: "news", experiment: experiment() },
        {
          channel: "sms",
          channelConfigurationId: "sms",
          experiment: experiment({
            treatments: [
              { id: "x", percentage: 50, content: { body: "x" } },
              { id: "y", percentage: 50, content: { body: "y" } },
            ],
          }),
        },
      ],
    };
    expect(issuesOf(input)).toEqual([
      {
        path: "actions.1.experiment",
        message: "A campaign runs at most one content experiment; remove this one or split the campaign",
      },
    ]);
  });
});
