// Product caches through ductape.actions.run, against the in-memory store and a real redis-server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { DuctapeError, Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { json, startFaultServer, type FaultServer, type FaultServerOptions } from '../helpers/fault-server.js';
import { refusedPort } from '../helpers/ports.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { errorOf as failure } from '../helpers/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let workspaceSeq = 0;


/** The upstream answers with how many requests it has seen, so a cached answer is recognisable. */
const counting: FaultServerOptions['handler'] = (req, n) =>
  json(200, { n, url: req.url, auth: req.headers.authorization ?? null, body: req.text || null });

async function define(d: Ductape, baseUrl: string): Promise<void> {
  await d.apps.create({ tag: 'products-api', envs: [{ slug: 'prd', base_url: baseUrl }] });
  await d.apps.actions.create({
    app: 'products-api',
    event: 'list_products',
    method: 'GET',
    path: '/products',
    schemas: { query: { type: 'object', properties: { category: { type: 'string' }, limit: { type: 'integer' }, page: { type: 'integer' } } } },
  });
  await d.apps.actions.create({ app: 'products-api', event: 'get_user_stats', method: 'GET', path: '/users/{userId}/stats' });
  await d.apps.actions.create({ app: 'products-api', event: 'search', method: 'POST', path: '/search', schemas: { body: { type: 'object' } } });
  await d.apps.actions.create({ app: 'products-api', event: 'download', method: 'GET', path: '/file' });
  await d.products.create({ tag: 'catalog', envs: ['prd'] });
  await d.products.apps.connect({ product: 'catalog', app: 'products-api' });
  await d.products.caches.create({ product: 'catalog', tag: 'products-list', expiry: 60_000 });
  await d.products.caches.create({ product: 'catalog', tag: 'short', expiry: 300 });
  await d.products.sessions.create({
    product: 'catalog',
    tag: 'user-session',
    schema: { type: 'object', required: ['user'], properties: { user: { type: 'object', required: ['id'] } } },
    selector: '$Session{user}{id}',
    expiry: 3600,
  });
}

const run = { env: 'prd', product: 'catalog', app: 'products-api' } as const;
const listArgs = (query: Record<string, unknown> = { category: 'electronics' }, cache = 'products-list') => ({
  ...run,
  event: 'list_products',
  input: { query },
  cache,
});

