// API key checks for `ductape serve`: every live key by hash in memory, refreshed from the store twice a second, so
// a key created or revoked by any process is in force here within 1 s and a check costs one hash and one lookup.
import { DuctapeError } from '../errors.js';
import type { Store } from '../store/store.js';
import { hashKey, loadLiveKeys, type KeyInfo } from '../workspace/keys.js';

/** @default 500 ms: half the 1 s API.md §6 allows, so one slow poll still lands in time. */
export const KEY_REFRESH_MS = 500;

/** Distinct `Authorization` headers whose key hash is remembered (a client sends the same header on every request). */
const HASH_MEMO_SIZE = 4096;

export class KeyRing {
  #keys = new Map<string, KeyInfo>();
  /**
   * Header → hash of its key. Hashing is most of a check; the hash of a header never changes, so it is remembered
   * (bounded: emptied when full). What a hash grants is still looked up in #keys every time, so a revoked key is
   * refused as soon as #keys is refreshed.
   */
  #hashes = new Map<string, string | null>();
  #timer?: NodeJS.Timeout;
  #busy?: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly workspace: string,
    private readonly refreshMs = KEY_REFRESH_MS,
  ) {}

  /** Loads the keys, then keeps them fresh until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), this.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Re-reads every live key (also called right after this process creates or revokes one). */
  refresh(): Promise<void> {
    // One read at a time: a slow store must not pile up overlapping polls.
    this.#busy ??= loadLiveKeys(this.store, this.workspace)
      .then((keys) => void (this.#keys = keys))
      .finally(() => (this.#busy = undefined));
    return this.#busy;
  }

  /** The key an `Authorization: Bearer …` header carries, or UNAUTHORIZED. */
  check(authorization: string | undefined): KeyInfo {
    if (!authorization) throw new DuctapeError('UNAUTHORIZED', 'Send an API key as "Authorization: Bearer <key>". Create one with "ductape keys create".');
    let hash = this.#hashes.get(authorization);
    if (hash === undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      hash = m ? hashKey(m[1]) : null;
      if (this.#hashes.size >= HASH_MEMO_SIZE) this.#hashes.clear();
      this.#hashes.set(authorization, hash);
    }
    const info = hash === null ? undefined : this.#keys.get(hash);
    if (!info) throw new DuctapeError('UNAUTHORIZED', 'Unknown or revoked API key. List keys with "ductape keys list".');
    return info;
  }
}

/** Whether a key may call an operation with this input: admin keys everything; run keys their product (and env). */
export function authorize(key: KeyInfo, op: { name: string; role?: 'admin' | 'run' }, input: { product?: unknown; env?: unknown }): void {
  if (key.role === 'admin') return;
  if (op.role !== 'run') throw new DuctapeError('FORBIDDEN', `A run key may not call ${op.name}; use an admin key.`, { key: key.id });
  if (input.product !== key.product) throw new DuctapeError('FORBIDDEN', `This run key is for product "${key.product}", not "${String(input.product)}".`, { key: key.id });
  if (key.env !== undefined && input.env !== key.env) {
    // Where env is optional (connections.list), leaving it out means every env: more than this key covers.
    const given = input.env === undefined ? `not every env: give env "${key.env}"` : `not "${String(input.env)}"`;
    throw new DuctapeError('FORBIDDEN', `This run key is for env "${key.env}" of product "${key.product}", ${given}.`, { key: key.id });
  }
}
