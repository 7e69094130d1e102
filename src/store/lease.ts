// Leases: a named claim that at most one process sharing the store holds at a time (credential refreshes).
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { DuctapeError } from '../errors.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Db = Kysely<any> | Transaction<any>;

/** Record kind of lease rows (SQLite); the row's `ref` names the holder and `expires_at` ends the claim. */
export const LEASE_KIND = 'lease';
/**
 * A claim not renewed for this long lapses, so a process that died holding it (SIGKILL, a lost machine) blocks the
 * others for at most this long (API.md §6: "within 30 s").
 */
export const LEASE_TTL_MS = 30_000;
/** A live holder renews its claim this often: a renewal delayed by a busy store still lands well inside the TTL. */
export const LEASE_RENEW_MS = 5_000;

export interface LeaseOptions {
  /** How long to wait for another holder before giving up with TIMEOUT, in ms (the waiting run's timeout). */
  waitMs: number;
  /** What the lease protects, for the TIMEOUT message (e.g. 'the OAuth2 token of this connection'). */
  what?: string;
}

/** The TIMEOUT a waiter gets when the holder neither finishes nor dies within the waiter's bound. */
export function leaseTimeout(opts: LeaseOptions, cause?: unknown): DuctapeError {
  const what = opts.what ?? 'this credential';
  return new DuctapeError(
    'TIMEOUT',
    `Another process is refreshing ${what} and did not finish within ${opts.waitMs} ms. Retry the run, or give it a longer timeout.`,
    { timeoutMs: opts.waitMs },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Runs `fn` while holding lease `name` of workspace `ws`, as a row in `records`: claimed with one conditional upsert
 * (taken only when absent or expired, so exactly one contender wins), renewed while `fn` runs, deleted afterwards.
 * Waiters poll with a growing delay (10 → 200 ms) and read before they write, so a held lease costs them no write lock.
 */
export async function withLeaseRow<T>(db: Db, ws: string, name: string, opts: LeaseOptions, fn: () => Promise<T>): Promise<T> {
  const holder = randomUUID();
  const deadline = Date.now() + opts.waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if ((await isFree(db, ws, name)) && (await claim(db, ws, name, holder))) break;
    const left = deadline - Date.now();
    if (left <= 0) throw leaseTimeout(opts);
    // Full jitter: waiters of several processes do not wake in lockstep.
    await new Promise((r) => setTimeout(r, Math.min(left, Math.ceil(delay / 2 + Math.random() * (delay / 2)))));
  }
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // A failed renewal is retried at the next tick; the TTL leaves room for several.
    renewing = renew(db, ws, name, holder).catch(() => undefined);
  }, LEASE_RENEW_MS);
  timer.unref();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    await renewing;
    // Only our own claim is removed: if it had lapsed and another process holds it now, theirs stays.
    await db
      .deleteFrom('records')
      .where('workspace_id', '=', ws)
      .where('kind', '=', LEASE_KIND)
      .where('key', '=', name)
      .where('ref', '=', holder)
      .execute()
      .catch(() => undefined);
  }
}

async function isFree(db: Db, ws: string, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('records')
    .select('expires_at')
    .where('workspace_id', '=', ws)
    .where('kind', '=', LEASE_KIND)
    .where('key', '=', name)
    .executeTakeFirst();
  return !row || Number(row.expires_at) <= Date.now();
}

async function claim(db: Db, ws: string, name: string, holder: string): Promise<boolean> {
  const at = Date.now();
  const values = { workspace_id: ws, kind: LEASE_KIND, key: name, ref: holder, data: '{}', expires_at: at + LEASE_TTL_MS, updated_at: new Date(at).toISOString() };
  const row = await db
    .insertInto('records')
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'kind', 'key'])
        .doUpdateSet({ ref: holder, expires_at: values.expires_at, updated_at: values.updated_at })
        .where('records.expires_at', '<=', at),
    )
    .returning('ref')
    .executeTakeFirst();
  return row?.ref === holder;
}

async function renew(db: Db, ws: string, name: string, holder: string): Promise<void> {
  const at = Date.now();
  await db
    .updateTable('records')
    .set({ expires_at: at + LEASE_TTL_MS, updated_at: new Date(at).toISOString() })
    .where('workspace_id', '=', ws)
    .where('kind', '=', LEASE_KIND)
    .where('key', '=', name)
    .where('ref', '=', holder)
    .execute();
}
