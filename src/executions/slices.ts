import { type Execution, type ExecutionSlice, SLICE_SIZE } from "../model/execution.js";
import type { Profile } from "../model/profile.js";
import type { Context } from "../repositories/context.js";

/**
 * Keeps the recipients a first pass holds back, as {@link ExecutionSlice}s of at most {@link SLICE_SIZE}
 * identities per due instant. A slice's id starts with its execution and due instant, so listing an
 * execution's slices by id lists them in due order. Recipients without an identity in the campaign's
 * namespace are never held back: the dispatcher excludes them at once.
 */
export function sliceWriter(ctx: Context, execution: Pick<Execution, "id">, namespace: string) {
  const pending = new Map<number, string[]>();
  const write = async (dueAt: number, identities: string[]) => {
    const due = new Date(dueAt);
    // A fresh id each time: a first pass run again after a crash writes its slices again rather than
    // collide with the ones it wrote before; the ledger keeps their recipients from being sent twice.
    const slice: ExecutionSlice = {
      id: `${execution.id}:${due.toISOString()}:${ctx.newId()}`,
      executionId: execution.id,
      dueAt: due,
      namespace,
      identities,
    };
    await ctx.repos.slices.create(slice);
  };
  return {
    /** Holds `profiles` back until `dueAt`; writes a slice each time one fills up. */
    async add(profiles: readonly Profile[], dueAt: number): Promise<void> {
      let identities = pending.get(dueAt) ?? [];
      for (const profile of profiles) {
        const identity = profile.identities[namespace];
        if (!identity) continue;
        identities.push(identity);
        if (identities.length === SLICE_SIZE) {
          await write(dueAt, identities);
          identities = [];
        }
      }
      pending.set(dueAt, identities);
    },
    /** Writes what is held back but not written yet; the earliest due instant held back, if any. */
    async flush(): Promise<void> {
      for (const [dueAt, identities] of pending) if (identities.length > 0) await write(dueAt, identities);
      pending.clear();
    },
  };
}

/** The execution's slices due by `now`, earliest first. */
export function dueSlices(ctx: Context, executionId: string, now: Date): AsyncGenerator<ExecutionSlice> {
  return ctx.repos.slices.all({ executionId, dueAt: { lte: now.toISOString() } });
}

/** When the execution's earliest slice falls due, or `undefined` when none is left. */
export async function nextSliceAt(ctx: Context, executionId: string): Promise<Date | undefined> {
  const { items } = await ctx.repos.slices.list({ executionId }, { limit: 1 });
  return items[0]?.dueAt;
}
