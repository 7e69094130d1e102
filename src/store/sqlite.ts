// Opens the embedded SQLite store (better-sqlite3 through Kysely) and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../options.js';
import { closeOnce, guardDialect, retryWhileBusy, toStoreError, type DriverGuard } from './driver.js';
import { createSegmentThread } from './logs/segment-thread.js';
import { segmentLogs } from './logs/segments.js';
import type { RunLogTable } from './logs/table.js';
import { migrate } from './migrate.js';
import { SqlStore } from './sql-store.js';

export interface SqliteStoreOptions {
  /** How long a write waits for other processes' writes before failing with STORE_ERROR (reason 'busy'). @default 10000 */
  busyTimeoutMs?: number;
}

/**
 * SQLite's own busy wait blocks the thread (and so the event loop), so it is kept this short; longer waits are
 * asynchronous retries (driver.ts). 10 ms keeps every stall well under a frame of a busy server.
 */
const SQLITE_BUSY_WAIT_MS = 10;

export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqlStore> {
  const file = path === ':memory:' ? path : resolve(path);
  let database: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    database = new Database(file);
  } catch (err) {
    throw new ConfigError(`Cannot open the SQLite store at ${file}: ${(err as Error).message}`, { store: file }, { cause: err });
  }
  const guard: DriverGuard = {
    dialect: 'sqlite',
    location: file,
    busyTimeoutMs: options.busyTimeoutMs ?? DEFAULTS.storeBusyTimeoutMs,
    // A busy statement outside a transaction did nothing and may run again; so may a COMMIT (the transaction stays
    // open). Inside a transaction it may not (SQLite's advice is to roll back), which BEGIN IMMEDIATE makes rare.
    canRetryBusy: (sql) => !database.inTransaction || /^\s*commit\b/i.test(sql),
  };
  try {
    database.pragma(`busy_timeout = ${SQLITE_BUSY_WAIT_MS}`);
    // WAL lets a CLI and a server share one file (readers never wait for the writer). Switching a new file to WAL
    // takes a lock for a moment, so a second process opening the same new file may find it busy: waited for here.
    await retryWhileBusy(() => database.pragma('journal_mode = WAL'), guard);
    // In WAL mode NORMAL still survives a process crash (only a power cut may lose the last commits), and it spares
    // an fsync per commit: SQLite's own recommendation for WAL.
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw toStoreError(err, guard);
  }
  const db = new Kysely<any>({ dialect: guardDialect(new SqliteDialect({ database }), guard) });
  try {
    await migrate(db, 'sqlite');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  // A file's run logs are written by a thread with its own connection (segment-thread.ts); ':memory:' is one
  // connection's private database, so there they stay on this one.
  const thread = file === ':memory:' ? undefined : createSegmentThread(file, guard.busyTimeoutMs);
  const logs: RunLogTable = thread ? { ...segmentLogs, insert: (_db, ws, entries) => thread.insert(ws, entries).catch((err) => Promise.reject(toStoreError(err, guard))) } : segmentLogs;
  return new SqlStore('sqlite', db, {
    begin: ['begin immediate'],
    logs,
    onClose: async () => {
      await thread?.close();
      await closeOnce(guard, () => database.close());
    },
  });
}
