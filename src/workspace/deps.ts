// What the definition operations need: the store, the workspace, and a hook that drops compiled plans.
import type { Store } from '../store/store.js';

export interface WorkspaceDeps {
  readonly store: Store;
  readonly workspace: string;
  readonly privateKey: string;
  /** Called after any committed definition change (plans compiled from old definitions are dropped). */
  readonly changed: () => void;
}

/** Runs a definition change in one transaction, bumps the workspace revision, then drops plans. */
export async function mutate<T>(deps: WorkspaceDeps, fn: (store: Store) => Promise<T>): Promise<T> {
  const out = await deps.store.transaction(async (tx) => {
    const r = await fn(tx);
    await tx.bumpRevision(deps.workspace);
    return r;
  });
  deps.changed();
  return out;
}
