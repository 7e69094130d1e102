// Shared setup for session tests: a real SQLite store with one product and a fake clock.
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { createSessionType, type SessionDeps } from '../../src/sessions/index.js';

export const WS = 'acme';
export const KEY = 'test-private-key-0123456789';

export interface Setup {
  store: Store;
  deps: SessionDeps;
  clock: { now: number };
}

/** A store (':memory:' unless a file is given) with product "dashboard" (envs dev, prd) and session type "user-session". */
export async function setup(opts: { file?: string; privateKey?: string; workspace?: string; store?: Store; init?: boolean; expiry?: number; refreshExpiry?: number } = {}): Promise<Setup> {
  const store = opts.store ?? (await openSqliteStore(opts.file ?? ':memory:'));
  const clock = { now: Date.UTC(2030, 0, 1) };
  const deps: SessionDeps = { store, workspace: opts.workspace ?? WS, privateKey: opts.privateKey ?? KEY, now: () => clock.now };
  if (!opts.store || opts.init) {
    await store.putProduct(deps.workspace, { tag: 'dashboard', envs: ['dev', 'prd'], connections: {} });
    await store.putProduct(deps.workspace, { tag: 'billing', envs: ['prd'], connections: {} });
    await createSessionType(deps, {
      product: 'dashboard',
      tag: 'user-session',
      schema: { type: 'object', required: ['user'], properties: { user: { type: 'object', required: ['id'] } } },
      selector: '$Session{user}{id}',
      expiry: opts.expiry ?? 3600,
      refresh_expiry: opts.refreshExpiry ?? 86_400,
    });
    await createSessionType(deps, { product: 'dashboard', tag: 'admin-session', sample: { user: { id: 'x' } }, selector: '$Session{user}{id}' });
    await createSessionType(deps, { product: 'billing', tag: 'user-session', sample: { user: { id: 'x' } }, selector: '$Session{user}{id}' });
  }
  return { store, deps, clock };
}

export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'resolved';
}
