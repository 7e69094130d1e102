// Wraps a Kysely dialect so that every driver error becomes a StoreError, and a busy SQLite store is waited for
// without blocking the event loop: SQLite's own busy wait is kept short, then the statement is retried asynchronously.
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { DuctapeError, StoreError, type StoreErrorReason } from '../errors.js';

export interface DriverGuard {
  dialect: 'sqlite' | 'postgres';
  /** Where the store is, credentials removed, for messages. */
  location: string;
  /** How long a busy store is waited for before the caller gets STORE_ERROR (reason 'busy'). */
  busyTimeoutMs: number;
  /**
   * Whether a statement that failed because the store was busy may simply run again. SQLite says yes outside a
   * transaction (nothing happened) and for COMMIT (the transaction is still open); inside one, it must roll back.
   */
  canRetryBusy?: (sql: string) => boolean;
  /**
   * Set by the store's close(). Stores close their database themselves instead of destroying the Kysely instance,
   * whose "driver has already been destroyed" would otherwise reach callers as a raw Error.
   */
  closed?: boolean;
}

export function guardDialect(base: Dialect, guard: DriverGuard): Dialect {
  return {
    createAdapter: () => base.createAdapter(),
    createDriver: () => new GuardedDriver(base.createDriver(), guard),
    createQueryCompiler: () => base.createQueryCompiler(),
    createIntrospector: (db) => base.createIntrospector(db),
  };
}

class GuardedDriver implements Driver {
  // Kysely hands our wrapped connections back to the driver; the driver needs its own objects.
  readonly #inner = new WeakMap<DatabaseConnection, DatabaseConnection>();
  readonly #outer = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly driver: Driver,
    private readonly guard: DriverGuard,
  ) {}

  init() {
    return this.#call(() => this.driver.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.guard.closed) {
      const name = this.guard.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
      throw new StoreError(`The ${name} store ${this.guard.location} is closed: this client was closed. Open a new one.`, { reason: 'closed', dialect: this.guard.dialect });
    }
    const inner = await this.#call(() => this.driver.acquireConnection());
    let outer = this.#outer.get(inner);
    if (!outer) {
      outer = {
        executeQuery: <R>(query: CompiledQuery) => this.#execute<R>(inner, query),
        streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => inner.streamQuery<R>(query, chunkSize),
      };
      this.#outer.set(inner, outer);
      this.#inner.set(outer, inner);
    }
    return outer;
  }
  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings) {
    return this.#call(() => this.driver.beginTransaction(this.#unwrap(conn), settings));
  }
  commitTransaction(conn: DatabaseConnection) {
    return this.#call(() => this.driver.commitTransaction(this.#unwrap(conn)));
  }
  rollbackTransaction(conn: DatabaseConnection) {
    return this.#call(() => this.driver.rollbackTransaction(this.#unwrap(conn)));
  }
  releaseConnection(conn: DatabaseConnection) {
    return this.#call(() => this.driver.releaseConnection(this.#unwrap(conn)));
  }
  destroy() {
    return this.#call(() => this.driver.destroy());
  }

  #unwrap(conn: DatabaseConnection): DatabaseConnection {
    return this.#inner.get(conn) ?? conn;
  }
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, this.guard);
    }
  }
  #execute<R>(conn: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    const { canRetryBusy } = this.guard;
    return retryWhileBusy(
      () => conn.executeQuery<R>(query),
      this.guard,
      canRetryBusy ? () => canRetryBusy(query.sql) : () => false,
    );
  }
}

/**
 * A store URL without its passwords, for messages. The password ends at the last '@' before the host (as URL parsing
 * and pg read it, so a raw '@' inside it stays hidden), and pg also takes `?password=` and `?sslpassword=`.
 */
