// Rate limits shared through Redis: two real processes on one redis-server never exceed the limit together.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInWindow, startTimedUpstream, type TimedUpstream } from '../helpers/arrivals.js';
import type { Ductape } from '../../src/index.js';
import type { RateLimitDef } from '../../src/model/rate-limit.js';
import { RedisLimiterStore } from '../../src/runtime/limits/redis.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { refusedPort } from '../helpers/ports.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const CHILD = fileURLToPath(new URL('../helpers/limit-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function child(env: Record<string, string>): Promise<{ ok: number; failed: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

/** App `api` (GET /items as list_items) limited by `limit`, connected to `product`; returns list_items' run input. */
async function defineLimited(d: Ductape, upstreamUrl: string, product: string, limit: RateLimitDef) {
  await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: upstreamUrl }], rate_limit: limit });
  await d.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
  await d.products.create({ tag: product, envs: ['prd'] });
  await d.products.apps.connect({ product, app: 'api' });
  return { env: 'prd', product, app: 'api', event: 'list_items' };
}

if (!hasRedisServer) {
  describe('shared rate limits', () => {
    it.skip('needs redis-server on PATH (apt-get install -y redis-server); skipped', () => {});
  });
} else {
  let redis: RedisServer;
  let up: TimedUpstream;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('shared rate limits', () => {
    it('2 processes on one Redis together never exceed the limit', async () => {
      up = await startTimedUpstream(5);
      try {
        const env = { REDIS_URL: redis.url, UPSTREAM_URL: up.url, RUNS: '15', LIMIT: JSON.stringify({ requests: 5, per_ms: 1000, concurrency: 3 }), START_AT: String(Date.now() + 3000) };
        const [a, b] = await Promise.all([child(env), child(env)]);
        expect(a).toEqual({ ok: 15, failed: [] });
        expect(b).toEqual({ ok: 15, failed: [] });
        expect(up.arrivals).toHaveLength(30);
        expect(maxInWindow(up.arrivals, 1000)).toBeLessThanOrEqual(5);
        expect(up.maxInFlight()).toBeLessThanOrEqual(3);
      } finally {
        await up.close();
      }
    }, 90_000);

    it("holds a concurrency slot for as long as its own attempt may last, not the connection's first run's timeout", async () => {
      // A slot in Redis lapses after its lease (the attempt's timeout + 5 s), so that a dead process frees it. The lease
      // was fixed by the first run of the connection: after a run with a 1 s timeout, a 20 s upload's slot lapsed at 6 s.
      up = await startTimedUpstream(0, (req, res) => {
        if (!req.url.includes('slow')) return false;
        setTimeout(() => res.end('{}'), 6500);
        return true;
      });
      const d = newClient({ cache: redis.url });
      try {
        const input = await defineLimited(d, up.url, 'leases', { concurrency: 1 });
        await d.apps.actions.create({ app: 'api', event: 'upload', method: 'GET', path: '/slow' });
        // 1 s, not less: a first request on a loaded CI machine may take a few hundred ms. The lease it would fix (6 s)
        // still lapses before the upload's answer (6.5 s), so the old behaviour still fails this test.
        await d.actions.run({ ...input, event: 'list_items', timeout: 1000 });
        const upload = d.actions.run({ ...input, event: 'upload', timeout: 20_000 });
        await new Promise((r) => setTimeout(r, 200));
        await d.actions.run({ ...input, event: 'list_items' });
        await upload;
        // The third request may only arrive once the upload (6.5 s) has been answered.
        expect(up.arrivals[2] - up.arrivals[1]).toBeGreaterThanOrEqual(6400);
      } finally {
        await d.close();
        await up.close();
      }
    }, 30_000);

    it('a Redis that stops answering for a while leaves no slot taken once it answers again', async () => {
      // Takes that timed out (Redis frozen) still ran when it woke up and held their slots until their leases ended
      // (35 s): every run of the connection, in every process, was then refused although nothing was in flight.
      up = await startTimedUpstream();
      const d = newClient({ cache: redis.url });
      try {
        const input = await defineLimited(d, up.url, 'frozen', { requests: 50, per_ms: 1000, concurrency: 2, max_wait_ms: 2000 });
        await d.actions.run(input);
        redis.pause();
        try {
          // Each run waits for Redis's answer (500 ms), then limits in this process.
          await Promise.all([d.actions.run(input), d.actions.run(input), d.actions.run(input)]);
        } finally {
          redis.resume();
        }
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 3; i++) await Promise.all([d.actions.run(input), d.actions.run(input)]);
        expect(up.arrivals).toHaveLength(10);
      } finally {
        await d.close();
        await up.close();
      }
    }, 30_000);

    it('a frozen Redis does not make runs queue behind its timeouts into RATE_LIMITED', async () => {
      // Each take waited its 500 ms command timeout, one after another: 20 runs under a limit of 1000 a second took
      // 10 s, and those past max_wait_ms were refused. After one failure, takes now skip Redis for a second.
      up = await startTimedUpstream();
      const d = newClient({ cache: redis.url });
      try {
        const input = await defineLimited(d, up.url, 'frozen-queue', { requests: 1000, per_ms: 1000, max_wait_ms: 3000 });
        await d.actions.run(input);
        redis.pause();
        let results: PromiseSettledResult<unknown>[];
        try {
          results = await Promise.allSettled(Array.from({ length: 20 }, () => d.actions.run(input)));
        } finally {
          redis.resume();
        }
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      } finally {
        await d.close();
        await up.close();
      }
    }, 30_000);

    it('a 429 seen by one client pauses another client on the same Redis', async () => {
      up = await startTimedUpstream(0, (_req, res, n) => {
        if (n !== 1) return false;
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
        return true;
      });
      const a = newClient({ cache: redis.url });
      const b = newClient({ cache: redis.url });
      try {
        for (const d of [a, b]) {
          await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }], rate_limit: { requests: 100, per_ms: 1000 } });
          await d.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
          await d.products.create({ tag: 'paused', envs: ['prd'] });
          await d.products.apps.connect({ product: 'paused', app: 'api' });
        }
        const input = { env: 'prd', product: 'paused', app: 'api', event: 'list_items' };
        expect((await errorOf(a.actions.run(input))).code).toBe('RATE_LIMITED');
        await new Promise((r) => setTimeout(r, 50)); // the pause is written to Redis after the answer
        await b.actions.run(input);
        expect(up.arrivals[1] - up.arrivals[0]).toBeGreaterThanOrEqual(900);
      } finally {
        await a.close();
        await b.close();
        await up.close();
      }
    });

    it('leaves no connection open when closed while its connection to Redis is still being made', async () => {
      // node-redis's destroy() during the connect left the socket it was opening, which connected afterwards and kept
      // the process alive (as it did for the response cache: test/cache/redis.test.ts).
      const raw = createClient({ url: redis.url });
      await raw.connect();
      try {
        const count = async () => String(await raw.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
        const before = await count();
        for (let i = 0; i < 5; i++) await new RedisLimiterStore(redis.url, () => {}).close();
        // Long enough for a socket that was still opening to connect and say HELLO.
        await new Promise((r) => setTimeout(r, 500));
        expect(await count()).toBe(before);
      } finally {
        await raw.close();
      }
    });
  });
}

