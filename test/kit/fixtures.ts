import { memoryAudiences } from "../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../src/drivers/memory/channel.js";
import {
  type CampaignKit,
  type CampaignKitOptions,
  createCampaignKit,
} from "../../src/kit/create-campaign-kit.js";
import type { CampaignDraftInput } from "../../src/model/campaign.js";
import type { ChannelConfigurationInput } from "../../src/model/channel-configuration.js";
import type { Profile } from "../../src/model/profile.js";
import type { ChannelAdapter, OutboundMessage } from "../../src/ports/channel.js";
import type { Storage } from "../../src/ports/storage.js";
import { createRepositories } from "../../src/repositories/index.js";
import { type VirtualClock, virtualClock } from "../../src/testing/virtual-clock.js";
import { profile, emailConfiguration as sharedEmailConfiguration } from "../support/fixtures.js";

export const ADMIN = "root";

/** When kit tests start: 2026-12-01T08:00:00Z. */
export const KIT_START = Date.parse("2026-12-01T08:00:00Z");

/**
 * The kit tests' clock: the published virtual clock, moving 1 ms per reading so that successive events
 * never share an instant (as on a real clock).
 */
export function kitClock(start: Date | string | number = KIT_START): VirtualClock {
  return virtualClock({ start, stepMs: 1 });
}

/** The shared marketing email configuration, as the kit tests name it: `email-marketing`, from Acme. */
export const emailConfiguration: ChannelConfigurationInput = {
  ...sharedEmailConfiguration,
  id: "email-marketing",
  name: "Marketing email",
  settings: { fromName: "Acme", fromAddress: "news@mail.acme.example", subdomain: "mail.acme.example" },
};

export const smsConfiguration: ChannelConfigurationInput = {
  id: "sms-marketing",
  name: "Marketing SMS",
  channel: "sms",
  purpose: "marketing",
  status: "active",
  settings: { provider: "memory", senderNumber: "+33612345678" },
};

export const promotion: CampaignDraftInput = {
  type: "scheduled",
  category: "marketing",
  name: "Winter sale",
  tags: ["promo"],
  audienceId: "vip",
  identityNamespace: "email",
  actions: [
    {
      channel: "email",
      channelConfigurationId: "email-marketing",
      content: { subject: "Hi {{fallback profile.firstName 'there'}}", text: "Our winter sale starts now." },
    },
  ],
};

/**
 * What the kit tests mostly expect of completion: a one-shot completes on the tick after its send (the
 * default, 3 days later as the reference product, is tested in lifecycle-scheduler.test.ts).
 */
export const COMPLETE_AT_ONCE = { completeAfterDays: 0 } as const;

