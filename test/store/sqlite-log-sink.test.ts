// Run logs of busy processes are written by a worker thread on its own connection; nothing is lost or reordered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunLogRow } from '../../src/store/store.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { WORKER_BATCH_ROWS } from '../../src/store/sqlite-log-sink.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-logs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const row = (i: number): RunLogRow => ({
  id: `r-${String(i).padStart(6, '0')}`,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
  actor: 'tester',
  product: 'shop',
  env: 'prd',
  app: 'api',
  event: i % 2 ? 'odd' : 'even',
  status: 200,
  ok: true,
  attempts: 1,
  cached: false,
  durationMs: 1.5,
  errorCode: null,
  request: { method: 'GET', url: `http://127.0.0.1/x/${i}` },
  response: { status: 200 },
});

describe('SQLite run-log sink', () => {
  it('writes large batches through the worker and small ones in place, all queryable', async () => {
    const store = await openSqliteStore(join(dir, 'ws.db'));
    try {
      const big = Array.from({ length: 100 }, (_, i) => row(i));
      expect(big.length).toBeGreaterThanOrEqual(WORKER_BATCH_ROWS);
      await store.insertLogs('acme', big.slice(0, 100));
      await store.insertLogs('acme', [row(100), row(101)]);
      const rows = await store.queryLogs('acme', { limit: 1000 });
      expect(rows).toHaveLength(102);
      expect(rows[0].id).toBe('r-000101'); // newest first
      expect(rows.at(-1)).toMatchObject({ id: 'r-000000', request: { method: 'GET', url: 'http://127.0.0.1/x/0' }, ok: true });
      expect(await store.queryLogs('acme', { event: 'odd', limit: 1000 })).toHaveLength(51);
    } finally {
      await store.close();
    }
  });

  it('flushes everything before close, and the file holds it for the next process', async () => {
    const file = join(dir, 'ws.db');
    const store = await openSqliteStore(file);
    const writes = Array.from({ length: 5 }, (_, k) => store.insertLogs('acme', Array.from({ length: 40 }, (_, i) => row(k * 40 + i))));
    await Promise.all(writes);
    await store.close();
    const again = await openSqliteStore(file);
    try {
      expect(await again.queryLogs('acme', { limit: 1000 })).toHaveLength(200);
    } finally {
      await again.close();
    }
  });
});
