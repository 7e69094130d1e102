// What the definition operations need: the store, the workspace, and a hook that drops compiled plans.
import { ConfigError } from '../errors.js';
import { isUnopened } from '../store/seal.js';
import type { Store } from '../store/store.js';

export interface WorkspaceDeps {
  readonly store: Store;
  readonly workspace: string;
  readonly privateKey: string;
  /**
   * The key check `privateKey` was opened under. When set, a change is refused once the workspace's key check moved
   * (another process rotated the key): values sealed here would no longer open with the workspace's key.
   */
  readonly keyCheck?: string;
  /** Called after any committed definition change (plans compiled from old definitions are dropped). */
  readonly changed: () => void;
}

/** Runs a definition change in one transaction, bumps the workspace revision, then drops plans. */
export async function mutate<T>(deps: WorkspaceDeps, fn: (store: Store) => Promise<T>): Promise<T> {
  const out = await deps.store.transaction(async (tx) => {
    await requireCurrentKey(tx, deps);
    const r = await fn(tx);
    await tx.bumpRevision(deps.workspace);
    return r;
  });
  deps.changed();
  return out;
}

/**
 * Refuses a write that seals under a key the workspace no longer has. Called inside the write's transaction, so a
 * rotation cannot commit between this check and the write.
 */
export async function requireCurrentKey(tx: Store, deps: { readonly workspace: string; readonly keyCheck?: string }): Promise<void> {
  if (deps.keyCheck === undefined) return;
  const row = await tx.getWorkspace(deps.workspace);
  if (row?.keyCheck === deps.keyCheck) return;
  throw new ConfigError(
    `The key of workspace ${deps.workspace} changed since this client opened it (another process rotated it): nothing was changed. Open a new client with the current private_key.`,
    { workspace: deps.workspace },
  );
}

/**
 * A sealed value that did not open in a client whose key another process rotated since: says so, instead of "wrong
 * private_key, or the stored value was altered or moved" (the key was right when this client opened, and nothing
 * was altered). Any other error is returned as it is.
 */
export async function explainUnopened(err: unknown, store: Store, deps: { readonly workspace: string; readonly keyCheck?: string }): Promise<unknown> {
  if (!isUnopened(err) || deps.keyCheck === undefined) return err;
  const row = await store.getWorkspace(deps.workspace).catch(() => undefined);
  if (!row?.keyCheck || row.keyCheck === deps.keyCheck) return err;
  return new ConfigError(
    `The key of workspace ${deps.workspace} changed since this client opened it (another process rotated it): stored credentials and secrets are now sealed under the new key. Restart this process with the current private_key.`,
    { workspace: deps.workspace },
    { cause: err },
  );
}