/** A kit on memory storage with an administrator, an available audience and active configurations. */
export async function seededKit(options: CampaignKitOptions = {}): Promise<CampaignKit> {
  const kit = await createCampaignKit({
    clock: kitClock(),
    lifecycle: COMPLETE_AT_ONCE,
    administrators: [ADMIN],
    channels: [memoryChannel({ channel: "email" }), memoryChannel({ channel: "sms" })],
    ...options,
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email", estimatedSize: 3 },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  await kit.configurations.register({ actor: ADMIN, configuration: smsConfiguration });
  return kit;
}

/** Everything storage holds but the audit log, for "nothing changed" assertions. */
export async function snapshot(storage: Storage, userIds: readonly string[]) {
  const repos = createRepositories(storage);
  const [campaigns, audiences, configurations, roles, policies, requests] = await Promise.all([
    repos.campaigns.every(),
    repos.audiences.every(),
    repos.configurations.every(),
    repos.roles.every(),
    repos.policies.every(),
    repos.requests.every(),
  ]);
  const assignments = await Promise.all(userIds.map((userId) => repos.assignments.every({ userId })));
  return { campaigns, audiences, configurations, roles, policies, assignments, requests };
}

/** Every audit entry, oldest first. */
export function auditLog(storage: Storage) {
  return createRepositories(storage).audit.every();
}

/** The shared {@link profile} `p<i>`, named `Name<i>`, with an SMS address too. */
export function person(i: number, extra: Partial<Profile> = {}): Profile {
  return profile(`p${i}`, {
    addresses: { sms: `+3361234${String(i).padStart(4, "0")}` },
    attributes: { firstName: `Name${i}` },
    ...extra,
  });
}

/** `count` {@link person}s, `p<from>` onwards. */
export function people(count: number, from = 0): Profile[] {
  return Array.from({ length: count }, (_, i) => person(from + i));
}

/**
 * A live API-triggered transactional campaign `reset` on an active transactional email configuration `tx`:
 * `{{context.link}}` in its text.
 */
export async function liveReset(kit: CampaignKit): Promise<void> {
  await kit.configurations.register({
    actor: ADMIN,
    configuration: { ...emailConfiguration, id: "tx", name: "Transactional", purpose: "transactional" },
  });
  await kit.campaigns.create({
    actor: ADMIN,
    campaign: {
      id: "reset",
      type: "api-triggered",
      category: "transactional",
      name: "Reset",
      actions: [
        {
          channel: "email",
          channelConfigurationId: "tx",
          content: { subject: "Reset", text: "{{context.link}}" },
        },
      ],
    },
  });
  await kit.campaigns.activate({ actor: ADMIN, id: "reset" });
}

/** `p1` as the execution API tests know her: ana@example.com. */
export const ana: Profile = person(1, { identities: { email: "ana@example.com" } });

/**
 * A {@link seededKit} with a memory email channel, `recipients` (default {@link ana}) as its only profiles, and
 * the live transactional campaign `reset` ({@link liveReset}); `options` override the kit's.
 */
export async function resetKit(options: CampaignKitOptions = {}, recipients: Profile[] = [ana]) {
  const email = memoryChannel({ channel: "email" });
  const kit = await seededKit({
    channels: [email],
    audiences: memoryAudiences({ profiles: recipients }),
    ...options,
  });
  await liveReset(kit);
  return { kit, email };
}

/**
 * Resolves once `condition` holds, checking after each turn of the event loop, for at most `timeoutMs` of real
 * time: a test waiting for progress made by other code or real I/O waits for that progress, never for a
 * fixed delay a loaded machine may not honour.
 */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** An email channel that lets sends through until told to hold them; see {@link gatedChannel}. */
export interface GatedChannel {
  /** The adapter to pass in `channels`: one message per call, no idempotency keys. */
  adapter: ChannelAdapter;
  /** What went through, in order. */
  sent: OutboundMessage[];
  /** Resolves once a send is held at the gate. */
  held: Promise<void>;
  /** The dispatch's signal as the held send saw it. */
  signal: AbortSignal | undefined;
  /** Lets the held send, and every later one, through. */
  open(): void;
}

/**
 * An email channel that lets `passes` sends through, then holds the next at its gate until `open()`, or until
 * the dispatch aborts, when the held send rejects as a provider call cancelled in flight does. Tests catch a
 * send part-way with it, at an exact point and without real time.
 */
export function gatedChannel(passes = 0): GatedChannel {
  const sent: OutboundMessage[] = [];
  let arrive = () => {};
  let release = () => {};
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  let open = false;
  const gated: GatedChannel = {
    sent,
    held: arrived,
    signal: undefined,
    open() {
      open = true;
      release();
    },
    adapter: {
      name: "gated-email",
      channel: "email",
      capabilities: { batch: false, idempotencyKeys: false, maxBatchSize: 1 },
      async send(message, { signal }) {
        if (!open && sent.length >= passes) {
          gated.signal = signal;
          arrive();
          await new Promise<void>((resolve, reject) => {
            if (signal.aborted) return reject(signal.reason);
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
            void opened.then(resolve);
          });
        }
        sent.push(message);
        return undefined;
      },
    },
  };
  return gated;
}

/** Creates a campaign (`id` included in `campaign`) and activates it, as the administrator. */
export async function activeCampaign(kit: CampaignKit, campaign: CampaignDraftInput & { id: string }) {
  await kit.campaigns.create({ actor: ADMIN, campaign });
  return kit.campaigns.activate({ actor: ADMIN, id: campaign.id });
}
