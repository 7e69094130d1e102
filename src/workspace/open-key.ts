// Opening a workspace's key at client start: create it, check the private_key against it, or migrate an old store.
import { ConfigError } from '../errors.js';
import { createWorkspaceKey, openWorkspaceKey, type WorkspaceKey } from '../model/keys.js';
import type { Store } from '../store/store.js';
import { rotateKey } from './rotate-key.js';

/**
 * The workspace's master key for `privateKey`: created with the workspace, else checked against the stored key check
 * (CONFIG_ERROR when it does not match; nothing is written then). A store written before #11 (no work factor) is
 * migrated here, by the first client that opens it: every sealed value is re-sealed under a scrypt master key in one
 * transaction. Migrating at open rather than at some later write means no process of this version ever works with the
 * old key while another has moved on. Processes racing to create or migrate end up with the winner's key.
 */
export async function openKey(store: Store, workspace: string, privateKey: string): Promise<WorkspaceKey> {
  for (;;) {
    const row = await store.getWorkspace(workspace);
    if (!row?.keyCheck) {
      const fresh = await createWorkspaceKey(privateKey, workspace);
      if (!row) await store.createWorkspace(workspace, fresh.keyCheck);
      else await store.setKeyCheck(workspace, fresh.keyCheck);
      // createWorkspace does nothing if another process created the workspace first: use what was stored.
      if ((await store.getWorkspace(workspace))?.keyCheck === fresh.keyCheck) return fresh;
      continue;
    }
    const key = await openWorkspaceKey(privateKey, workspace, row.keyCheck);
    if (!key) {
      throw new ConfigError(`private_key does not open workspace ${workspace}. Use the key the workspace was created with.`, { workspace });
    }
    if (!key.isLegacy) return key;
    const next = await createWorkspaceKey(privateKey, workspace);
    try {
      await rotateKey({ store, workspace }, key, next);
      return next;
    } catch (err) {
      // Another process migrated first: open what it stored.
      if ((await store.getWorkspace(workspace))?.keyCheck !== row.keyCheck) continue;
      throw err;
    }
  }
}
