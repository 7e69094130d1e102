// Writes run logs off the hot path: entries are queued and appended as one segment per batch; close() flushes the rest.
import type { RunLogEntry } from '../model/run-log.js';
import { DEFAULTS } from '../options.js';
import type { Store } from '../store/store.js';

export interface LogWriter {
  push(entry: RunLogEntry): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createLogWriter(store: Store, workspace: string, onError: (err: unknown) => void): LogWriter {
  let queue: RunLogEntry[] = [];
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