function cacheSuite(name: string, cacheUrl: () => string): void {
  describe(`cache stage (${name})`, () => {
    let server: FaultServer;
    let ductape: Ductape;
    // A fresh workspace per test: a shared Redis must not carry one test's entries into the next.
    const open = (workspace: string) => newClient({ cache: cacheUrl(), workspace_id: workspace });

    beforeEach(async () => {
      server = await startFaultServer({ handler: counting });
      ductape = open(`ws-${name}-${++workspaceSeq}`);
      await define(ductape, server.url);
    });
    afterEach(async () => {
      await ductape.close();
      await server.close();
    });

    it('answers the second identical run from the cache, with cached: true and no attempts', async () => {
      const first = await ductape.actions.execute(listArgs());
      const second = await ductape.actions.execute(listArgs());
      expect(first).toMatchObject({ status: 200, cached: false, attempts: 1 });
      expect(second).toMatchObject({ status: 200, cached: true, attempts: 0, data: first.data });
      expect(await ductape.actions.run(listArgs())).toEqual(first.data);
      expect(server.count).toBe(1);
    });

    it('makes exactly one upstream call for 1,000 concurrent identical runs', async () => {
      server = await startFaultServer({ fallback: { headersDelayMs: 100, body: { items: [1, 2, 3] } } });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const results = await Promise.all(Array.from({ length: 1_000 }, () => ductape.actions.execute(listArgs({ category: 'toys', limit: 10, page: 2 }))));
      expect(server.count).toBe(1);
      expect(results.every((r) => r.status === 200 && JSON.stringify(r.data) === '{"items":[1,2,3]}')).toBe(true);
      expect(results.filter((r) => !r.cached)).toHaveLength(1);
    });

    it('bounds a run waiting for an identical miss by its own timeout.run, and the shared call still serves the others', async () => {
      // A waiter used to wait as long as the leader's call took (up to its 30 s attempt timeout), past its own deadline.
      server = await startFaultServer({ handler: (_req, n) => ({ ...json(200, { n }), headersDelayMs: 600 }) });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const leader = ductape.actions.execute(listArgs());
      while (server.count === 0) await sleep(5);
      const started = Date.now();
      const waiter = await failure(ductape.actions.execute({ ...listArgs(), timeout: { run: 150 } }));
      expect(Date.now() - started).toBeLessThan(500);
      expect(waiter).toMatchObject({ code: 'TIMEOUT', deadline: true, timeoutMs: 150, attempts: 0 });
      expect(waiter.message).toMatch(/identical request another run is sending \(cache "products-list"\)/);
      expect(await leader).toMatchObject({ cached: false, data: { n: 0 } });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true, data: { n: 0 } });
      expect(server.count).toBe(1);
    });

    it('makes its own call when the shared call ends at its leader’s timeout.run, which is not this run’s', async () => {
      // A run with no deadline used to fail with "did not finish within the run's deadline of 200 ms (timeout.run)".
      server = await startFaultServer({ handler: (_req, n) => ({ ...json(200, { n }), headersDelayMs: 400 }) });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const leader = failure(ductape.actions.execute({ ...listArgs(), timeout: { run: 200 } }));
      while (server.count === 0) await sleep(5);
      const waiters = await Promise.all([1, 2].map(() => ductape.actions.execute(listArgs())));
      expect(await leader).toMatchObject({ code: 'TIMEOUT', deadline: true });
      expect(waiters.map((w) => w.data)).toEqual([{ n: 1 }, { n: 1 }]);
      expect(waiters.filter((w) => !w.cached)).toHaveLength(1);
      expect(server.count).toBe(2);
    });

    it('does not hand a run the failure of a shared call made under other retries or timeouts', async () => {
      // A waiter with retries: 3 got the leader's first 503 (the leader had no retries); one with a 30 s timeout got
      // the TIMEOUT of a leader's 100 ms one.
      server = await startFaultServer({
        handler: (req, n) =>
          n === 0 ? { status: 503, headersDelayMs: 300, body: { n } } : { ...json(200, { n }), headersDelayMs: req.url.includes('category=x') ? 400 : 0 },
      });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const leader = failure(ductape.actions.execute(listArgs()));
      while (server.count === 0) await sleep(5);
      const patient = await ductape.actions.execute({ ...listArgs(), retries: 3 });
      expect(patient).toMatchObject({ status: 200, cached: false, data: { n: 1 } });
      expect(await leader).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503 });

      await ductape.caches.clear({ product: 'catalog' });
      const hasty = failure(ductape.actions.execute({ ...listArgs({ category: 'x' }), timeout: 100 }));
      while (server.count === 2) await sleep(5);
      const slow = await ductape.actions.execute({ ...listArgs({ category: 'x' }), timeout: 5_000 });
      expect(await hasty).toMatchObject({ code: 'TIMEOUT' });
      expect(slow).toMatchObject({ status: 200, cached: false });
      // Runs with the same options still share one call.
      const same = await Promise.all([1, 2, 3].map(() => ductape.actions.execute({ ...listArgs({ category: 'y' }), retries: 2 })));
      expect(same.filter((r) => !r.cached)).toHaveLength(1);
    });

    it('shares an entry between runs whose query differs only in order, not between different queries', async () => {
      await ductape.actions.run(listArgs({ category: 'books', limit: 5 }));
      await ductape.actions.run(listArgs({ limit: 5, category: 'books' }));
      expect(server.count).toBe(1);
      await ductape.actions.run(listArgs({ category: 'books', limit: 6 }));
      await ductape.actions.run(listArgs({ category: 'games', limit: 5 }));
      expect(server.count).toBe(3);
    });

    it('never shares an entry between two sessions whose resolved requests differ', async () => {
      const start = (id: string) => ductape.sessions.start({ product: 'catalog', env: 'prd', tag: 'user-session', data: { user: { id } } });
      const stats = (token: string) =>
        ductape.actions.execute<{ url: string }>({
          ...run,
          event: 'get_user_stats',
          input: { params: { userId: '$Session{user}{id}' } },
          session: { tag: 'user-session', token },
          cache: 'products-list',
        });
      const [alice, bob, aliceAgain] = await Promise.all([start('42'), start('7'), start('42')]);
      const a = await stats(alice.token);
      const b = await stats(bob.token);
      expect(a.data.url).toBe('/users/42/stats');
      expect(b.data.url).toBe('/users/7/stats');
      expect(b.cached).toBe(false);
      expect(server.count).toBe(2);
      // A second session of the same user resolves to the same request, and so may share the entry.
      expect(await stats(aliceAgain.token)).toMatchObject({ cached: true, data: { url: '/users/42/stats' } });
    });

    it('never shares an entry between different credentials, and never stores them in the key', async () => {
      const configure = (token: string) =>
        ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', auth: { type: 'bearer', token } });
      await configure('tok-alice-0001');
      const a = await ductape.actions.execute<{ auth: string }>(listArgs());
      await configure('tok-bob-000002');
      const b = await ductape.actions.execute<{ auth: string }>(listArgs());
      expect([a.data.auth, b.data.auth]).toEqual(['Bearer tok-alice-0001', 'Bearer tok-bob-000002']);
      expect(b.cached).toBe(false);
      await configure('tok-alice-0001');
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true, data: { auth: 'Bearer tok-alice-0001' } });
      expect(server.count).toBe(2);
    });

    it('keys POST bodies: the same body shares an entry, another body does not', async () => {
      const search = (body: Record<string, unknown>) => ductape.actions.execute({ ...run, event: 'search', input: { body }, cache: 'products-list' });
      await search({ q: 'lamp' });
      expect(await search({ q: 'lamp' })).toMatchObject({ cached: true });
      expect(await search({ q: 'desk' })).toMatchObject({ cached: false, data: { body: '{"q":"desk"}' } });
      expect(server.count).toBe(2);
    });

    it('never caches a 500: the next run calls the upstream again', async () => {
      server = await startFaultServer({ script: [{ status: 500, body: { error: 'boom' } }], fallback: json(200, { ok: true }) });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      expect(await failure(ductape.actions.run(listArgs()))).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500 });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: false, data: { ok: true } });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true });
      expect(server.count).toBe(2);
    });

    it('shares one failing call among concurrent misses without storing the failure', async () => {
      server = await startFaultServer({ script: [{ status: 502, headersDelayMs: 100, body: { error: 'bad gateway' } }], fallback: json(200, { ok: true }) });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const settled = await Promise.allSettled(Array.from({ length: 50 }, () => ductape.actions.run(listArgs())));
      expect(settled.every((s) => s.status === 'rejected' && (s.reason as DuctapeError).code === 'UPSTREAM_ERROR')).toBe(true);
      expect(server.count).toBe(1);
      expect(await ductape.actions.run(listArgs())).toEqual({ ok: true });
      expect(server.count).toBe(2);
    });

    it('forgets an entry after the cache expiry', async () => {
      await ductape.actions.run(listArgs(undefined, 'short'));
      expect(await ductape.actions.execute(listArgs(undefined, 'short'))).toMatchObject({ cached: true });
      await sleep(700);
      expect(await ductape.actions.execute(listArgs(undefined, 'short'))).toMatchObject({ cached: false });
      expect(server.count).toBe(2);
    });

    it('stops serving an entry once it is older than a shortened expiry', async () => {
      // A cache's expiry changes by recreating it (or through apply); entries stored under the old, longer expiry
      // used to be served for the rest of it.
      await ductape.actions.run(listArgs());
      await ductape.products.caches.delete({ product: 'catalog', tag: 'products-list' });
      await ductape.products.caches.create({ product: 'catalog', tag: 'products-list', expiry: 200 });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true, data: { n: 0 } });
      await sleep(300);
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: false, data: { n: 1 } });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true, data: { n: 1 } });
      expect(server.count).toBe(2);
    });

    it('serves an entry stored under the current expiry whatever this process’s clock says of its age', async () => {
      // Processes sharing Redis may disagree on the time; the store's own TTL decides for such entries.
      await ductape.actions.run(listArgs());
      const now = Date.now();
      const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 10 * 60_000);
      onTestFinished(() => clock.mockRestore());
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: true, data: { n: 0 } });
      expect(server.count).toBe(1);
    });

    it('keeps cache tags apart', async () => {
      await ductape.actions.run(listArgs(undefined, 'products-list'));
      expect(await ductape.actions.execute(listArgs(undefined, 'short'))).toMatchObject({ cached: false });
      expect(server.count).toBe(2);
    });

    it('fails with NOT_FOUND listing the product caches for an unknown tag, before calling the upstream', async () => {
      const err = await failure(ductape.actions.run(listArgs(undefined, 'product-list')));
      expect(err).toMatchObject({ code: 'NOT_FOUND', kind: 'cache' });
      expect(err.details.name).toBe('product-list');
      expect(err.details.available).toEqual(['products-list', 'short']);
      expect(err.message).toMatch(/did you mean "products-list"/);
      expect(server.count).toBe(0);
    });

    it('clears one cache with caches.clear({ product, tag }) and every cache of the product without tag', async () => {
      await ductape.actions.run(listArgs());
      await ductape.actions.run(listArgs({ category: 'x' }));
      await ductape.actions.run(listArgs(undefined, 'short'));
      expect(await ductape.caches.clear({ product: 'catalog', tag: 'products-list' })).toEqual({ cleared: 2 });
      expect(await ductape.actions.execute(listArgs())).toMatchObject({ cached: false });
      expect(await ductape.actions.execute(listArgs(undefined, 'short'))).toMatchObject({ cached: true });
      expect(await ductape.caches.clear({ product: 'catalog' })).toEqual({ cleared: 2 });
      expect(await ductape.actions.execute(listArgs(undefined, 'short'))).toMatchObject({ cached: false });
      await expect(ductape.caches.clear({ product: 'catalog', tag: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND', kind: 'cache' });
      await expect(ductape.caches.clear({ product: 'katalog' })).rejects.toMatchObject({ code: 'NOT_FOUND', kind: 'product' });
    });

    it('neither stores nor shares an answer whose request was sent before a caches.clear that resolved meanwhile', async () => {
      // The answer to a request in flight across a clear may predate what the clear was for; it used to be stored
      // after the clear, and joined by runs started after it, for the whole expiry.
      server = await startFaultServer({ handler: (_req, n) => ({ ...json(200, { n }), headersDelayMs: n === 0 ? 300 : 0 }) });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const before = ductape.actions.execute(listArgs());
      while (server.count === 0) await sleep(5);
      await ductape.caches.clear({ product: 'catalog', tag: 'products-list' });
      const after = await ductape.actions.execute(listArgs());
      expect(after).toMatchObject({ cached: false, data: { n: 1 } });
      expect(await before).toMatchObject({ cached: false, data: { n: 0 } });
      // Later runs get an answer fetched after the clear: stored (memory), or fetched again (Redis, whose epoch check
      // cannot tell which of two misses of one key an answer belongs to, so stores neither).
      const later = await ductape.actions.execute(listArgs());
      expect((later.data as { n: number }).n).toBeGreaterThanOrEqual(1);
    });

    it('hands every run its own copy of a binary body', async () => {
      server = await startFaultServer({ fallback: { status: 200, body: Uint8Array.from([1, 2, 3, 4]) } });
      onTestFinished(() => server.close());
      await ductape.products.apps.configure({ product: 'catalog', app: 'products-api', env: 'prd', base_url: server.url });
      const download = () => ductape.actions.run<Buffer>({ ...run, event: 'download', cache: 'products-list' });
      const first = await download();
      first.fill(0);
      const second = await download();
      second.fill(9);
      expect([...(await download())]).toEqual([1, 2, 3, 4]);
      expect(server.count).toBe(1);
    });

    it('records cache hits in the run log', async () => {
      await ductape.actions.run(listArgs());
      await ductape.actions.run(listArgs());
      const rows = await ductape.logs.query({ product: 'catalog' });
      expect(rows.map((r) => r.cached).sort()).toEqual([false, true]);
    });
  });
}

