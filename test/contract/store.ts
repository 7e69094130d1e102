// The behaviour every Store implementation shares; run by test/store/sqlite.test.ts and test/store/postgres.test.ts.
import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import type { ActionDef } from '../../src/model/action.js';
import type { AppDef, ProductDef } from '../../src/model/app.js';
import type { RunLogEntry } from '../../src/model/run-log.js';
import type { Store } from '../../src/store/store.js';

export interface StoreContractOptions {
  /** Two calls of makeStore open the same data (a file, a database): cross-connection guarantees are tested too. */
  shared?: boolean;
}

const app = (tag: string, over: Partial<AppDef> = {}): AppDef => ({ tag, name: `App ${tag}`, envs: [{ slug: 'prd', base_url: 'http://127.0.0.1:1' }], ...over }) as AppDef;
const action = (event: string, over: Partial<ActionDef> = {}): ActionDef => ({ event, method: 'GET', path: `/${event}`, parameters: [], ...over }) as ActionDef;
const product = (tag: string, over: Partial<ProductDef> = {}): ProductDef => ({ tag, envs: ['prd', 'dev'], connections: { api: { app: 'api' } }, ...over });

export const logEntry = (i: number, over: Partial<RunLogEntry> = {}): RunLogEntry => ({
  startedAt: Date.UTC(2026, 0, 1, 0, 0, i),
  actor: 'tester',
  product: i % 3 === 0 ? 'crm' : 'shop',
  env: 'prd',
  app: 'api',
  event: i % 2 ? 'odd' : 'even',
  status: i % 5 === 0 ? 500 : 200,
  ok: i % 5 !== 0,
  attempts: 1,
  cached: i % 7 === 0,
  durationMs: 1.5,
  errorCode: i % 5 === 0 ? 'UPSTREAM_ERROR' : undefined,
  errorMessage: i % 5 === 0 ? 'api.x answered HTTP 500' : undefined,
  method: 'GET',
  url: `http://127.0.0.1/x/${i}?api_key=k${i}`,
  contentType: 'application/json',
  ...over,
});
// Runs are identified by their url's last segment in these tests.
const ids = (rows: { request: { url: string } | null }[]) => rows.map((r) => Number(/\/x\/(\d+)/.exec(r.request!.url)![1]));

async function rejection(p: Promise<unknown>): Promise<DuctapeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(DuctapeError);
  return err as DuctapeError;
}

