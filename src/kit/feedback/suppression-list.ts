import type { SuppressionList } from "../../dispatch/types.js";
import { normalizeAddress } from "../../model/feedback.js";
import type { Repositories } from "../../repositories/index.js";

/**
 * The dispatcher's view of the kit's suppression list: one query per batch over the `suppressions`
 * collection, on the index keys `channel`, `subject` and `active`. Addresses are compared normalized, as
 * the events that fed the list were.
 */
export function storedSuppressionList(repos: Pick<Repositories, "suppressions">): SuppressionList {
  return {
    async suppressed({ channel, addresses, recipientIds }) {
      const byAddress = new Map<string, string[]>();
      for (const address of addresses) {
        const subject = `address:${normalizeAddress(address)}`;
        byAddress.set(subject, [...(byAddress.get(subject) ?? []), address]);
      }
      const subjects = [...byAddress.keys(), ...recipientIds.map((id) => `profile:${id}`)];
      const found = { addresses: new Set<string>(), recipientIds: new Set<string>() };
      if (subjects.length === 0) return found;
      // No query per batch while the channel's list is empty (the answer is cached until it changes).
      if (!(await repos.suppressions.anyCached({ channel, active: true }))) return found;
      for await (const entry of repos.suppressions.all({
        channel,
        active: true,
        subject: { in: subjects },
      })) {
        if (entry.address !== undefined)
          for (const address of byAddress.get(`address:${entry.address}`) ?? []) found.addresses.add(address);
        if (entry.recipientId !== undefined) found.recipientIds.add(entry.recipientId);
      }
      return found;
    },
  };
}
