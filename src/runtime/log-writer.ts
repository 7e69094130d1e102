// Writes run logs off the hot path: entries are queued and appended as one segment per batch; close() flushes the rest.
import type { RunLogEntry } from '../model/run-log.js';
import { DEFAULTS } from '../options.js';
import type { Store } from '../store/store.js';

export interface LogWriter {
  push(entry: RunLogEntry): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Retention is enforced after a flush, at most once an hour per process: pruning is a store write, never per run. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** @param retentionDays logs_retention_days: runs older than this are deleted; 0 keeps them forever. */
export function createLogWriter(store: Store, workspace: string, onError: (err: unknown) => void, retentionDays = 0): LogWriter {
  let queue: RunLogEntry[] = [];
  let prunedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0) return writing;
    const batch = queue;
    queue = [];
    // Chain writes so segments land in order and never overlap.
    writing = writing.then(() => store.insertLogs(workspace, batch)).catch(onError);
    const now = Date.now();
    if (retentionDays > 0 && now - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = now;
      writing = writing.then(() => store.pruneLogs(workspace, new Date(now - retentionDays * 86_400_000))).then(() => {}, onError);
    }
    return writing;
  };

  return {
    push(entry) {
      if (closed) return;
      queue.push(entry);
      if (queue.length >= DEFAULTS.logBatchSize) void flush();
      else if (!timer) {
        timer = setTimeout(flush, DEFAULTS.logFlushMs);
        timer.unref();
      }
    },
    flush,
    async close() {
      await flush();
      closed = true;
    },
  };
}