export function storeContract(name: string, makeStore: () => Promise<Store>, options: StoreContractOptions = {}): void {
  describe(`${name} (store contract)`, () => {
    async function open(): Promise<Store> {
      const store = await makeStore();
      onTestFinished(() => store.close());
      return store;
    }
    // Each test works in its own workspace, so a shared backend (one database) cannot leak between tests.
    const newWs = () => `ws-${randomUUID()}`;

    describe('workspaces', () => {
      it('creates a workspace once, keeps its key check, and counts revisions', async () => {
        const store = await open();
        const ws = newWs();
        expect(await store.getWorkspace(ws)).toBeUndefined();
        expect(await store.getRevision(ws)).toBe(0);
        await store.createWorkspace(ws, 'check-1');
        await store.createWorkspace(ws, 'check-2'); // a second create (another process) changes nothing
        expect(await store.getWorkspace(ws)).toEqual({ id: ws, keyCheck: 'check-1', revision: 0 });
        await store.setKeyCheck(ws, 'check-3');
        await store.bumpRevision(ws);
        await store.bumpRevision(ws);
        expect(await store.getWorkspace(ws)).toEqual({ id: ws, keyCheck: 'check-3', revision: 2 });
        expect(await store.getRevision(ws)).toBe(2);
      });
    });

    describe('apps and actions', () => {
      it('stores, lists in byte order, replaces and deletes apps', async () => {
        const store = await open();
        const ws = newWs();
        const tags = ['b', 'a_b', 'a-b', 'aB', 'ab', 'Z', 'é'];
        for (const t of tags) await store.putApp(ws, app(t));
        expect((await store.listApps(ws)).map((a) => a.tag)).toEqual([...tags].sort());
        await store.putApp(ws, app('b', { name: 'Renamed', constants: { n: 1, nested: { ok: true } } }));
        expect(await store.getApp(ws, 'b')).toEqual(app('b', { name: 'Renamed', constants: { n: 1, nested: { ok: true } } }));
        expect(await store.getApp(ws, 'nope')).toBeUndefined();
        expect(await store.getApp(newWs(), 'b')).toBeUndefined();
        expect(await store.deleteApp(ws, 'b')).toBe(true);
        expect(await store.deleteApp(ws, 'b')).toBe(false);
        expect(await store.listApps(ws)).toHaveLength(tags.length - 1);
      });

      it('keeps an app\u2019s shared schemas apart from it, large ones too', async () => {
        const store = await open();
        const ws = newWs();
        await store.putApp(ws, app('stripe'));
        expect(await store.getComponents(ws, 'stripe')).toBeUndefined();
        const schemas = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`S${i}`, { type: 'object', description: 'x'.repeat(300) + '\u00e9\u{1F600}' }]));
        await store.putComponents(ws, 'stripe', { schemas });
        expect(await store.getComponents(ws, 'stripe')).toEqual({ schemas });
        // Replacing the app keeps them; clearing removes them.
        await store.putApp(ws, app('stripe', { name: 'Stripe' }));
        expect(Object.keys(((await store.getComponents(ws, 'stripe')) as { schemas: object }).schemas)).toHaveLength(3000);
        await store.putComponents(ws, 'stripe', undefined);
        expect(await store.getComponents(ws, 'stripe')).toBeUndefined();
      });

      it('stores actions per app, lists them by event, and deletes them with their app', async () => {
        const store = await open();
        const ws = newWs();
        await store.putApp(ws, app('api'));
        await store.putApp(ws, app('other'));
        for (const e of ['list_users', 'create_user', 'get_user']) await store.putAction(ws, 'api', action(e, { source: `op:${e}` } as Partial<ActionDef>));
        await store.putAction(ws, 'other', action('ping'));
        expect(await store.listEvents(ws, 'api')).toEqual(['create_user', 'get_user', 'list_users']);
        expect((await store.listActions(ws, 'api')).map((a) => a.event)).toEqual(['create_user', 'get_user', 'list_users']);
        expect(await store.getAction(ws, 'api', 'get_user')).toEqual(action('get_user', { source: 'op:get_user' } as Partial<ActionDef>));
        await store.putAction(ws, 'api', action('get_user', { method: 'POST' }));
        expect((await store.getAction(ws, 'api', 'get_user'))?.method).toBe('POST');
        expect(await store.getAction(ws, 'other', 'get_user')).toBeUndefined();
        expect(await store.deleteAction(ws, 'api', 'list_users')).toBe(true);
        expect(await store.deleteAction(ws, 'api', 'list_users')).toBe(false);
        expect(await store.deleteApp(ws, 'api')).toBe(true);
        expect(await store.listActions(ws, 'api')).toEqual([]);
        expect(await store.listEvents(ws, 'other')).toEqual(['ping']);
      });

      it('writes many actions at once, replacing the ones that exist (more than one statement holds)', async () => {
        const store = await open();
        const ws = newWs();
        await store.putApp(ws, app('big'));
        await store.putAction(ws, 'big', action('e0000', { method: 'DELETE' }));
        const events = Array.from({ length: 450 }, (_, i) => `e${String(i).padStart(4, '0')}`);
        await store.putActions(ws, 'big', events.map((e) => action(e, { source: `op:${e}` } as Partial<ActionDef>)));
        expect(await store.listEvents(ws, 'big')).toEqual(events);
        expect(await store.getAction(ws, 'big', 'e0000')).toEqual(action('e0000', { source: 'op:e0000' } as Partial<ActionDef>));
        await store.putActions(ws, 'big', []);
        expect(await store.listEvents(ws, 'big')).toHaveLength(450);
      });
    });

    describe('products and connections', () => {
      it('stores products and deletes their connections with them', async () => {
        const store = await open();
        const ws = newWs();
        await store.putProduct(ws, product('shop'));
        await store.putProduct(ws, product('crm', { caches: { users: { expiry_ms: 1000 } } }));
        expect((await store.listProducts(ws)).map((p) => p.tag)).toEqual(['crm', 'shop']);
        expect(await store.getProduct(ws, 'crm')).toEqual(product('crm', { caches: { users: { expiry_ms: 1000 } } }));
        await store.putConnection(ws, 'shop', 'prd', 'api', { config: { base_url: 'http://127.0.0.1:9' }, credentials: 'sealed-1' });
        await store.putConnection(ws, 'crm', 'prd', 'api', { config: {}, credentials: null });
        expect(await store.deleteProduct(ws, 'shop')).toBe(true);
        expect(await store.deleteProduct(ws, 'shop')).toBe(false);
        expect(await store.getConnection(ws, 'shop', 'prd', 'api')).toBeUndefined();
        expect(await store.listConnections(ws)).toHaveLength(1);
      });

      it('stores connections per (product, env, access tag), with sealed credentials beside the config', async () => {
        const store = await open();
        const ws = newWs();
        await store.putConnection(ws, 'shop', 'prd', 'stripe', { config: { base_url: 'http://127.0.0.1:9', headers: { 'x-a': '1' } }, credentials: 'sealed-1' });
        await store.putConnection(ws, 'shop', 'dev', 'stripe', { config: {}, credentials: null });
        await store.putConnection(ws, 'shop', 'prd', 'mail', { config: { variables: { n: 1 } }, credentials: 'sealed-2' });
        await store.putConnection(ws, 'crm', 'prd', 'stripe', { config: {}, credentials: null });
        expect(await store.getConnection(ws, 'shop', 'prd', 'stripe')).toEqual({ config: { base_url: 'http://127.0.0.1:9', headers: { 'x-a': '1' } }, credentials: 'sealed-1' });
        expect(await store.getConnection(ws, 'shop', 'prd', 'none')).toBeUndefined();
        await store.putConnection(ws, 'shop', 'prd', 'stripe', { config: { base_url: 'http://127.0.0.1:8' }, credentials: null });
        expect(await store.getConnection(ws, 'shop', 'prd', 'stripe')).toEqual({ config: { base_url: 'http://127.0.0.1:8' }, credentials: null });
        const listed = (await store.listConnections(ws, 'shop')).map((c) => `${c.product}/${c.env}/${c.accessTag}`);
        expect(listed).toEqual(['shop/dev/stripe', 'shop/prd/mail', 'shop/prd/stripe']);
        expect(await store.listConnections(ws)).toHaveLength(4);
        await store.deleteConnections(ws, 'shop', 'stripe');
        expect((await store.listConnections(ws, 'shop')).map((c) => c.accessTag)).toEqual(['mail']);
        await store.deleteConnections(ws, 'shop');
        expect(await store.listConnections(ws, 'shop')).toEqual([]);
        expect(await store.listConnections(ws, 'crm')).toHaveLength(1);
      });
    });

    describe('records', () => {
      it('stores records by kind and key, with a ref and an expiry, and replaces them', async () => {
        const store = await open();
        const ws = newWs();
        await store.putRecord(ws, 'secret', 'API_KEY', { sealed: 'x' }, { ref: 'prd', expiresAt: 1_900_000_000_000 });
        expect(await store.getRecord(ws, 'secret', 'API_KEY')).toEqual({ key: 'API_KEY', ref: 'prd', data: { sealed: 'x' }, expiresAt: 1_900_000_000_000 });
        expect(await store.getRecord(ws, 'session', 'API_KEY')).toBeUndefined();
        await store.putRecord(ws, 'secret', 'API_KEY', [1, 'two', null]);
        expect(await store.getRecord(ws, 'secret', 'API_KEY')).toEqual({ key: 'API_KEY', ref: null, data: [1, 'two', null], expiresAt: null });
        expect(await store.deleteRecord(ws, 'secret', 'API_KEY')).toBe(true);
        expect(await store.deleteRecord(ws, 'secret', 'API_KEY')).toBe(false);
      });

      it('deletes the expired records of one kind in one call, and nothing else', async () => {
        const store = await open();
        const ws = newWs();
        await store.putRecord(ws, 'revoked', 'old', 1, { expiresAt: 1_000 });
        await store.putRecord(ws, 'revoked', 'edge', 1, { expiresAt: 2_000 });
        await store.putRecord(ws, 'revoked', 'young', 1, { expiresAt: 3_000 });
        await store.putRecord(ws, 'revoked', 'forever', 1);
        await store.putRecord(ws, 'other', 'old', 1, { expiresAt: 1_000 });
        expect(await store.deleteExpiredRecords(ws, 'revoked', 2_000)).toBe(2);
        expect((await store.listRecords(ws, 'revoked')).map((r) => r.key)).toEqual(['forever', 'young']);
        expect(await store.getRecord(ws, 'other', 'old')).toBeDefined();
        expect(await store.deleteExpiredRecords(newWs(), 'revoked', 2_000)).toBe(0);
      });

      it('lists records by literal prefix (% and _ mean nothing) and by ref, in key order', async () => {
        const store = await open();
        const ws = newWs();
        for (const key of ['a:2', 'a:1', 'a%:1', 'a_:1', 'ab', 'a:', 'b:1']) await store.putRecord(ws, 'k', key, key, { ref: key.startsWith('a:') ? 'r1' : 'r2' });
        await store.putRecord(ws, 'other', 'a:3', 'x');
        expect((await store.listRecords(ws, 'k', { prefix: 'a:' })).map((r) => r.key)).toEqual(['a:', 'a:1', 'a:2']);
        expect((await store.listRecords(ws, 'k', { prefix: 'a%' })).map((r) => r.key)).toEqual(['a%:1']);
        expect((await store.listRecords(ws, 'k', { prefix: 'a_' })).map((r) => r.key)).toEqual(['a_:1']);
        expect((await store.listRecords(ws, 'k', { ref: 'r2' })).map((r) => r.key)).toEqual(['a%:1', 'a_:1', 'ab', 'b:1']);
        expect((await store.listRecords(ws, 'k', { prefix: 'a', ref: 'r1' })).map((r) => r.key)).toEqual(['a:', 'a:1', 'a:2']);
        expect(await store.listRecords(ws, 'k')).toHaveLength(7);
      });

      it('takes a record exactly once when many callers race for it', async () => {
        const [a, b] = options.shared ? [await open(), await open()] : [await open(), undefined];
        const ws = newWs();
        await a.putRecord(ws, 'refresh', 'tok', { user: 1 }, { expiresAt: 5 });
        const takers = Array.from({ length: 12 }, (_, i) => ((i % 2 && b) || a).takeRecord(ws, 'refresh', 'tok'));
        const won = (await Promise.all(takers)).filter(Boolean);
        expect(won).toEqual([{ key: 'tok', ref: null, data: { user: 1 }, expiresAt: 5 }]);
        expect(await a.getRecord(ws, 'refresh', 'tok')).toBeUndefined();
      });

      it('#11: replaces a record only while it holds what the caller read (compare-and-set), racing writers included', async () => {
        const [a, b] = options.shared ? [await open(), await open()] : [await open(), undefined];
        const ws = newWs();
        const first = { v: 0, list: ['x'], text: 'é \u2028 "q"' };
        await a.putRecord(ws, 'session', 's', first, { ref: 'r', expiresAt: 5 });
        expect(await a.replaceRecordIf(ws, 'session', 'missing', {}, { v: 1 })).toBe(false);
        expect(await a.getRecord(ws, 'session', 'missing')).toBeUndefined();
        // Twelve writers read the same row and each tries to move it on: exactly one wins.
        const read = (await a.getRecord<typeof first>(ws, 'session', 's'))!.data;
        const writers = Array.from({ length: 12 }, (_, i) => ((i % 2 && b) || a).replaceRecordIf(ws, 'session', 's', read, { ...read, v: i + 1 }, { ref: 'r', expiresAt: 6 }));
        const wins = (await Promise.all(writers)).filter(Boolean);
        expect(wins).toHaveLength(1);
        const after = (await a.getRecord<typeof first>(ws, 'session', 's'))!;
        expect(after).toMatchObject({ ref: 'r', expiresAt: 6, data: { list: ['x'], text: first.text } });
        expect(after.data.v).toBeGreaterThan(0);
        expect(await a.replaceRecordIf(ws, 'session', 's', read, { ...read, v: 99 })).toBe(false);
      });
    });

    describe('run logs', () => {
      it('returns the newest runs first across many batches, limited', async () => {
        const store = await open();
        const ws = newWs();
        for (let s = 0; s < 50; s++) await store.insertLogs(ws, Array.from({ length: 20 }, (_, i) => logEntry(s * 20 + i)));
        await store.insertLogs(ws, []);
        const newest = await store.queryLogs(ws, { limit: 5 });
        expect(ids(newest)).toEqual([999, 998, 997, 996, 995]);
        expect(new Set(newest.map((r) => r.id)).size).toBe(5);
        expect(await store.queryLogs(ws, { limit: 5000 })).toHaveLength(1000);
        expect(await store.queryLogs(ws, {})).toHaveLength(100);
        expect(await store.queryLogs(newWs(), {})).toEqual([]);
      });

      it('orders runs by start time even when a later batch holds an older run', async () => {
        const store = await open();
        const ws = newWs();
        // A slow run started at t=5 ends (and is flushed) after runs that started at t=6..9.
        await store.insertLogs(ws, [logEntry(6), logEntry(7), logEntry(8), logEntry(9)]);
        await store.insertLogs(ws, [logEntry(5), logEntry(10)]);
        await store.insertLogs(ws, [logEntry(1), logEntry(2)]);
        expect(ids(await store.queryLogs(ws, { limit: 3 }))).toEqual([10, 9, 8]);
        expect(ids(await store.queryLogs(ws, { limit: 6 })).slice(-2)).toEqual([6, 5]);
      });

      it('filters by product, app, event, status and since, and returns every field', async () => {
        const store = await open();
        const ws = newWs();
        for (let s = 0; s < 10; s++) await store.insertLogs(ws, Array.from({ length: 10 }, (_, i) => logEntry(s * 10 + i)));
        await store.insertLogs(ws, [logEntry(100, { app: 'mail', event: 'send', product: 'crm', status: 200, ok: true, errorCode: undefined, owner: 'user-1', waitMs: 12.5 })]);
        const all = Array.from({ length: 100 }, (_, i) => logEntry(i));
        const count = (f: (r: RunLogEntry) => boolean) => all.filter(f).length;
        expect(await store.queryLogs(ws, { product: 'shop', limit: 1000 })).toHaveLength(count((r) => r.product === 'shop'));
        expect(await store.queryLogs(ws, { event: 'odd', status: 'error', limit: 1000 })).toHaveLength(count((r) => r.event === 'odd' && !r.ok));
        expect(await store.queryLogs(ws, { status: 500, limit: 1000 })).toHaveLength(20);
        expect(await store.queryLogs(ws, { status: 'ok', limit: 1000 })).toHaveLength(81);
        expect(ids(await store.queryLogs(ws, { app: 'mail' }))).toEqual([100]);
        expect(ids(await store.queryLogs(ws, { app: 'mail', event: 'odd' }))).toEqual([]);
        expect(await store.queryLogs(ws, { owner: 'user-1' })).toEqual([expect.objectContaining({ owner: 'user-1', app: 'mail', waitMs: 12.5 })]);
        expect(await store.queryLogs(ws, { owner: 'user-2' })).toEqual([]);
        const since = new Date(Date.UTC(2026, 0, 1, 0, 1, 30)); // second 90
        const recent = await store.queryLogs(ws, { since, limit: 1000 });
        expect(recent).toHaveLength(11);
        expect(ids(recent).at(-1)).toBe(90);
        expect(await store.queryLogs(ws, { since: since.toISOString(), limit: 1000 })).toHaveLength(11);
        // A time without a zone is UTC, whatever the process's zone (JavaScript alone would read it as local time).
        const tz = process.env.TZ;
        process.env.TZ = 'America/New_York';
        try {
          expect(await store.queryLogs(ws, { since: '2026-01-01T00:01:30', limit: 1000 })).toHaveLength(11);
          expect(await store.queryLogs(ws, { since: '2026-01-01 00:01:30.000', limit: 1000 })).toHaveLength(11);
        } finally {
          if (tz === undefined) delete process.env.TZ;
          else process.env.TZ = tz;
        }
        // Query API keys are redacted when stored.
        expect(recent[1]).toMatchObject({
          time: '2026-01-01T00:01:39.000Z',
          actor: 'tester',
          product: 'crm',
          env: 'prd',
          app: 'api',
          event: 'odd',
          status: 200,
          ok: true,
          cached: false,
          attempts: 1,
          durationMs: 1.5,
          errorCode: null,
          owner: null,
          waitMs: 0,
          request: { method: 'GET', url: 'http://127.0.0.1/x/99?api_key=[REDACTED]' },
          response: { status: 200, contentType: 'application/json' },
        });
        expect(recent.find((r) => ids([r])[0] === 91)?.cached).toBe(true);
        const failed = await store.queryLogs(ws, { status: 'error', limit: 1 });
        expect(failed[0]).toMatchObject({ ok: false, status: 500, errorCode: 'UPSTREAM_ERROR', response: { error: 'api.x answered HTTP 500' } });
      });

      it('prunes runs older than the retention cutoff and keeps every younger one', async () => {
        const store = await open();
        const ws = newWs();
        const other = newWs();
        for (let s = 0; s < 10; s++) await store.insertLogs(ws, Array.from({ length: 10 }, (_, i) => logEntry(s * 10 + i)));
        await store.insertLogs(other, [logEntry(1)]);
        const cutoff = new Date(Date.UTC(2026, 0, 1, 0, 0, 50));
        expect(await store.pruneLogs(ws, cutoff)).toBeGreaterThan(0);
        const left = ids(await store.queryLogs(ws, { limit: 1000 }));
        // Nothing at or after the cutoff is lost (SQLite prunes whole batches, so a few older runs may remain).
        for (let i = 50; i < 100; i++) expect(left).toContain(i);
        expect(left.length).toBeLessThanOrEqual(60);
        expect(await store.pruneLogs(ws, new Date(Date.UTC(2027, 0, 1)))).toBeGreaterThan(0);
        expect(await store.queryLogs(ws, {})).toEqual([]);
        expect(await store.queryLogs(other, {})).toHaveLength(1);
      });
    });

    describe('transactions', () => {
      it('commits everything written inside a transaction', async () => {
        const store = await open();
        const ws = newWs();
        await store.createWorkspace(ws, 'c');
        const out = await store.transaction(async (tx) => {
          await tx.putApp(ws, app('api'));
          await tx.putAction(ws, 'api', action('ping'));
          await tx.bumpRevision(ws);
          return 'done';
        });
        expect(out).toBe('done');
        expect(await store.getAction(ws, 'api', 'ping')).toBeDefined();
        expect(await store.getRevision(ws)).toBe(1);
      });

      it('rolls back every kind of write when the transaction throws, and rethrows the same error', async () => {
        const store = await open();
        const ws = newWs();
        await store.createWorkspace(ws, 'c');
        await store.putApp(ws, app('api'));
        await store.putAction(ws, 'api', action('keep'));
        await store.putRecord(ws, 'k', 'taken', 1);
        const boom = new Error('boom');
        const err = await store
          .transaction(async (tx) => {
            await tx.putApp(ws, app('api', { name: 'Changed' }));
            await tx.putComponents(ws, 'api', { schemas: { A: {} } });
            await tx.putAction(ws, 'api', action('new'));
            await tx.deleteAction(ws, 'api', 'keep');
            await tx.putProduct(ws, product('shop'));
            await tx.putConnection(ws, 'shop', 'prd', 'api', { config: {}, credentials: 'x' });
            await tx.putRecord(ws, 'k', 'new', 2);
            await tx.takeRecord(ws, 'k', 'taken');
            await tx.bumpRevision(ws);
            await tx.setKeyCheck(ws, 'other');
            // A nested transaction joins the outer one: its writes go with it.
            await tx.transaction(async (inner) => inner.putRecord(ws, 'k', 'nested', 3));
            expect(await tx.getAction(ws, 'api', 'new')).toBeDefined(); // reads see the transaction's own writes
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(await store.getApp(ws, 'api')).toEqual(app('api'));
        expect(await store.getComponents(ws, 'api')).toBeUndefined();
        expect(await store.listEvents(ws, 'api')).toEqual(['keep']);
        expect(await store.listProducts(ws)).toEqual([]);
        expect(await store.listConnections(ws)).toEqual([]);
        expect((await store.listRecords(ws, 'k')).map((r) => r.key)).toEqual(['taken']);
        expect(await store.getWorkspace(ws)).toEqual({ id: ws, keyCheck: 'c', revision: 0 });
        // The store is still usable afterwards.
        await store.transaction((tx) => tx.putRecord(ws, 'k', 'after', 4));
        expect(await store.getRecord(ws, 'k', 'after')).toBeDefined();
      });

      it('never loses an update when read-modify-write transactions run at once', async () => {
        const stores = options.shared ? [await open(), await open()] : [await open()];
        const ws = newWs();
        await stores[0].putRecord(ws, 'counter', 'n', 0);
        await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            stores[i % stores.length].transaction(async (tx) => {
              const n = (await tx.getRecord<number>(ws, 'counter', 'n'))!.data;
              await new Promise((r) => setTimeout(r, 1)); // give the others every chance to interleave
              await tx.putRecord(ws, 'counter', 'n', n + 1);
            }),
          ),
        );
        expect((await stores[0].getRecord<number>(ws, 'counter', 'n'))!.data).toBe(24);
      });

      it('counts every concurrent revision bump and workspace create', async () => {
        const stores = options.shared ? [await open(), await open()] : [await open()];
        const ws = newWs();
        await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % stores.length].createWorkspace(ws, `c${i}`)));
        await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length].bumpRevision(ws)));
        expect(await stores[0].getRevision(ws)).toBe(20);
      });
    });

    describe('leases', () => {
      it('lets one holder at a time hold a lease, across connections, and frees it when the holder throws', async () => {
        const stores = options.shared ? [await open(), await open()] : [await open()];
        const ws = newWs();
        let holders = 0;
        let most = 0;
        const order: number[] = [];
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            stores[i % stores.length].withLease(ws, 'oauth2:conn', { waitMs: 30_000 }, async () => {
              most = Math.max(most, ++holders);
              await new Promise((r) => setTimeout(r, 15));
              holders--;
              order.push(i);
              return i;
            }),
          ),
        );
        expect(results).toEqual([0, 1, 2, 3, 4, 5]);
        expect(most).toBe(1);
        expect(order).toHaveLength(6);
        // Another name is not held up by this one.
        expect(await stores[0].withLease(ws, 'other', { waitMs: 1_000 }, async () => 'free')).toBe('free');
        const boom = new Error('boom');
        expect(await stores[0].withLease(ws, 'oauth2:conn', { waitMs: 5_000 }, async () => Promise.reject(boom)).catch((e: unknown) => e)).toBe(boom);
        expect(await stores[stores.length - 1].withLease(ws, 'oauth2:conn', { waitMs: 5_000 }, async () => 'again')).toBe('again');
      });
    });

    describe('errors', () => {
      it('fails with STORE_ERROR, never a raw driver error, once closed', async () => {
        const store = await makeStore();
        await store.close();
        const err = await rejection(store.getApp(newWs(), 'api'));
        expect(err.code).toBe('STORE_ERROR');
        expect(err.message).toMatch(/store/);
      });
    });
  });
}
