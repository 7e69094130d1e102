// Opens a PostgreSQL store (a `pg` pool through Kysely) and brings its schema up to date.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { closeOnce, guardDialect, redactStoreUrl, type DriverGuard } from './driver.js';
import { rowLogs } from './logs/rows.js';
import { migrate, PG_LOCK, PG_LOCK_CLASS } from './migrate.js';
import { boundedPool } from './pg-bounded.js';
import { createAdvisoryLeases } from './pg-lease.js';
import { createRevisionListener, REVISION_CHANNEL } from './pg-notify.js';
import { SqlStore } from './sql-store.js';

/** Bound on opening a connection, or on waiting for a free one of the pool. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface PostgresStoreOptions {
  /** Connections kept open to the server by this process. @default 10 */
  poolSize?: number;
  /**
   * Bound on one statement the server does not answer, in ms (lock waits excepted: pg-bounded.ts). Then STORE_ERROR
   * (`unreachable`) and the connection is dropped. @default 10_000, as long as a connection may take to open
   */
  statementTimeoutMs?: number;
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<SqlStore> {
  const poolSize = options.poolSize ?? 10;
  const pool = new pg.Pool({
    connectionString: url,
    // Runs never touch the store once warm (plans are cached), so a few connections serve many concurrent runs;
    // each process holds at most this many, which keeps a fleet of processes under max_connections (100 by default).
    max: poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'ductape',
  });
  // An idle connection the server drops (a restart, a failover) is reported here; without a listener Node would
  // crash the process. The pool discards it and the next query opens a new one.
  pool.on('error', () => {});
  // A connection in use is not watched by the pool: its error (the server ended it) would be thrown into the
  // process. The query running on it, if any, still fails with that error; a lease holder (pg-lease.ts) finds out
  // at its next statement.
  pool.on('connect', (client) => client.on('error', () => {}));
  const guard: DriverGuard = { dialect: 'postgres', location: redactStoreUrl(url), busyTimeoutMs: 0 };
  const db = new Kysely<any>({ dialect: guardDialect(new PostgresDialect({ pool: boundedPool(pool, options.statementTimeoutMs ?? CONNECT_TIMEOUT_MS) }), guard) });
  try {
    await migrate(db, 'postgres');
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err;
  }
  const listener = createRevisionListener(url);
  return new SqlStore('postgres', db, {
    // Serializes write transactions as SQLite's write lock does: read-modify-write definition changes never lose an
    // update under READ COMMITTED. Transaction-scoped, so it is released by COMMIT/ROLLBACK even behind PgBouncer.
    begin: ['begin', `select pg_advisory_xact_lock(${PG_LOCK_CLASS}, ${PG_LOCK.write})`],
    logs: rowLogs,
    // Half the pool at most holds leases (token refreshes), so the store stays usable while many run at once.
    leaseOnConnection: createAdvisoryLeases(db, Math.max(1, Math.floor(poolSize / 2))),
    // A revision bump notifies at commit; listening processes check the revision at once instead of at their next poll.
    revisionChannel: REVISION_CHANNEL,
    watchRevision: (ws, onChange) => listener.subscribe(ws, onChange),
    onClose: async () => {
      await listener.close();
      await closeOnce(guard, () => pool.end());
    },
  });
}
