import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCampaignKitError } from "../../src/errors.js";
import {
  allowedLifecycleActions,
  applyLifecycleAction,
  CAMPAIGN_STATUSES,
  type CampaignStatus,
  canApplyLifecycleAction,
  LIFECYCLE_ACTIONS,
  type LifecycleAction,
} from "../../src/model/status-machine.js";

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("applyLifecycleAction: examples", () => {
  it.each([
    ["draft", "activate", {}, "live"],
    ["draft", "activate", { startsLater: true }, "scheduled"],
    ["draft", "activate", { startsLater: false }, "live"],
    ["draft", "request-approval", {}, "in-review"],
    ["draft", "request-approval", { startsLater: true }, "in-review"],
    ["draft", "delete", {}, null],
    ["in-review", "approve", {}, "live"],
    ["in-review", "approve", { startsLater: true }, "scheduled"],
    ["in-review", "request-changes", {}, "draft"],
    ["in-review", "cancel-approval", {}, "draft"],
    ["in-review", "archive", {}, "archived"],
    ["scheduled", "start", {}, "live"],
    ["scheduled", "start", { startsLater: true }, "live"],
    ["scheduled", "stop", {}, "stopped"],
    ["scheduled", "complete", {}, "completed"],
    ["scheduled", "fail", {}, "failed"],
    ["live", "stop", {}, "stopped"],
    ["live", "complete", {}, "completed"],
    ["live", "fail", {}, "failed"],
    ["live", "archive", {}, "archived"],
    ["stopped", "archive", {}, "archived"],
    ["completed", "archive", {}, "archived"],
    ["failed", "archive", {}, "archived"],
    ["archived", "purge", {}, null],
  ] as const)("%s --%s %o--> %s", (status, action, context, next) => {
    expect(applyLifecycleAction(status, action, context)).toBe(next);
  });

  it("refuses to activate a stopped campaign, naming status, action, allowed actions and the way out", () => {
    const error = thrown(() => applyLifecycleAction("stopped", "activate"));
    expect(isCampaignKitError(error, "INVALID_TRANSITION")).toBe(true);
    if (!isCampaignKitError(error)) return;
    expect(error.message).toBe(
      "Can't activate a campaign that is stopped. Allowed from stopped: archive. " +
        "A stopped campaign can't be activated again; duplicate it instead.",
    );
    expect(error.details).toEqual({ status: "stopped", action: "activate", allowed: ["archive"] });
  });

  it("allows an archived campaign nothing but the scheduler's purge", () => {
    const error = thrown(() => applyLifecycleAction("archived", "delete"));
    expect(isCampaignKitError(error, "INVALID_TRANSITION")).toBe(true);
    if (!isCampaignKitError(error)) return;
    expect(error.message).toBe("Can't delete a campaign that is archived. Allowed from archived: purge.");
    expect(error.details).toEqual({ status: "archived", action: "delete", allowed: ["purge"] });
  });

  it("purges nothing but an archived campaign", () => {
    for (const status of CAMPAIGN_STATUSES) {
      expect(canApplyLifecycleAction(status, "purge")).toBe(status === "archived");
    }
  });

  it("refuses to archive a draft and to delete anything but a draft", () => {
    const error = thrown(() => applyLifecycleAction("draft", "archive"));
    expect(isCampaignKitError(error) && error.details).toEqual({
      status: "draft",
      action: "archive",
      allowed: ["activate", "request-approval", "delete"],
    });
    for (const status of CAMPAIGN_STATUSES.filter((s) => s !== "draft")) {
      expect(canApplyLifecycleAction(status, "delete")).toBe(false);
    }
  });

  it("lists the allowed actions of every status", () => {
    expect(Object.fromEntries(CAMPAIGN_STATUSES.map((s) => [s, allowedLifecycleActions(s)]))).toEqual({
      draft: ["activate", "request-approval", "delete"],
      "in-review": ["approve", "request-changes", "cancel-approval", "archive"],
      scheduled: ["start", "stop", "fail", "complete", "archive"],
      live: ["stop", "complete", "fail", "archive"],
      stopped: ["archive"],
      completed: ["archive"],
      failed: ["archive"],
      archived: ["purge"],
    });
  });
});

interface Step {
  from: CampaignStatus;
  action: LifecycleAction;
  to: CampaignStatus | null;
}

