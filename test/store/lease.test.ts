// Store.withLease on SQLite: one holder at a time across store handles (as across processes), bounded waits, lapsed claims.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEASE_KIND, LEASE_TTL_MS } from '../../src/store/lease.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { errorOf } from '../helpers/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Store.withLease (SQLite lease rows)', () => {
  let dir: string;
  let a: Store;
  let b: Store;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-lease-'));
    // Two handles on one file: they share nothing but the file, as two processes would.
    a = await openSqliteStore(join(dir, 'ws.db'));
    b = await openSqliteStore(join(dir, 'ws.db'));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one holder in at a time, and the next one in as soon as it is released', async () => {
    const events: string[] = [];
    const hold = (store: Store, who: string) =>
      store.withLease('acme', 'oauth-token/k1', { waitMs: 10_000 }, async () => {
        events.push(`${who} in`);
        await sleep(150);
        events.push(`${who} out`);
        return who;
      });
    const results = await Promise.all([hold(a, 'a'), hold(b, 'b'), hold(a, 'a2'), hold(b, 'b2')]);
    expect(results).toEqual(['a', 'b', 'a2', 'b2']);
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i].replace(' in', ' out'));
    expect(await a.listRecords('acme', LEASE_KIND)).toEqual([]);
  });

  it('does not make different names wait for each other', async () => {
    let inside = 0;
    let most = 0;
    const hold = (store: Store, name: string) =>
      store.withLease('acme', name, { waitMs: 5_000 }, async () => {
        most = Math.max(most, ++inside);
        await sleep(150);
        inside--;
      });
    await Promise.all([hold(a, 'one'), hold(b, 'two')]);
    expect(most).toBe(2);
  });

  it('gives up with TIMEOUT after waitMs while another holds the lease', async () => {
    let release!: () => void;
    const held = a.withLease('acme', 'k', { waitMs: 1_000 }, () => new Promise<void>((r) => (release = r)));
    await sleep(50);
    const err = await errorOf(b.withLease('acme', 'k', { waitMs: 200, what: 'the OAuth2 token of this connection' }, async () => 'never'));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('Another process is refreshing the OAuth2 token of this connection');
    expect(err.details.timeoutMs).toBe(200);
    release();
    await held;
  });

  it('releases the lease when fn throws', async () => {
    await expect(a.withLease('acme', 'k', { waitMs: 1_000 }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await b.withLease('acme', 'k', { waitMs: 100 }, async () => 'next')).toBe('next');
  });

  it('takes over a claim that lapsed (its holder died) and never deletes a claim it does not hold', async () => {
    // A dead holder's row: nobody renews it, and it expires shortly.
    await a.putRecord('acme', LEASE_KIND, 'k', {}, { ref: 'dead-holder', expiresAt: Date.now() + 300 });
    const started = Date.now();
    expect(await b.withLease('acme', 'k', { waitMs: 5_000 }, async () => 'mine')).toBe('mine');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // A claim that is not ours and not expired stays where it is.
    await a.putRecord('acme', LEASE_KIND, 'k2', {}, { ref: 'other', expiresAt: Date.now() + LEASE_TTL_MS });
    await errorOf(b.withLease('acme', 'k2', { waitMs: 50 }, async () => 'never'));
    expect((await a.getRecord('acme', LEASE_KIND, 'k2'))?.ref).toBe('other');
  });
});
