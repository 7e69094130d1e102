// Leases on PostgreSQL: a transaction-scoped advisory lock, held on one pooled connection while the holder works.
import { sql, type Kysely } from 'kysely';
import { DuctapeError } from '../errors.js';
import { LEASE_RENEW_MS, LEASE_TTL_MS, leaseTimeout, type LeaseOptions } from './lease.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Runs `fn` holding `pg_advisory_xact_lock` on (workspace, name):
 * - transaction-scoped, never session-scoped: COMMIT or ROLLBACK releases it, so a pooler such as PgBouncer in
 *   transaction mode cannot hand a still-locked session to someone else;
 * - waiters queue in PostgreSQL itself, bounded by `lock_timeout` = their wait (then TIMEOUT);
 * - a holder that dies loses the lock with its connection: at once when the socket closes (SIGKILL), and within
 *   LEASE_TTL_MS when it cannot even say goodbye (a lost machine), through `idle_in_transaction_session_timeout`.
 *   A live holder keeps the transaction busy with a trivial query every LEASE_RENEW_MS so the timeout never hits it.
 * The lock's key is a 64-bit hash; PostgreSQL keeps 64-bit keys apart from the (class, id) pairs of store writes.
 */
export async function withAdvisoryLease<T>(db: Kysely<any>, ws: string, name: string, opts: LeaseOptions, fn: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    let result: { value: T } | undefined;
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
      try {
        result = { value: await fn() };
      } finally {
        clearInterval(timer);
        await beat;
      }
    } finally {
      // fn's writes went through their own connections and are committed already; ending this transaction only
      // lets the lock go. If the connection broke meanwhile, the server has let it go itself.
      await sql`rollback`.execute(conn).catch(() => undefined);
    }
    return result!.value;
  });
}

/** lock_not_available (55P03): lock_timeout ran out. The store wraps driver errors, so look at the cause too. */
function isLockTimeout(err: unknown): boolean {
  for (let e: any = err; e; e = e.cause) {
    if (e.code === '55P03' || (e instanceof DuctapeError && e.details.driverCode === '55P03')) return true;
  }
  return false;
}
