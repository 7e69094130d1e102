// The run-log writer against a real SQLite file that another connection keeps locked (API.md §5: every run is recorded).
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogWriter } from '../../src/runtime/log-writer.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { logEntry } from '../contract/store.js';

async function lockedStore() {
  const file = join(mkdtempSync(join(tmpdir(), 'ductape-logwriter-')), 'store.db');
  const store = await openSqliteStore(file, { busyTimeoutMs: 200 });
  await store.createWorkspace('acme', 'check');
  onTestFinished(() => store.close());
  // Another process's long write (an import, a stuck CLI) holds the file's write lock.
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  const release = () => {
    if (other.inTransaction) other.exec('COMMIT');
    if (other.open) other.close();
  };
  onTestFinished(release);
  return { store, release };
}

describe('run-log writer', () => {
  it('keeps a batch the busy store refused and writes it once the store is free, warning once', async () => {
    // Before: the batch was dropped with a warning ("… is busy … Try again"), and its runs were never logged.
    const { store, release } = await lockedStore();
    const errors: unknown[] = [];
    const writer = createLogWriter(store, 'acme', (err) => errors.push(err));
    for (let i = 1; i <= 3; i++) writer.push(logEntry(i));
    await writer.flush();
    writer.push(logEntry(4));
    await writer.flush();
    expect(errors).toEqual([expect.objectContaining({ code: 'STORE_ERROR', reason: 'busy' })]);
    release();
    await expect.poll(async () => (await store.queryLogs('acme', {})).length, { timeout: 5000 }).toBe(4);
    await writer.close();
    expect(errors).toHaveLength(1);
  });

  it('gives a closing writer one try: what the store refuses then is reported, not kept', async () => {
    const { store, release } = await lockedStore();
    const errors: unknown[] = [];
    const writer = createLogWriter(store, 'acme', (err) => errors.push(err));
    writer.push(logEntry(1));
    await writer.close();
    release();
    expect(errors).toEqual([expect.objectContaining({ code: 'STORE_ERROR', reason: 'busy' })]);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await store.queryLogs('acme', {})).toEqual([]);
  });
});
