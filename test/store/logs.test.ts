// Run logs stored in segments: queries return the newest matches first, across overlapping segments and filters.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { RunLogEntry } from '../../src/model/run-log.js';
import type { Store } from '../../src/store/store.js';

let store: Store;
beforeEach(async () => {
  store = await openSqliteStore(':memory:');
});
afterEach(async () => store.close());

const row = (i: number): RunLogEntry => ({
  startedAt: Date.UTC(2026, 0, 1, 0, 0, i),
  actor: 'tester',
  product: i % 3 === 0 ? 'crm' : 'shop',
  env: 'prd',
  app: 'api',
  event: i % 2 ? 'odd' : 'even',
  status: i % 5 === 0 ? 500 : 200,
  ok: i % 5 !== 0,
  attempts: 1,
  cached: false,
  durationMs: 1.5,
  errorCode: i % 5 === 0 ? 'UPSTREAM_ERROR' : undefined,
  errorMessage: i % 5 === 0 ? 'api.x answered HTTP 500' : undefined,
  method: 'GET',
  url: `http://127.0.0.1/x/${i}?api_key=k${i}`,
  contentType: 'application/json',
});
// Runs are identified by their url's last segment in these tests.
const ids = (rows: { request: { url: string } | null }[]) => rows.map((r) => Number(/\/x\/(\d+)/.exec(r.request!.url)![1]));

describe('run logs', () => {
  it('returns the newest runs first across many segments, limited', async () => {
    for (let s = 0; s < 50; s++) await store.insertLogs('acme', Array.from({ length: 20 }, (_, i) => row(s * 20 + i)));
    const newest = await store.queryLogs('acme', { limit: 5 });
    expect(ids(newest)).toEqual([999, 998, 997, 996, 995]);
    expect(new Set(newest.map((r) => r.id)).size).toBe(5);
    expect(await store.queryLogs('acme', { limit: 5000 })).toHaveLength(1000);
    expect(await store.queryLogs('other', {})).toEqual([]);
  });

  it('orders runs by start time even when a later segment holds an older run', async () => {
    // A slow run started at t=5 ends (and is flushed) after runs that started at t=6..9.
    await store.insertLogs('acme', [row(6), row(7), row(8), row(9)]);
    await store.insertLogs('acme', [row(5), row(10)]);
    await store.insertLogs('acme', [row(1), row(2)]);
    expect(ids(await store.queryLogs('acme', { limit: 3 }))).toEqual([10, 9, 8]);
    expect(ids(await store.queryLogs('acme', { limit: 6 })).slice(-2)).toEqual([6, 5]);
  });

  it('filters by product, app, event, status and since', async () => {
    for (let s = 0; s < 10; s++) await store.insertLogs('acme', Array.from({ length: 10 }, (_, i) => row(s * 10 + i)));
    const all = Array.from({ length: 100 }, (_, i) => row(i));
    const count = (f: (r: RunLogEntry) => boolean) => all.filter(f).length;
    expect(await store.queryLogs('acme', { product: 'crm', limit: 1000 })).toHaveLength(count((r) => r.product === 'crm'));
    expect(await store.queryLogs('acme', { event: 'odd', status: 'error', limit: 1000 })).toHaveLength(count((r) => r.event === 'odd' && !r.ok));
    expect(await store.queryLogs('acme', { status: 500, limit: 1000 })).toHaveLength(20);
    expect(await store.queryLogs('acme', { status: 'ok', limit: 1000 })).toHaveLength(80);
    const since = new Date(Date.UTC(2026, 0, 1, 0, 1, 30)); // second 90
    const recent = await store.queryLogs('acme', { since, limit: 1000 });
    expect(recent).toHaveLength(10);
    expect(ids(recent).at(-1)).toBe(90);
    // Query API keys are redacted when stored.
    expect(recent[0]).toMatchObject({
      time: '2026-01-01T00:01:39.000Z',
      request: { method: 'GET', url: 'http://127.0.0.1/x/99?api_key=[REDACTED]' },
      response: { status: 200, contentType: 'application/json' },
      ok: true,
      cached: false,
      actor: 'tester',
    });
    const failed = await store.queryLogs('acme', { status: 'error', limit: 1 });
    expect(failed[0]).toMatchObject({ ok: false, status: 500, errorCode: 'UPSTREAM_ERROR', response: { error: 'api.x answered HTTP 500' } });
  });
});
