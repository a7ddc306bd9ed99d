/**
 * A large send on the embedded default must leave the event loop free: claims are renewed, progress is
 * reported and HTTP requests are answered while it runs.
 */
import { describe, expect, it } from "vitest";
import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import { createCampaignKit } from "../../src/kit/create-campaign-kit.js";
import type { Profile } from "../../src/model/profile.js";
import { ADMIN, emailConfiguration, people, promotion, resetKit } from "./fixtures.js";

const SIZE = 300_000;

function* members(): Generator<Profile> {
  for (let i = 0; i < SIZE; i++) {
    yield {
      id: `p${i}`,
      identities: { email: `p${i}@example.com` },
      addresses: {},
      attributes: {},
      consent: { email: true },
      suppressedChannels: [],
    };
  }
}

describe("a large send on memory storage", () => {
  it("lets timers run while it sends", async () => {
    const kit = await createCampaignKit({
      channels: [memoryChannel({ channel: "email", record: false })],
      audiences: memoryAudiences({ audiences: { vip: members } }),
      administrators: [ADMIN],
    });
    await kit.audiences.register({
      actor: ADMIN,
      audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email" },
    });
    await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
    await kit.campaigns.create({ actor: ADMIN, campaign: { ...promotion, id: "big" } });
    await kit.campaigns.activate({ actor: ADMIN, id: "big" });

    // The longest the loop went without running a timer, measured on real time (what a host's timers see).
    let last = performance.now();
    const started = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    try {
      await kit.scheduler.tick();
    } finally {
      clearInterval(timer);
    }
    longest = Math.max(longest, performance.now() - last);
    const took = performance.now() - started;
    const report = await kit.reports.campaign({ actor: ADMIN, id: "big" });
    expect(report.outcomes.sent).toBe(SIZE);
    // Generous for a loaded 2-core machine: without yielding, the loop stalls for the whole send.
    expect(longest, `longest stall ${Math.round(longest)} ms in a ${Math.round(took)} ms send`).toBeLessThan(
      Math.min(500, took / 3),
    );
  });
});

describe("many concurrent unitary triggers on memory storage", () => {
  it("give the event loop a turn while their sends run", async () => {
    const count = 1500;
    const { kit, email } = await resetKit({}, people(100));
    let sentWhenTimerRan: number | undefined;
    // A host's timer, set as the burst arrives: each send is far shorter than the dispatcher's slice of the
    // event loop, but together they are not, so the timer must run before the last of them is done.
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        sentWhenTimerRan = email.sent.length;
        resolve();
      }, 0),
    );
    const accepted = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        kit.executions.triggerUnitary({
          actor: ADMIN,
          request: {
            requestId: `burst-${i}`,
            campaignId: "reset",
            recipients: [
              { type: "aep", namespace: "email", userId: `p${i % 100}@example.com`, context: { link: "x" } },
            ],
          },
        }),
      ),
    );
    await Promise.all(accepted.map(({ executionId }) => kit.executions.wait({ id: executionId })));
    await timer;
    expect(email.sent).toHaveLength(count);
    expect(sentWhenTimerRan, "the timer ran only once every send was done").toBeLessThan(count);
    const report = await kit.reports.campaign({ actor: ADMIN, id: "reset" });
    expect(report.outcomes.sent).toBe(count);
  });
});
