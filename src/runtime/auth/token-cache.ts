// Tokens obtained at run time (OAuth2 access tokens, login results): in memory, persisted sealed, one fetch at a time.
import { openJson, sealJson } from '../../store/seal.js';
import type { Store } from '../../store/store.js';

export interface HeldToken<T> {
  value: T;
  /** Epoch ms; null when the issuer gave no lifetime (valid until rejected). */
  expiresAt: number | null;
  obtainedAt: number;
}

/** What reading and writing a sealed token needs. */
export interface TokenStoreDeps {
  store: Store;
  workspace: string;
  privateKey: string;
}

export interface TokenCacheDeps extends TokenStoreDeps {
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
}

interface Persisted {
  sealed: string;
  expiresAt: number | null;
  obtainedAt: number;
}

export interface TokenCache<T> {
  /**
   * A fresh token for `key`: from memory, else from the store (another process may have fetched one), else from
   * `obtain`, which gets the previous token (expired or rejected) so it can use its refresh token. Concurrent callers
   * share one `obtain` call, and across processes one holder of the store lease calls it while the others wait (up
   * to `waitMs`, then TIMEOUT) and then use its token. A token `accept` refuses (obtained for other credentials)
   * counts as absent.
   */
  get(
    key: string,
    obtain: (previous: HeldToken<T> | undefined) => Promise<HeldToken<T>>,
    accept?: (value: T) => boolean,
    waitMs?: number,
  ): Promise<HeldToken<T>>;
  /** Marks the held token stale when `isRejected` says it is the one an upstream refused (a 401). */
  invalidate(key: string, isRejected: (value: T) => boolean): void;
  /** Drops the token from memory and store. */
  forget(key: string): Promise<void>;
}

/** How long a run waits for another process's refresh when it gives no bound of its own, in ms. */
export const DEFAULT_LEASE_WAIT_MS = 30_000;

/** Refresh margin: 10% of the token's lifetime, at most 30 s, so a token is never sent in its last moments. */
export function refreshAt(t: HeldToken<unknown>): number {
  if (t.expiresAt === null) return Infinity;
  return t.expiresAt - Math.min(30_000, Math.max(0, t.expiresAt - t.obtainedAt) / 10);
}

/** `what` names the token in the TIMEOUT a run gets when another process's refresh outlasts its wait. */
export function createTokenCache<T>(deps: TokenCacheDeps, kind: string, what: string): TokenCache<T> {
  const now = deps.now ?? Date.now;
  const memory = new Map<string, HeldToken<T> & { stale?: boolean }>();
  const inflight = new Map<string, Promise<HeldToken<T>>>();
  const isFresh = (t: HeldToken<T> & { stale?: boolean }) => !t.stale && now() < refreshAt(t);

  // Exactly once across processes: the stored token is read, and only when it is not usable is the connection's
  // lease taken; once held, the store is read again (the holder before us may have just stored a fresh token) and
  // the new token is stored before the lease is let go, so the next holder sees it and a rotated refresh token is
  // never spent twice (RFC 6749 §10.4; the OAuth 2.0 Security BCP has servers revoke the whole grant on reuse).
  async function renew(
    key: string,
    obtain: (previous: HeldToken<T> | undefined) => Promise<HeldToken<T>>,
    accept: (value: T) => boolean,
    waitMs: number,
  ): Promise<HeldToken<T>> {
    const inMemory = memory.get(key);
    const held = inMemory && accept(inMemory.value) ? inMemory : undefined;
    // A stored token is usable when fresh and not the one a 401 just rejected (the same token would fail again).
    const rejected = held?.stale ? JSON.stringify(held.value) : undefined;
    const usable = (t: HeldToken<T> | undefined): t is HeldToken<T> => !!t && now() < refreshAt(t) && JSON.stringify(t.value) !== rejected;
    const load = async (store = deps.store) => {
      const t = await loadToken<T>({ ...deps, store }, kind, key);
      return t && accept(t.value) ? t : undefined;
    };
    const stored = await load();
    if (usable(stored)) {
      memory.set(key, stored);
      return stored;
    }
    const leased = await deps.store.withLease(deps.workspace, `${kind}/${key}`, { waitMs, what }, async (store) => {
      const latest = await load(store);
      if (usable(latest)) return latest;
      // The stored token is the newest one of the chain (it is written before any lease is released).
      const next = await obtain(latest ?? held);
      await saveToken({ ...deps, store }, kind, key, next);
      return next;
    });
    // Only once the lease is released is the token surely stored (PostgreSQL stores it with the release).
    memory.set(key, leased);
    return leased;
  }

  return {
    get(key, fetchToken, accept = () => true, waitMs = DEFAULT_LEASE_WAIT_MS) {
      const held = memory.get(key);
      if (held && isFresh(held) && accept(held.value)) return Promise.resolve(held);
      let p = inflight.get(key);
      if (!p) {
        p = renew(key, fetchToken, accept, waitMs).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },
    invalidate(key, isRejected) {
      const held = memory.get(key);
      if (held && isRejected(held.value)) memory.set(key, { ...held, stale: true });
    },
    async forget(key) {
      memory.delete(key);
      await deps.store.deleteRecord(deps.workspace, kind, key);
    },
  };
}

/** Reads a held token from the store (the sealed form every token cache writes). */
export async function loadToken<T>(deps: TokenStoreDeps, kind: string, key: string): Promise<HeldToken<T> | undefined> {
  const rec = await deps.store.getRecord<Persisted>(deps.workspace, kind, key);
  if (!rec) return undefined;
  return { value: openJson<T>(deps.privateKey, { workspace: deps.workspace, kind, key }, rec.data.sealed), expiresAt: rec.data.expiresAt, obtainedAt: rec.data.obtainedAt };
}

/** Writes a held token sealed for its record (connections.complete stores an owner's first token this way). */
export async function saveToken<T>(deps: TokenStoreDeps, kind: string, key: string, t: HeldToken<T>): Promise<void> {
  const data: Persisted = { sealed: sealJson(deps.privateKey, { workspace: deps.workspace, kind, key }, t.value), expiresAt: t.expiresAt, obtainedAt: t.obtainedAt };
  await deps.store.putRecord(deps.workspace, kind, key, data);
}
