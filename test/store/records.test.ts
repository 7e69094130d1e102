// Store.replaceRecordIf: compare-and-set on a record (what session refresh and revoke rely on, #11).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

describe('Store.replaceRecordIf (SQLite)', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
  });
  afterEach(async () => store.close());

  it('writes only while the record still holds what the caller read', async () => {
    await store.putRecord('ws', 'k', 'a', { v: 1, list: ['x'], nested: { s: 'é \u2028' } }, { ref: 'r', expiresAt: 5 });
    const read = (await store.getRecord<Record<string, unknown>>('ws', 'k', 'a'))!;
    expect(await store.replaceRecordIf('ws', 'k', 'a', read.data, { ...read.data, v: 2 }, { ref: 'r', expiresAt: 6 })).toBe(true);
    // A second writer holding the same (now stale) read loses.
    expect(await store.replaceRecordIf('ws', 'k', 'a', read.data, { ...read.data, v: 3 })).toBe(false);
    expect(await store.getRecord('ws', 'k', 'a')).toEqual({ key: 'a', ref: 'r', data: { ...read.data, v: 2 }, expiresAt: 6 });
  });

  it('does not create a missing record', async () => {
    expect(await store.replaceRecordIf('ws', 'k', 'none', {}, { v: 1 })).toBe(false);
    expect(await store.getRecord('ws', 'k', 'none')).toBeUndefined();
  });
});
