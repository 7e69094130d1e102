// SQLite run-log segments written by a worker thread that owns its own connection to the store file, so that a
// batch's INSERT (statement, WAL append, the occasional checkpoint) never runs on the event loop that serves runs.
// The segment's JSON is still built by the caller: handing a string to a thread is one copy, while handing it the
// entries (a structured clone of every object) would cost more than encoding them.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { RunLogEntry } from '../../model/run-log.js';
import { segmentRow } from './segments.js';

// Plain CommonJS evaluated in the thread: the same code whether Ductape runs from its bundle or from sources.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
// Blocking here blocks only this thread: wait for other processes' writers as long as the store allows.
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = NORMAL');
const insert = db.prepare('insert into run_log_segments (workspace_id, first_time, last_time, count, rows) values (?, ?, ?, ?, ?)');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try {
    insert.run(m.ws, m.first, m.last, m.count, m.rows);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err), code: err && err.code });
  }
});
`;

export interface SegmentThread {
  insert(ws: string, entries: RunLogEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** Started on the first insert (a CLI command that logs nothing starts no thread). */
export function createSegmentThread(file: string, busyTimeoutMs: number): SegmentThread {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let exited: Promise<void> | undefined;

  const start = (): Worker => {
    const w = new Worker(THREAD, { eval: true, workerData: { file, busyTimeoutMs, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
    w.on('message', (m: { id: number; error?: string; code?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      // Only a write in flight keeps the process alive (as a write on the main thread would have).
      if (pending.size === 0) w.unref();
      if (m.error === undefined) p.resolve();
      else p.reject(Object.assign(new Error(m.error), { code: m.code }));
    });
    const fail = (err: Error) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      worker = undefined;
    };
    w.on('error', fail);
    exited = new Promise((r) => w.once('exit', () => (fail(new Error('the run-log thread stopped')), r())));
    w.unref();
    return w;
  };

  return {
    insert(ws, entries) {
      const row = segmentRow(ws, entries);
      const w = (worker ??= start());
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, ws, first: row.first_time, last: row.last_time, count: row.count, rows: row.rows });
      });
    },
    async close() {
      const w = worker;
      if (!w) return;
      worker = undefined;
      // Messages are handled in order: every insert sent before this one is committed first.
      w.postMessage('close');
      w.ref();
      await exited;
    },
  };
}
