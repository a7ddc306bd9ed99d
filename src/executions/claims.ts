import { isCampaignKitError } from "../errors.js";
import type { Execution } from "../model/execution.js";
import type { Context } from "../repositories/context.js";
import type { Versioned } from "../repositories/index.js";

/**
 * An execution this process runs, with the version its next write names. Every write is a compare-and-set
 * on the execution's document, so a stop made elsewhere (it cancels the execution) or another process
 * taking over an expired claim is seen at the next write, never overwritten.
 */
export interface Held {
  current: Versioned<Execution>;
}

/** Whether `owner` may run `execution` at `now`: nobody's claim is alive, or its own is. */
export function claimable(execution: Execution, owner: string, now: Date): boolean {
  return execution.claim === undefined || execution.claim.owner === owner || execution.claim.until <= now;
}

/**
 * Applies `change` to the held execution and writes it by compare-and-set; on a conflict, reads it again and
 * applies `change` to what is stored. `change` returns `undefined` to write nothing (and the write returns
 * `false`): it decides again on every read, so it sees a cancellation or another owner.
 */
export async function write(
  ctx: Context,
  held: Held,
  change: (current: Execution) => Execution | undefined,
): Promise<boolean> {
  for (;;) {
    const next = change(held.current.value);
    if (next === undefined) return false;
    try {
      held.current = await ctx.repos.executions.replace(held.current, next);
      return true;
    } catch (error) {
      if (!isCampaignKitError(error, "CONFLICT")) throw error;
      held.current = await ctx.repos.executions.find(held.current.value.id);
    }
  }
}

/** `execution` claimed by `owner` for `ttlMs` from `now`. */
export function claimed(execution: Execution, owner: string, now: Date, ttlMs: number): Execution {
  return { ...execution, claim: { owner, until: new Date(now.getTime() + ttlMs) } };
}

/**
 * Claims the execution for `owner` until `now + ttlMs`, when nobody else's claim is alive: the held
 * execution, or `undefined` when another process runs it (or it is gone).
 */
export async function claim(
  ctx: Context,
  executionId: string,
  owner: string,
  ttlMs: number,
): Promise<Held | undefined> {
  const current = await ctx.repos.executions.get(executionId);
  if (current === undefined) return undefined;
  const held: Held = { current };
  const now = ctx.now();
  const won = await write(ctx, held, (execution) =>
    claimable(execution, owner, now) ? claimed(execution, owner, now, ttlMs) : undefined,
  );
  return won ? held : undefined;
}
