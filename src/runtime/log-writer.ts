// Writes run logs off the hot path: entries are queued, formatted and inserted in batches; close() flushes the rest.
import { randomBytes } from 'node:crypto';
import { redactUrl } from '../model/redact.js';
import { DEFAULTS } from '../options.js';
import type { RunLogRow, Store } from '../store/store.js';

/** What the log stage captures per run: primitives only, formatted when the batch is written. */
export interface PendingLog {
  product: string;
  env: string;
  app: string;
  event: string;
  startedAt: number;
  durationMs: number;
  status: number | undefined;
  attempts: number;
  cached: boolean;
  failed: boolean;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
}

export interface LogWriter {
  push(entry: PendingLog): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createLogWriter(store: Store, workspace: string, actor: string, onError: (err: unknown) => void): LogWriter {
  let queue: PendingLog[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;
  // Ids are unique per process prefix + counter: sortable, and far cheaper than a UUID per run.
  const prefix = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-`;
  let counter = 0;

  const toRow = (e: PendingLog): RunLogRow => ({
    id: prefix + (counter++).toString(36).padStart(8, '0'),
    time: new Date(e.startedAt).toISOString(),
    actor,
    product: e.product,
    env: e.env,
    app: e.app,
    event: e.event,
    status: e.status ?? null,
    ok: !e.failed,
    attempts: e.attempts,
    cached: e.cached,
    durationMs: Math.round(e.durationMs * 100) / 100,
    errorCode: e.errorCode ?? null,
    // Summaries only; redaction removes credentials from the URL (query API keys) and known secret values.
    request: e.method ? { method: e.method, url: redactUrl(e.url!) } : undefined,
    response: e.failed ? { error: e.errorMessage } : { status: e.status ?? null, contentType: e.contentType ?? null },
  });

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length === 0) return writing;
    const batch = queue;
    queue = [];
    // Chain writes so batches land in order and never overlap.
    writing = writing.then(() => store.insertLogs(workspace, batch.map(toRow))).catch(onError);
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
