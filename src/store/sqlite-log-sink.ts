// Run logs into SQLite without blocking the event loop: busy processes hand batches to a worker thread with its own
// connection (as pino hands log lines to a transport thread); small batches (a CLI run) are written in place.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { LOG_COLUMNS } from './sql-store.js';

const INSERT_SQL = `INSERT INTO run_logs (${LOG_COLUMNS.join(', ')}) VALUES (${LOG_COLUMNS.map(() => '?').join(', ')})`;

/** Batches at least this large go to the worker; smaller ones are cheaper to write than to hand over. */
export const WORKER_BATCH_ROWS = 32;

export interface LogSink {
  /** Writes rows; resolves when they are committed. Returns false when the rows must take the ordinary path. */
  write(rows: unknown[][]): boolean | Promise<boolean>;
  close(): Promise<void>;
}

// The worker is plain CommonJS evaluated from this string, so it runs the same from src (tsx) and dist (tsup).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const stmt = db.prepare(workerData.sql);
const insertAll = db.transaction((rows) => { for (const row of rows) stmt.run(row); });
parentPort.on('message', (msg) => {
  if (msg === 'close') { db.close(); parentPort.close(); return; }
  try { insertAll(JSON.parse(msg.json)); parentPort.postMessage({ id: msg.id }); }
  catch (err) { parentPort.postMessage({ id: msg.id, error: String(err && err.message || err) }); }
});
`;

export function createSqliteLogSink(database: Database.Database, file: string): LogSink {
  const stmt = database.prepare(INSERT_SQL);
  const insertHere = database.transaction((rows: unknown[][]) => {
    for (const row of rows) stmt.run(row);
  });

  // ':memory:' databases cannot be shared with another connection: everything is written in place there.
  const canOffload = file !== ':memory:';
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (ok: boolean) => void; reject: (err: Error) => void }>();

  const startWorker = (): Worker => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, sql: INSERT_SQL, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    w.on('message', (msg: { id: number; error?: string }) => {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`run log writer: ${msg.error}`));
      else p?.resolve(true);
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      worker = undefined;
    });
    // An idle worker must not keep the process alive; pending writes keep it referenced (see write()).
    w.unref();
    return w;
  };

  return {
    write(rows) {
      if (canOffload && rows.length >= WORKER_BATCH_ROWS) {
        worker ??= startWorker();
        const id = nextId++;
        const w = worker;
        w.ref();
        return new Promise<boolean>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          // One string per batch: cloning a string is a copy, cloning 200 arrays is 3,200 values walked twice.
          w.postMessage({ id, json: JSON.stringify(rows) });
        }).finally(() => {
          if (pending.size === 0) w.unref();
        });
      }
      // In place, but never inside an open Kysely transaction: the rows would join it (and vanish with a rollback).
      if (database.inTransaction) return false;
      insertHere(rows);
      return true;
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (!w) return;
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      w.postMessage('close');
      await exited;
    },
  };
}