export function redactStoreUrl(url: string): string {
  return url
    .replace(/^([^/?#]*\/\/[^:@/?#]*):[^/?#]*@/, '$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/** Marks the store closed (later calls fail with STORE_ERROR 'closed'), then closes its database once. */
export async function closeOnce(guard: DriverGuard, close: () => unknown): Promise<void> {
  if (guard.closed) return;
  guard.closed = true;
  try {
    await close();
  } catch (err) {
    throw toStoreError(err, guard);
  }
}

/**
 * Runs fn, and again with growing, jittered pauses while it fails with a busy store and `mayRetry()` allows it, up to
 * guard.busyTimeoutMs in all. Any other failure, or the bound, becomes a StoreError.
 */
export async function retryWhileBusy<T>(fn: () => T | Promise<T>, guard: DriverGuard, mayRetry: () => boolean = () => true): Promise<T> {
  let deadline = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (reasonOf(err, guard.dialect).reason !== 'busy' || !mayRetry()) throw toStoreError(err, guard);
      const now = Date.now();
      deadline ||= now + guard.busyTimeoutMs;
      if (now >= deadline) throw busyError(err, guard);
      // 2 ms doubling to 50 ms, with jitter so that waiting processes do not retry in lockstep.
      const pause = Math.min(50, 2 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, deadline - now)));
    }
  }
}

function busyError(err: unknown, guard: DriverGuard): StoreError {
  const seconds = Math.round(guard.busyTimeoutMs / 100) / 10;
  return new StoreError(
    `The ${guard.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} store ${guard.location} is busy: another process kept it locked for more than ${seconds} s. ` +
      `Try again; if it stays busy, look for a process holding it (a long import, a stuck CLI).`,
    { reason: 'busy', dialect: guard.dialect, driverCode: codeOf(err) },
    { cause: err },
  );
}

/** Any error from the driver (or Kysely over it) as a StoreError; DuctapeErrors pass through unchanged. */
export function toStoreError(err: unknown, guard: Pick<DriverGuard, 'dialect' | 'location'> & { busyTimeoutMs?: number }): DuctapeError {
  if (err instanceof DuctapeError) return err;
  const { reason, hint } = reasonOf(err, guard.dialect);
  if (reason === 'busy' && guard.dialect === 'sqlite' && guard.busyTimeoutMs !== undefined) return busyError(err, guard as DriverGuard);
  const name = guard.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const code = codeOf(err);
  const message = (err as Error)?.message ?? String(err);
  return new StoreError(`The ${name} store ${guard.location} failed${code ? ` (${code})` : ''}: ${message}.${hint ? ` ${hint}` : ''}`, { reason, dialect: guard.dialect, driverCode: code }, { cause: err });
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Driver codes → reason. SQLite: result code names; PostgreSQL: SQLSTATE classes (appendix A) and Node socket errors. */
function reasonOf(err: unknown, dialect: 'sqlite' | 'postgres'): { reason: StoreErrorReason; hint?: string } {
  const code = codeOf(err) ?? '';
  if (dialect === 'sqlite') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { reason: 'busy' };
    if (code.startsWith('SQLITE_READONLY')) return { reason: 'read_only', hint: 'Check that this process may write the file and its folder.' };
    if (code === 'SQLITE_FULL') return { reason: 'full', hint: 'The disk is full.' };
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return { reason: 'corrupt', hint: 'Restore the file from a backup.' };
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR')) return { reason: 'unreachable', hint: 'Check the path and its permissions.' };
    return { reason: 'failed' };
  }
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN)$/.test(code) || /^(08|57P)/.test(code) || /Connection terminated|timeout exceeded when trying to connect/i.test((err as Error)?.message ?? '')) {
    return { reason: 'unreachable', hint: 'Check that the PostgreSQL server runs and that the store URL is right.' };
  }
  if (code === '53300' || code === '40001' || code === '40P01' || code === '55P03') return { reason: 'busy' };
  if (code === '25006') return { reason: 'read_only', hint: 'The server is read-only (a standby?); point the store at the primary.' };
  if (code === '53100') return { reason: 'full', hint: 'The database server is out of disk space.' };
  if (code === 'XX001' || code === 'XX002') return { reason: 'corrupt' };
  if (code === '28P01' || code === '28000' || code === '3D000') return { reason: 'unreachable', hint: 'Check the user, password and database name in the store URL.' };
  return { reason: 'failed' };
}