/** Runs `actions` from `start`, skipping refused ones (as a kit would refuse them), until a delete. */
function walk(start: CampaignStatus, actions: readonly [LifecycleAction, boolean][]): Step[] {
  const steps: Step[] = [];
  let status: CampaignStatus = start;
  for (const [action, startsLater] of actions) {
    if (!canApplyLifecycleAction(status, action)) {
      expect(() => applyLifecycleAction(status, action, { startsLater })).toThrow(/Can't/);
      continue;
    }
    const to = applyLifecycleAction(status, action, { startsLater });
    steps.push({ from: status, action, to });
    if (to === null) break;
    status = to;
  }
  return steps;
}

const actionsArb = fc.array(fc.tuple(fc.constantFrom(...LIFECYCLE_ACTIONS), fc.boolean()), { maxLength: 40 });
const statusArb = fc.constantFrom(...CAMPAIGN_STATUSES);

describe("status machine properties", () => {
  it("never lets a stopped campaign go live or scheduled again", () => {
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        let stopped = start === "stopped";
        for (const step of walk(start, actions)) {
          if (stopped) expect(["live", "scheduled"]).not.toContain(step.to);
          if (step.to === "stopped") stopped = true;
        }
      }),
    );
  });

  it("removes a campaign only by deleting a draft or purging an archived one", () => {
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        for (const step of walk(start, actions)) {
          if (step.action === "delete") expect(step).toMatchObject({ from: "draft", to: null });
          if (step.action === "purge") expect(step).toMatchObject({ from: "archived", to: null });
          if (step.to === null) expect(["delete", "purge"]).toContain(step.action);
        }
      }),
    );
  });

  it("treats archived as terminal: it never leaves it but to be purged", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LIFECYCLE_ACTIONS), fc.boolean(), (action, startsLater) => {
        if (action === "purge") expect(applyLifecycleAction("archived", action, { startsLater })).toBeNull();
        else expect(() => applyLifecycleAction("archived", action, { startsLater })).toThrow(/archived/);
      }),
    );
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        const steps = walk(start, actions);
        const archivedAt = steps.findIndex((s) => s.to === "archived");
        if (archivedAt < 0) return;
        const after = steps.slice(archivedAt + 1);
        expect(after.length).toBeLessThanOrEqual(1);
        if (after[0]) expect(after[0]).toMatchObject({ action: "purge", to: null });
      }),
    );
  });

  it("archives from every status but draft, in one step, and reaches archived from nowhere else", () => {
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        for (const step of walk(start, actions)) {
          if (step.action === "archive") {
            expect(step.from).not.toBe("draft");
            expect(step.to).toBe("archived");
          }
          if (step.to === "archived") expect(step.action).toBe("archive");
        }
      }),
    );
    for (const status of CAMPAIGN_STATUSES) {
      const expected = status !== "draft" && status !== "archived";
      expect(canApplyLifecycleAction(status, "archive")).toBe(expected);
    }
  });

  it("leaves in-review only through approve, request-changes, cancel-approval or archive", () => {
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        for (const step of walk(start, actions)) {
          if (step.from !== "in-review") continue;
          expect(["approve", "request-changes", "cancel-approval", "archive"]).toContain(step.action);
          const expected = {
            approve: ["live", "scheduled"],
            "request-changes": ["draft"],
            "cancel-approval": ["draft"],
            archive: ["archived"],
          }[step.action as "approve"];
          expect(expected).toContain(step.to);
        }
      }),
    );
  });

  it("reaches only known statuses, and scheduled only through activate or approve", () => {
    fc.assert(
      fc.property(statusArb, actionsArb, (start, actions) => {
        for (const step of walk(start, actions)) {
          if (step.to !== null) expect(CAMPAIGN_STATUSES).toContain(step.to);
          if (step.to === "scheduled") expect(["activate", "approve"]).toContain(step.action);
        }
      }),
    );
  });

  it("agrees with canApplyLifecycleAction and allowedLifecycleActions on every pair", () => {
    for (const status of CAMPAIGN_STATUSES) {
      for (const action of LIFECYCLE_ACTIONS) {
        const allowed = allowedLifecycleActions(status).includes(action);
        expect(canApplyLifecycleAction(status, action)).toBe(allowed);
        if (allowed) expect(() => applyLifecycleAction(status, action)).not.toThrow();
        else expect(() => applyLifecycleAction(status, action)).toThrow();
      }
    }
  });
});
