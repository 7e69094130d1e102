// Tokens obtained at run time (OAuth2 access tokens, login results): in memory, persisted sealed, one fetch at a time.
import { openJson, sealJson } from '../../store/seal.js';
import type { Store } from '../../store/store.js';

export interface HeldToken<T> {
  value: T;
  /** Epoch ms; null when the issuer gave no lifetime (valid until rejected). */
  expiresAt: number | null;
  obtainedAt: number;
}

export interface TokenCacheDeps {
  store: Store;
  workspace: string;
  privateKey: string;
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
   * share one `obtain` call. A token `accept` refuses (it was obtained for other credentials) counts as absent.
   */
  get(key: string, obtain: (previous: HeldToken<T> | undefined) => Promise<HeldToken<T>>, accept?: (value: T) => boolean): Promise<HeldToken<T>>;
  /** Marks the held token stale when `isRejected` says it is the one an upstream refused (a 401). */
  invalidate(key: string, isRejected: (value: T) => boolean): void;
  /** Drops the token from memory and store. */
  forget(key: string): Promise<void>;
}

/** Refresh margin: 10% of the token's lifetime, at most 30 s, so a token is never sent in its last moments. */
export function refreshAt(t: HeldToken<unknown>): number {
  if (t.expiresAt === null) return Infinity;
  return t.expiresAt - Math.min(30_000, Math.max(0, t.expiresAt - t.obtainedAt) / 10);
}

export function createTokenCache<T>(deps: TokenCacheDeps, kind: string): TokenCache<T> {
  const now = deps.now ?? Date.now;
  const memory = new Map<string, HeldToken<T> & { stale?: boolean }>();
  const inflight = new Map<string, Promise<HeldToken<T>>>();
  const scope = (key: string) => ({ workspace: deps.workspace, kind, key });
  const isFresh = (t: HeldToken<T> & { stale?: boolean }) => !t.stale && now() < refreshAt(t);

  async function load(key: string): Promise<HeldToken<T> | undefined> {
    const rec = await deps.store.getRecord<Persisted>(deps.workspace, kind, key);
    if (!rec) return undefined;
    return { value: openJson<T>(deps.privateKey, scope(key), rec.data.sealed), expiresAt: rec.data.expiresAt, obtainedAt: rec.data.obtainedAt };
  }

  async function save(key: string, t: HeldToken<T>): Promise<void> {
    const data: Persisted = { sealed: sealJson(deps.privateKey, scope(key), t.value), expiresAt: t.expiresAt, obtainedAt: t.obtainedAt };
    await deps.store.putRecord(deps.workspace, kind, key, data);
  }

  async function renew(
    key: string,
    obtain: (previous: HeldToken<T> | undefined) => Promise<HeldToken<T>>,
    accept: (value: T) => boolean,
  ): Promise<HeldToken<T>> {
    const inMemory = memory.get(key);
    const held = inMemory && accept(inMemory.value) ? inMemory : undefined;
    const loaded = await load(key);
    const stored = loaded && accept(loaded.value) ? loaded : undefined;
    // A stored token is usable when fresh and newer than one a 401 just rejected (the same token would fail again).
    if (stored && now() < refreshAt(stored) && !(held?.stale && stored.obtainedAt <= held.obtainedAt)) {
      memory.set(key, stored);
      return stored;
    }
    const next = await obtain(newest(stored, held));
    await save(key, next);
    memory.set(key, next);
    return next;
  }

  return {
    get(key, fetchToken, accept = () => true) {
      const held = memory.get(key);
      if (held && isFresh(held) && accept(held.value)) return Promise.resolve(held);
      let p = inflight.get(key);
      if (!p) {
        p = renew(key, fetchToken, accept).finally(() => inflight.delete(key));
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

function newest<T>(a: HeldToken<T> | undefined, b: HeldToken<T> | undefined): HeldToken<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.obtainedAt >= b.obtainedAt ? a : b;
}
