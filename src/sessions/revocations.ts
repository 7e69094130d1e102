// Revocations: written to the store, seen at once in this process and within a bounded window in every other one.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.js';

/*
 * How a revocation reaches every process without a store read per run:
 * - a revocation writes one record of kind 'session_revoked' per session (kept only until the last token issued for
 *   that session expires: after that the token is rejected as expired anyway), then overwrites the workspace's
 *   'session_epoch' record with a fresh random value;
 * - each verifier keeps the set of revoked sessions in memory. At most every `windowMs` it reads the epoch record
 *   (one keyed read) and reloads the set only when the epoch changed;
 * - views in the same process and on the same Store object are told directly, so there the revocation is immediate.
 * Bound: a revocation committed at time T is enforced by every process for every run that starts after
 * T + windowMs (+ one store read). Reads fail closed: if the store cannot be read, the run fails.
 */

export const REVOKED_KIND = 'session_revoked';
export const EPOCH_KIND = 'session_epoch';
const EPOCH_KEY = 'revocations';

/** @default 100 ms: at most ten small reads a second per process, and a short, documented bound. */
export const DEFAULT_REVOCATION_CHECK_MS = 100;

export interface Revocation {
  /** The session's record key (product/env/tag/sid). */
  key: string;
  /** When the last token of the session expires (ms); the revocation record can go after that. */
  untilMs: number;
}

export interface RevocationView {
  isRevoked(key: string): boolean;
  /** Re-reads the store if the window has passed; resolves at once (undefined) otherwise. */
  ensureFresh(nowMs: number): Promise<void> | undefined;
  close(): void;
}

interface ViewState {
  add(keys: string[]): void;
}

// Views per Store object, so a revoke through one client is enforced at once by the verifier of that client.
const local = new WeakMap<Store, Map<string, Set<ViewState>>>();

/**
 * Writes revocation records and bumps the epoch so other processes reload. Call it inside the transaction that marks
 * the session rows revoked (#11): the row that sessions.verify reads and the record every run-path verifier reads
 * then commit or fail together, so the two can never disagree.
 */
export async function writeRevocations(tx: Store, ws: string, items: Revocation[]): Promise<void> {
  if (!items.length) return;
  for (const r of items) await tx.putRecord(ws, REVOKED_KIND, r.key, { at: Date.now() }, { expiresAt: r.untilMs });
  // Written after the revocation records: a reader that sees the new epoch also sees every record before it.
  await tx.putRecord(ws, EPOCH_KIND, EPOCH_KEY, { v: randomUUID() });
}

/** After the revocations committed: views on this Store object (this client's verifier) apply them at once. */
export function announceRevocations(store: Store, ws: string, keys: string[]): void {
  for (const view of local.get(store)?.get(ws) ?? []) view.add(keys);
}

export function createRevocationView(store: Store, ws: string, windowMs = DEFAULT_REVOCATION_CHECK_MS): RevocationView {
  let revoked = new Set<string>();
  let epoch: string | null | undefined; // undefined: never loaded
  let checkedAt = -Infinity;
  let inflight: Promise<void> | undefined;
  // Keys told locally while a reload is running, so the reload's older snapshot does not drop them.
  let pendingLocal: string[] = [];

  const state: ViewState = {
    add(keys) {
      for (const k of keys) revoked.add(k);
      if (inflight) pendingLocal.push(...keys);
    },
  };
  let byWs = local.get(store);
  if (!byWs) local.set(store, (byWs = new Map()));
  let views = byWs.get(ws);
  if (!views) byWs.set(ws, (views = new Set()));
  views.add(state);

  async function reload(startedAt: number): Promise<void> {
    const rec = await store.getRecord<{ v: string }>(ws, EPOCH_KIND, EPOCH_KEY);
    const current = rec?.data?.v ?? null;
    if (current !== epoch) {
      const rows = await store.listRecords(ws, REVOKED_KIND);
      const next = new Set<string>();
      for (const r of rows) if (r.expiresAt == null || r.expiresAt > startedAt) next.add(r.key);
      for (const k of pendingLocal) next.add(k);
      revoked = next;
      epoch = current;
    }
    // The window counts from before the read, so the bound holds even when the read is slow.
    checkedAt = startedAt;
  }

  return {
    isRevoked: (key) => revoked.has(key),
    ensureFresh(nowMs) {
      if (nowMs - checkedAt < windowMs) return undefined;
      if (!inflight) {
        pendingLocal = [];
        inflight = reload(nowMs).finally(() => {
          inflight = undefined;
          pendingLocal = [];
        });
      }
      return inflight;
    },
    close() {
      views?.delete(state);
    },
  };
}

/** Deletes revocation records whose sessions can no longer present a live token. */
export async function pruneRevocations(store: Store, ws: string, nowMs: number): Promise<number> {
  // One statement: listing every revocation on each revoke made n revokes cost n² row reads.
  return store.deleteExpiredRecords(ws, REVOKED_KIND, nowMs);
}
