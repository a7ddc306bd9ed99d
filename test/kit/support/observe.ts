import { memoryAudiences } from "../../../src/drivers/memory/audiences.js";
import { memoryChannel } from "../../../src/drivers/memory/channel.js";
import {
  type CampaignKit,
  type CampaignKitOptions,
  createCampaignKit,
} from "../../../src/kit/create-campaign-kit.js";
import type { Profile } from "../../../src/model/profile.js";
import type { KitEvents } from "../../../src/observe/events.js";
import type { Logger } from "../../../src/ports/logger.js";
import type { Storage } from "../../../src/ports/storage.js";
import { ADMIN, emailConfiguration, kitClock, people, smsConfiguration } from "../fixtures.js";

/** Every kit event name, for recording them all. */
export const KIT_EVENT_NAMES = [
  "execution-started",
  "execution-progress",
  "execution-finished",
  "execution-failed",
  "campaign-status-changed",
  "approval-requested",
  "approval-decided",
] as const satisfies readonly (keyof KitEvents)[];

/** One recorded event: its name and payload. */
export type Recorded = {
  [K in keyof KitEvents]: { name: K; event: Parameters<KitEvents[K]>[0] };
}[keyof KitEvents];

/** Records every kit event, in order. */
export function recordEvents(kit: CampaignKit): Recorded[] {
  const seen: Recorded[] = [];
  for (const name of KIT_EVENT_NAMES) {
    kit.events.on(name, (event: unknown) => {
      seen.push({ name, event } as Recorded);
    });
  }
  return seen;
}

/** One captured log line. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  fields: Record<string, unknown>;
  message: string;
  bindings: Record<string, unknown>;
}

/** A pino-shaped logger that keeps every line, with the bindings of the child it was written through. */
export function capturingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: LogLine["level"]) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, fields, message, bindings });
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => capturingLogger(lines, { ...bindings, ...more }),
  };
}

/**
 * A kit with an administrator, a realized `vip` audience of `size` people registered with `estimatedSize`,
 * and the marketing email and SMS configurations; progress on every ledger write.
 */
export async function observedKit(
  storage: Storage,
  options: Partial<CampaignKitOptions> & { size?: number; estimatedSize?: number; members?: Profile[] } = {},
) {
  const { size = 250, estimatedSize = size, members = people(size), ...rest } = options;
  const email = memoryChannel({ channel: "email" });
  const kit = await createCampaignKit({
    storage,
    clock: kitClock(),
    administrators: [ADMIN],
    channels: [email, memoryChannel({ channel: "sms" })],
    audiences: memoryAudiences({ audiences: { vip: members }, profiles: members }),
    dispatcher: { progressIntervalMs: 0, batchSize: 50 },
    // A one-shot campaign completes on the tick after its send, so a test sees the whole story in one tick.
    lifecycle: { completeAfterDays: 0 },
    ...rest,
  });
  await kit.audiences.register({
    actor: ADMIN,
    audience: { id: "vip", name: "VIP", status: "realized", identityNamespace: "email", estimatedSize },
  });
  await kit.configurations.register({ actor: ADMIN, configuration: emailConfiguration });
  await kit.configurations.register({ actor: ADMIN, configuration: smsConfiguration });
  return { kit, email };
}
