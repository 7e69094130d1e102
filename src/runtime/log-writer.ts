// Writes run logs off the hot path: entries are queued and appended as one segment per batch; close() flushes the rest.
import { DuctapeError } from '../errors.js';
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

/**
 * A batch the store refused for a reason that passes (busy, unreachable: StoreError.retryable) is written again this
 * long after, with the runs logged meanwhile; at most MAX_HELD runs wait so, the oldest go first past that.
 */
const RETRY_MS = 1000;
const MAX_HELD = 50 * DEFAULTS.logBatchSize;

/** @param retentionDays logs_retention_days: runs older than this are deleted; 0 keeps them forever. */
export function createLogWriter(store: Store, workspace: string, onError: (err: unknown) => void, retentionDays = 0): LogWriter {
  let queue: RunLogEntry[] = [];
  let prunedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closing = false;
  let closed = false;
  /** The store refused the last write and its runs are held: warn once per such spell, not on every try. */
  let failing = false;

  const schedule = (ms: number) => {
    if (timer) return;
    timer = setTimeout(flush, ms);
    timer.unref();
  };

  // A busy SQLite file (a long import in another process) or a PostgreSQL failover used to cost every run of the
  // batch its log row: "every run is recorded" (API.md §5) holds through them, within MAX_HELD runs.
  const failed = (batch: RunLogEntry[], err: unknown) => {
    const passes = err instanceof DuctapeError && err.details.retryable === true;
    if (!passes || closing) {
      failing = false;
      onError(err);
      return;
    }
    if (!failing) onError(err);
    failing = true;
    queue = batch.concat(queue);
    if (queue.length > MAX_HELD) {
      const dropped = queue.length - MAX_HELD;
      queue = queue.slice(dropped);
      onError(new Error(`${dropped} run log rows were dropped: the store has refused writes for a while, and at most ${MAX_HELD} rows wait for it.`));
    }
    schedule(RETRY_MS);
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0) return writing;
    const batch = queue;
    queue = [];
    // Chain writes so segments land in order and never overlap.
    writing = writing.then(() => store.insertLogs(workspace, batch)).then(
      () => void (failing = false),
      (err: unknown) => failed(batch, err),
    );
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
      if (queue.length >= DEFAULTS.logBatchSize && !failing) void flush();
      else schedule(DEFAULTS.logFlushMs);
    },
    flush,
    async close() {
      // The last write gets one try: a closing client keeps nothing for later.
      closing = true;
      await flush();
      closed = true;
    },
  };
}
