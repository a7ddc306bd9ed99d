/**
 * Concurrent approval decisions on one campaign in review: approve + approve (two approvers),
 * approve + requestChanges, approve + cancelApproval (the requester withdrawing). One decision may win. After
 * both settle, the request must say what happened to the campaign: no request left pending (re-opened)
 * beside a campaign that left review, and the last decision must match the campaign's status.
 */
import type { CampaignKit } from "../../src/kit/create-campaign-kit.js";
import { promotion } from "../../test/kit/fixtures.js";
import {
  ADMIN,
  AUDIENCE,
  type Figure,
  figures,
  race2,
  readyKit,
  type Scenario,
  storageKinds,
  storageOf,
  type TortureOptions,
  trialsOf,
} from "./support.js";

const REQUESTER = "maya";
const APPROVERS = ["arno", "alex"] as const;

/** The two decisions of each race, as their callers make them. */
const races: Record<
  string,
  (kit: CampaignKit, id: string) => [() => Promise<unknown>, () => Promise<unknown>]
> = {
  "approve+approve": (kit, id) => [
    () => kit.campaigns.approve({ actor: APPROVERS[0], id }),
    () => kit.campaigns.approve({ actor: APPROVERS[1], id }),
  ],
  "approve+requestChanges": (kit, id) => [
    () => kit.campaigns.approve({ actor: APPROVERS[0], id }),
    () => kit.campaigns.requestChanges({ actor: APPROVERS[1], id, comment: "Not yet" }),
  ],
  "approve+cancelApproval": (kit, id) => [
    () => kit.campaigns.approve({ actor: APPROVERS[0], id }),
    () => kit.campaigns.cancelApproval({ actor: REQUESTER, id }),
  ],
};

/** What the last decision should be for each campaign status a race can end in. */
const decisionFor: Record<string, readonly string[]> = {
  live: ["approved"],
  scheduled: ["approved"],
  draft: ["changes-requested", "cancelled"],
  "in-review": ["pending"],
};

async function governed(kit: CampaignKit): Promise<void> {
  await kit.roles.assign({ actor: ADMIN, userId: REQUESTER, roleId: "campaign-manager" });
  for (const userId of APPROVERS)
    await kit.roles.assign({ actor: ADMIN, userId, roleId: "campaign-approver" });
  await kit.approvalPolicies.define({
    actor: ADMIN,
    policy: {
      id: "review",
      name: "Marketing email needs review",
      status: "active",
      conditions: { categories: ["marketing"], channels: ["email"] },
      approvers: { users: [], roles: ["campaign-approver"] },
      blockSelfApproval: true,
    },
  });
}

async function runOn(
  kind: "memory" | "postgres",
  options: TortureOptions,
  rounds: number,
): Promise<Figure[]> {
  const { storage, dispose } = await storageOf(kind, options, "approvals");
  const list: Figure[] = [];
  try {
    const kit = await readyKit({ storage });
    await governed(kit);
    for (const [name, decisions] of Object.entries(races)) {
      const f = figures("concurrent-approvals", kind);
      let reopened = 0;
      let mismatched = 0;
      let bothOk = 0;
      for (let i = 0; i < rounds; i++) {
        const id = `${name}-${i}`;
        await kit.campaigns.create({
          actor: REQUESTER,
          campaign: { ...promotion, id, audienceId: AUDIENCE },
        });
        await kit.campaigns.requestApproval({ actor: REQUESTER, id });
        const [first, second] = decisions(kit, id);
        if ((await race2(first, second)).bothOk) bothOk++;
        const status = (await kit.campaigns.get({ actor: ADMIN, id })).status;
        const requests = await kit.campaigns.listRequests({ actor: ADMIN, id });
        if (status !== "in-review" && requests.some((r) => r.status === "pending")) reopened++;
        else if (!decisionFor[status]?.includes(requests.at(-1)?.status ?? "none")) mismatched++;
      }
      console.log(
        `  ${kind} ${name}: ${rounds} races, re-opened ${reopened}, mismatched ${mismatched}, both accepted ${bothOk}`,
      );
      f.info(`${name}: races`, rounds);
      f.equal(`${name}: request re-opened (pending, campaign out of review)`, reopened, 0);
      f.equal(`${name}: last decision disagrees with the campaign`, mismatched, 0);
      f.equal(`${name}: both decisions accepted`, bothOk, 0);
      list.push(...f.list);
    }
  } finally {
    await dispose();
  }
  return list;
}

export const concurrentApprovals: Scenario = {
  name: "concurrent-approvals",
  summary: "two approval decisions at once on one campaign in review",
  async run(options) {
    const rounds = trialsOf(options, 20, 20);
    const list: Figure[] = [];
    for (const kind of storageKinds(options)) list.push(...(await runOn(kind, options, rounds)));
    return list;
  },
};
