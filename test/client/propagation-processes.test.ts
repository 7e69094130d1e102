// Issue 10 (item 5), API.md §6: what one process changes, the others honour. Three real processes share one store and
// one Redis: a definition, secret or session revocation is in force for every run that starts more than 1 s after
// the call that made it resolved, and caches.clear for every run that starts after it resolved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { hasPostgres, startPostgresServer } from '../helpers/postgres-server.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startWorkers, type RunOutcome, type Worker } from '../helpers/worker.js';

const KEY = 'propagation-key-0123456789abcdef';
/** API.md §6: the bound for definitions, secrets and revocations. */
const BOUND_MS = 1_000;

interface Backend {
  store: string;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'ductape-propagation-'));
  return { store: `sqlite:${join(dir, 'ws.db')}`, close: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresBackend(): Promise<Backend> {
  const server = await startPostgresServer();
  return { store: server.url, close: () => server.stop() };
}

const noRedis = hasRedisServer ? false : 'redis-server is not installed';
const backends: { name: string; skip: string | false; make: () => Backend | Promise<Backend> }[] = [
  { name: 'SQLite file + Redis', skip: noRedis, make: sqliteBackend },
  { name: 'PostgreSQL + Redis', skip: noRedis || (hasPostgres ? false : 'PostgreSQL 15 is not installed'), make: postgresBackend },
];

interface Answer {
  n: number;
  url: string;
  authorization: string | undefined;
}

for (const { name, skip, make } of backends) {
  describe.skipIf(skip)(`change propagation across 3 processes (${name}${skip ? `: skipped, ${skip}` : ''})`, () => {
    let backend: Backend;
    let redis: RedisServer;
    let upstream: Upstream;
    let workers: Worker[] = [];
    let a: Worker, b: Worker, c: Worker;
    let served = 0;

    const list = { env: 'prd', product: 'shop', app: 'api', event: 'list' };
    /** One run in each of `ws`, all starting at `at`. */
    const runEach = async (ws: Worker[], input: Record<string, unknown>, at: number) =>
      (await Promise.all(ws.map((w) => w.runMany(1, input, at)))).map(([r]) => r);
    const answerOf = (r: RunOutcome): Answer => {
      expect(r.error).toBeUndefined();
      return r.data as Answer;
    };

    beforeAll(async () => {
      backend = await make();
      redis = await startRedisServer();
      upstream = await startUpstream((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ n: ++served, url: req.url, authorization: req.headers.authorization }));
      });
      const store = backend.store;
      const setup = new Ductape({ workspace_id: 'acme', private_key: KEY, store, revision_poll_ms: 0 });
      await setup.apps.create({ tag: 'api', name: 'API' });
      await setup.apps.actions.create({ app: 'api', event: 'list', method: 'GET', path: '/items' });
      await setup.apps.envs.upsert({ app: 'api', slug: 'prd', base_url: `${upstream.url}/v1` });
      await setup.products.create({ tag: 'shop', envs: ['prd'] });
      await setup.products.apps.connect({ product: 'shop', app: 'api' });
      await setup.secrets.set({ key: 'API_TOKEN', value: 'tok_one', envs: ['prd'] });
      await setup.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', auth: { type: 'bearer', token: '$Secret{API_TOKEN}' } });
      await setup.products.sessions.create({
        product: 'shop',
        tag: 'user',
        schema: { type: 'object', required: ['user'], properties: { user: { type: 'object', required: ['id'] } } },
        selector: '$Session{user}{id}',
        expiry: 3600,
      });
      await setup.products.caches.create({ product: 'shop', tag: 'items', expiry: 60_000 });
      await setup.close();
      // Every process as deployed: default revision_poll_ms, the shared Redis cache.
      workers = await startWorkers(3, { workspace_id: 'acme', user_id: 'ops@acme.test', private_key: KEY, store, cache: redis.url });
      [a, b, c] = workers;
      // Warm: B and C have compiled plans and cached secret values that the changes below must replace.
      for (const r of await runEach([b, c], list, Date.now())) expect(answerOf(r)).toMatchObject({ url: '/v1/items', authorization: 'Bearer tok_one' });
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await upstream?.close();
      await redis?.stop();
      await backend?.close();
    });

    it('uses a definition changed in one process in the next runs of the others, 1 s later', async () => {
      await a.call('apps.envs.upsert', { app: 'api', slug: 'prd', base_url: `${upstream.url}/v2` });
      const at = Date.now() + BOUND_MS;
      for (const r of await runEach([b, c], list, at)) expect(answerOf(r).url).toBe('/v2/items');
    });

    it('sends a secret changed in one process from the others, 1 s later', async () => {
      await a.call('secrets.set', { key: 'API_TOKEN', value: 'tok_two', envs: ['prd'] });
      const at = Date.now() + BOUND_MS;
      for (const r of await runEach([b, c], list, at)) expect(answerOf(r).authorization).toBe('Bearer tok_two');
    });

    it('refuses a session revoked in one process in the others, 1 s later', async () => {
      const { token, sessionId } = await a.call<{ token: string; sessionId: string }>('sessions.start', {
        product: 'shop', env: 'prd', tag: 'user', data: { user: { id: 'u42' } },
      });
      const withSession = { ...list, session: { tag: 'user', token } };
      for (const r of await runEach([b, c], withSession, Date.now())) expect(r.ok).toBe(true);
      await a.call('sessions.revoke', { product: 'shop', env: 'prd', tag: 'user', sessionId });
      const at = Date.now() + BOUND_MS;
      for (const r of await runEach([b, c], withSession, at)) expect(r.error?.code).toBe('SESSION_INVALID');
    });

    it('makes the other processes miss once caches.clear resolved in one (Redis)', async () => {
      const cached = { ...list, cache: 'items' };
      const [first] = await b.runMany(1, cached);
      const filled = answerOf(first);
      for (const r of await runEach([b, c], cached, Date.now())) {
        expect(r.cached).toBe(true);
        expect(answerOf(r).n).toBe(filled.n);
      }
      const before = served;
      await a.call('caches.clear', { product: 'shop', tag: 'items' });
      // No wait: a Redis cache is cleared for every run that starts after the call resolved.
      for (const r of await runEach([b, c], cached, Date.now())) expect(answerOf(r).n).toBeGreaterThan(before);
    });
  });
}