describe('products.caches', () => {
  it('creates, lists and deletes caches, rejecting duplicates and bad expiries', async () => {
    const d = newClient();
    onTestFinished(() => d.close());
    await d.products.create({ tag: 'catalog', envs: ['prd'] });
    expect(await d.products.caches.create({ product: 'catalog', tag: 'list', expiry: 60_000 })).toEqual({ product: 'catalog', tag: 'list', expiry: 60_000 });
    await expect(d.products.caches.create({ product: 'catalog', tag: 'list', expiry: 1 })).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
    await expect(d.products.caches.create({ product: 'catalog', tag: 'x', expiry: 0 })).rejects.toThrow(/expiry/);
    await expect(d.products.caches.create({ product: 'catalog', tag: 'x', expiry: 1.5 })).rejects.toThrow(/expiry/);
    await expect(d.products.caches.create({ product: 'nope', tag: 'x', expiry: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await d.products.caches.list({ product: 'catalog' })).toEqual([{ tag: 'list', expiry: 60_000 }]);
    expect(await d.products.caches.delete({ product: 'catalog', tag: 'list' })).toEqual({ deleted: true });
    expect(await d.products.caches.list({ product: 'catalog' })).toEqual([]);
  });
});

cacheSuite('memory', () => 'memory');

if (!hasRedisServer) {
  describe('cache stage (redis)', () => {
    it.skip('needs redis-server on PATH (apt-get install -y redis-server); skipped', () => {});
  });
} else {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  cacheSuite('redis', () => redis.url);

  describe('cache stage (redis, across processes and outages)', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    beforeEach(() => {
      warnings.length = 0;
      process.on('warning', onWarning);
    });
    afterEach(() => {
      process.off('warning', onWarning);
    });

    it('serves one client’s entry to another client sharing the Redis (two processes)', async () => {
      const server = await startFaultServer({ handler: counting });
      onTestFinished(() => server.close());
      // Clients that share a Redis share a store too (cache keys are keyed by the workspace's master key, whose salt
      // lives in the store), so both open one SQLite file, as two processes on one machine would.
      const ws = `shared-${++workspaceSeq}`;
      const dir = mkdtempSync(join(tmpdir(), 'ductape-cache-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const store = `sqlite:${join(dir, 'ws.db')}`;
      const a = newClient({ cache: redis.url, workspace_id: ws, store });
      await a.ready();
      const b = newClient({ cache: redis.url, workspace_id: ws, store });
      onTestFinished(async () => {
        await a.close();
        await b.close();
      });
      await define(a, server.url);
      const first = await a.actions.execute(listArgs());
      expect(await b.actions.execute(listArgs())).toMatchObject({ cached: true, data: first.data });
      expect(server.count).toBe(1);
    });

    it('keeps running, uncached and with one warning, when Redis is killed mid-run', async () => {
      const own = await startRedisServer();
      onTestFinished(() => own.stop());
      const server = await startFaultServer({ handler: counting });
      onTestFinished(() => server.close());
      const d = newClient({ cache: own.url, workspace_id: `outage-${++workspaceSeq}` });
      onTestFinished(() => d.close());
      await define(d, server.url);
      await d.actions.run(listArgs());
      expect(await d.actions.execute(listArgs())).toMatchObject({ cached: true });

      await own.kill();
      for (let i = 0; i < 5; i++) {
        expect(await d.actions.execute(listArgs())).toMatchObject({ status: 200, cached: false, attempts: 1 });
      }
      // Concurrent runs still coalesce in-process while Redis is away.
      await Promise.all(Array.from({ length: 20 }, () => d.actions.run(listArgs())));
      expect(server.count).toBeGreaterThanOrEqual(7);
      await sleep(10);
      expect(warnings.filter((w) => /Redis cache .* unreachable/.test(w))).toHaveLength(1);
    });

    it('runs uncached when Redis is unreachable from the start', async () => {
      const server = await startFaultServer({ handler: counting });
      onTestFinished(() => server.close());
      const d = newClient({ cache: `redis://127.0.0.1:${await refusedPort()}`, workspace_id: `down-${++workspaceSeq}` });
      onTestFinished(() => d.close());
      await define(d, server.url);
      expect(await d.actions.execute(listArgs())).toMatchObject({ status: 200, cached: false });
      expect(await d.actions.execute(listArgs())).toMatchObject({ status: 200, cached: false });
      expect(server.count).toBe(2);
    });
  });
}
