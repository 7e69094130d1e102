// Writes run logs off the hot path: rows are queued and inserted in batches; close() flushes what is left.
import { DEFAULTS } from '../options.js';
import type { RunLogRow, Store } from '../store/store.js';

export interface LogWriter {
  push(row: RunLogRow): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createLogWriter(store: Store, workspace: string, onError: (err: unknown) => void): LogWriter {
  let queue: RunLogRow[] = [];
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
    // Chain writes so batches land in order and never overlap on one connection.
    writing = writing.then(() => store.insertLogs(workspace, batch)).catch(onError);
    return writing;
  };

  return {
    push(row) {
      if (closed) return;
      queue.push(row);
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