describe('shared rate limits without Redis', () => {
  it('each process limits on its own, without waiting for an unreachable Redis on every run', async () => {
    const up = await startTimedUpstream();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const d = newClient({ cache: `redis://127.0.0.1:${await refusedPort()}` });
    try {
      await d.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }], rate_limit: { requests: 3, per_ms: 60_000, max_wait_ms: 0 } });
      // max_wait_ms: 0 bounds the wait for a slot, not the time to ask: the first run waits for the 1 s connection
      // attempt and still gets its free slot; the fourth is refused at once (its wait, 60 s, is longer than 0).
      await d.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
      await d.products.create({ tag: 'shop', envs: ['prd'] });
      await d.products.apps.connect({ product: 'shop', app: 'api' });
      const input = { env: 'prd', product: 'shop', app: 'api', event: 'list_items' };
      const started = performance.now();
      for (let i = 0; i < 3; i++) await d.actions.run(input);
      expect((await errorOf(d.actions.run(input))).code).toBe('RATE_LIMITED');
      // One bounded wait for the first connection attempt (1 s), not one per run.
      expect(performance.now() - started).toBeLessThan(3000);
      expect(up.arrivals).toHaveLength(3);
      expect(warnings.some((w) => /rate limits/.test(w))).toBe(true);
    } finally {
      process.off('warning', onWarning);
      await d.close();
      await up.close();
    }
  });
});
