// Leases on PostgreSQL: a transaction-scoped advisory lock, held on one pooled connection while the holder works.
import { sql, type Kysely } from 'kysely';
import { DuctapeError } from '../errors.js';
import { LEASE_RENEW_MS, LEASE_TTL_MS, leaseTimeout, type LeaseOptions } from './lease.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Leases of one store (one pool). `fn` gets the lease's own connection, inside the lease's transaction: what it
 * writes there commits together with the release, and it needs no second pooled connection. At most `maxHolders`
 * leases are held at once per process (later ones queue here, within their wait), so that many end users' tokens
 * expiring together cannot take every pooled connection and starve the store operations their refreshes need.
 */
export function createAdvisoryLeases(db: Kysely<any>, maxHolders: number) {
  let holders = 0;
  const queue: (() => void)[] = [];

  async function slot(opts: LeaseOptions, deadline: number): Promise<void> {
    if (holders < maxHolders) {
      holders++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const enter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(enter), 1);
        reject(leaseTimeout(opts));
      }, Math.max(0, deadline - Date.now()));
      queue.push(enter);
    });
  }
  // A freed slot passes straight to the next in line (holders stays the same).
  const leave = () => (queue.length ? queue.shift()!() : holders--);

  return async function withLease<T>(ws: string, name: string, opts: LeaseOptions, fn: (conn: Kysely<any>) => Promise<T>): Promise<T> {
    const deadline = Date.now() + opts.waitMs;
    await slot(opts, deadline);
    try {
      return await withAdvisoryLock(db, ws, name, { ...opts, waitMs: Math.max(1, deadline - Date.now()) }, fn);
    } finally {
      leave();
    }
  };
}

/**
 * Runs `fn` holding `pg_advisory_xact_lock` on (workspace, name):
 * - transaction-scoped, never session-scoped: COMMIT or ROLLBACK releases it, so a pooler such as PgBouncer in
 *   transaction mode cannot hand a still-locked session to someone else;
 * - waiters queue in PostgreSQL itself, bounded by `lock_timeout` = their wait (then TIMEOUT);
 * - a holder that dies loses the lock with its connection: at once when the socket closes (SIGKILL), and within
 *   LEASE_TTL_MS when it cannot even say goodbye (a lost machine), through `idle_in_transaction_session_timeout`.
 *   A live holder keeps the transaction busy with a trivial query every LEASE_RENEW_MS so the timeout never hits it.
 * The lock's key is a 64-bit hash; PostgreSQL keeps 64-bit keys apart from the (class, id) pairs of store writes.
 * `fn` runs on the lock's connection; its writes commit with the release (COMMIT), or vanish if it throws.
 */
export async function withAdvisoryLock<T>(db: Kysely<any>, ws: string, name: string, opts: LeaseOptions, fn: (conn: Kysely<any>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    try {
      // Both settings end with the transaction (set_config(…, true) is SET LOCAL).
      await sql`select set_config('lock_timeout', ${String(Math.max(1, Math.ceil(opts.waitMs)))}, true),
                       set_config('idle_in_transaction_session_timeout', ${String(LEASE_TTL_MS)}, true)`.execute(conn);
      try {
        await sql`select pg_advisory_xact_lock(hashtextextended(${`${ws}/${name}`}, 0))`.execute(conn);
      } catch (err) {
        if (isLockTimeout(err)) throw leaseTimeout(opts, err);
        throw err;
      }
      let beat: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        beat = sql`select 1`.execute(conn).catch(() => undefined);
      }, LEASE_RENEW_MS);
      timer.unref();
      let result: T;
      try {
        result = await fn(conn);
      } finally {
        clearInterval(timer);
        await beat;
      }
      // The result is stored by this COMMIT, in the same instant the lock is let go.
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      // If the connection broke meanwhile, the server has ended the transaction (and the lock) itself.
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

/** lock_not_available (55P03): lock_timeout ran out. The store wraps driver errors, so look at the cause too. */
function isLockTimeout(err: unknown): boolean {
  for (let e: any = err; e; e = e.cause) {
    if (e.code === '55P03' || (e instanceof DuctapeError && e.details.driverCode === '55P03')) return true;
  }
  return false;
}
