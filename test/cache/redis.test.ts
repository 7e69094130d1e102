import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { RedisCache } from '../../src/cache/redis.js';
import { openCache } from '../../src/cache/index.js';
import { cacheContract, entry } from '../contract/cache.js';
import { startChild } from '../helpers/node-child.js';
import { refusedPort } from '../helpers/ports.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const CLI = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

// A guard against hangs, not a timing assertion: anything that takes this long is stuck.
const HANG_MS = 5_000;
function settlesBeforeHang<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), HANG_MS))]);
}
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never became true: ${what}`);
}

if (!hasRedisServer) {
  describe('RedisCache', () => {
    it.skip('needs redis-server on PATH (apt-get install -y redis-server); skipped', () => {});
  });
} else {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  cacheContract('RedisCache', () => new RedisCache(server.url, { onWarn: () => {} }));

  describe('RedisCache', () => {
    it('keeps the ttl in Redis itself (PX) so every process sees the same expiry', async () => {
      const cache = new RedisCache(server.url, { namespace: 'ttl-test:' });
      onTestFinished(() => cache.close());
      await cache.set('k', entry('v'), { ttlMs: 30_000 });
      const raw = createClient({ url: server.url });
      await raw.connect();
      onTestFinished(() => raw.close());
      const pttl = Number(await raw.sendCommand(['PTTL', 'ttl-test:k']));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(30_000);
    });

    it('shares entries between two clients, as two processes would', async () => {
      const a = new RedisCache(server.url);
      const b = new RedisCache(server.url);
      onTestFinished(() => Promise.all([a.close(), b.close()]).then(() => undefined));
      await a.set('shared/1', entry('from a'), { ttlMs: 60_000 });
      expect(Buffer.from((await b.get('shared/1'))!.body).toString()).toBe('from a');
      expect(await b.clear('shared/')).toBe(1);
      expect(await a.get('shared/1')).toBeUndefined();
    });

    it('does not store an answer fetched before a clear made in another process (API.md §6)', async () => {
      const a = new RedisCache(server.url, { namespace: 'clear-race:' });
      const b = new RedisCache(server.url, { namespace: 'clear-race:' });
      onTestFinished(() => Promise.all([a.close(), b.close()]).then(() => undefined));
      // A run in A misses and goes upstream; meanwhile B clears; A's answer arrives afterwards.
      expect(await a.get('v1/acme/shop/items/k1')).toBeUndefined();
      await b.set('v1/acme/shop/items/k2', entry('old'), { ttlMs: 60_000 });
      expect(await b.clear('v1/acme/shop/')).toBe(1);
      await a.set('v1/acme/shop/items/k1', entry('fetched before the clear'), { ttlMs: 60_000 });
      expect(await b.get('v1/acme/shop/items/k1')).toBeUndefined();
      // The next miss sees the new epoch, and its answer is stored as usual.
      expect(await a.get('v1/acme/shop/items/k1')).toBeUndefined();
      await a.set('v1/acme/shop/items/k1', entry('fetched after'), { ttlMs: 60_000 });
      expect(Buffer.from((await b.get('v1/acme/shop/items/k1'))!.body).toString()).toBe('fetched after');
      // clearing everything keeps the epoch (it is not an entry), so earlier misses stay refused.
      expect(await a.get('v1/acme/shop/items/k3')).toBeUndefined();
      expect(await b.clear('')).toBe(1);
      await a.set('v1/acme/shop/items/k3', entry('stale'), { ttlMs: 60_000 });
      expect(await b.get('v1/acme/shop/items/k3')).toBeUndefined();
    });

    it('treats a value that is not a cache entry as a miss', async () => {
      const cache = new RedisCache(server.url, { namespace: 'foreign:' });
      onTestFinished(() => cache.close());
      const raw = createClient({ url: server.url });
      await raw.connect();
      onTestFinished(() => raw.close());
      await raw.sendCommand(['SET', 'foreign:k', 'not an entry']);
      expect(await cache.get('k')).toBeUndefined();
    });

    it('misses, ignores writes and warns once when nothing listens at the URL', async () => {
      const warnings: string[] = [];
      const cache = new RedisCache(`redis://127.0.0.1:${await refusedPort()}`, {
        connectTimeoutMs: 200,
        onWarn: (m) => warnings.push(m),
      });
      onTestFinished(() => cache.close());
      for (let i = 0; i < 5; i++) {
        await expect(settlesBeforeHang(cache.get('k'))).resolves.toBeUndefined();
        await expect(settlesBeforeHang(cache.set('k', entry('v'), { ttlMs: 1000 }))).resolves.toBeUndefined();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/unreachable; runs continue without caching/);
      await expect(cache.clear('x')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    });

    it('never puts the URL password in a warning', async () => {
      const warnings: string[] = [];
      const cache = new RedisCache(`redis://user:s3cret-pass@127.0.0.1:${await refusedPort()}`, {
        connectTimeoutMs: 200,
        onWarn: (m, d) => warnings.push(m + JSON.stringify(d)),
      });
      onTestFinished(() => cache.close());
      await cache.get('k');
      expect(warnings.join('\n')).not.toContain('s3cret-pass');
    });

    it('hides a password holding a raw @ whole, in warnings and in the unknown-cache error', async () => {
      const warnings: string[] = [];
      const cache = new RedisCache(`redis://user:s3cret@pass@127.0.0.1:${await refusedPort()}`, {
        connectTimeoutMs: 200,
        onWarn: (m, d) => warnings.push(m + JSON.stringify(d)),
      });
      onTestFinished(() => cache.close());
      await cache.get('k');
      expect(warnings.join('\n')).toMatch(/127\.0\.0\.1/);
      expect(warnings.join('\n')).not.toMatch(/s3cret|pass@/);
      expect(() => openCache('memcached://user:s3cret@pass@127.0.0.1:11211')).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/s3cret|pass@/) }));
    });

    it('misses while a hung Redis does not answer, within the command timeout', async () => {
      const own = await startRedisServer();
      onTestFinished(() => own.stop());
      const warnings: string[] = [];
      const cache = new RedisCache(own.url, { commandTimeoutMs: 200, onWarn: (m) => warnings.push(m) });
      onTestFinished(() => cache.close());
      await cache.set('k', entry('v'), { ttlMs: 60_000 });
      expect(await cache.get('k')).toBeDefined();
      own.pause();
      await expect(settlesBeforeHang(cache.get('k'))).resolves.toBeUndefined();
      await expect(settlesBeforeHang(cache.set('k2', entry('v'), { ttlMs: 60_000 }))).resolves.toBeUndefined();
      expect(warnings).toHaveLength(1);
      own.resume();
    });

    it('says why when Redis answers with an error (full at maxmemory) instead of calling it unreachable', async () => {
      // The warning said "unreachable" and the client passes on only the message, so the reason (OOM) was lost.
      const own = await startRedisServer();
      onTestFinished(() => own.stop());
      const admin = createClient({ url: own.url });
      await admin.connect();
      onTestFinished(() => admin.destroy());
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
      const warnings: string[] = [];
      const cache = new RedisCache(own.url, { onWarn: (m) => warnings.push(m) });
      onTestFinished(() => cache.close());
      await cache.set('k', entry('v'), { ttlMs: 60_000 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/answered with an error \(OOM command not allowed/);
      expect(warnings[0]).not.toMatch(/unreachable/);
      await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
      await cache.set('k', entry('v'), { ttlMs: 60_000 });
      expect(await cache.get('k')).toBeDefined();
    });

    it('fails caches.clear with NETWORK_ERROR within the command timeout while Redis hangs, and clears once it answers', async () => {
      // clear's commands were the only unbounded ones: against a paused Redis caches.clear never settled.
      const own = await startRedisServer();
      onTestFinished(() => own.stop());
      const cache = new RedisCache(own.url, { commandTimeoutMs: 200, cooldownMs: 100, onWarn: () => undefined });
      onTestFinished(() => cache.close());
      for (let i = 0; i < 1_200; i++) await cache.set(`p/${i}`, entry('v'), { ttlMs: 60_000 });
      own.pause();
      onTestFinished(() => own.resume());
      const failed = await settlesBeforeHang(cache.clear('p/').then(() => 'cleared', (e: unknown) => e));
      expect(failed).toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringMatching(/did not answer within 200 ms/) });
      own.resume();
      await new Promise((r) => setTimeout(r, 150));
      // Several SCAN pages, all swept.
      expect(await cache.clear('p/')).toBe(1_200);
      expect(await cache.get('p/7')).toBeUndefined();
    });

    it('goes on uncached when Redis is killed mid-run and caches again once it is back', async () => {
      const own = await startRedisServer();
      onTestFinished(() => own.stop());
      const warnings: string[] = [];
      const cache = new RedisCache(own.url, { maxReconnectDelayMs: 100, onWarn: (m) => warnings.push(m) });
      onTestFinished(() => cache.close());
      await cache.set('k', entry('before'), { ttlMs: 60_000 });
      expect(await cache.get('k')).toBeDefined();

      await own.kill();
      for (let i = 0; i < 20; i++) {
        await expect(settlesBeforeHang(cache.get('k'))).resolves.toBeUndefined();
        await expect(settlesBeforeHang(cache.set('k', entry('during'), { ttlMs: 60_000 }))).resolves.toBeUndefined();
      }
      expect(warnings).toHaveLength(1);

      // Same port, empty memory: the client reconnects in the background and caching resumes.
      await own.restart();
      await eventually(async () => {
        await cache.set('k', entry('after'), { ttlMs: 60_000 });
        return (await cache.get('k')) !== undefined;
      }, 'cache works after Redis restarts');
      expect(Buffer.from((await cache.get('k'))!.body).toString()).toBe('after');
    });

    it('lets a process exit once its client is closed, even when close() comes while Redis is still being connected to', async () => {
      // Before: node-redis's destroy() during the connect left the socket it was opening, which then connected and held
      // the process. Every CLI command run with DUCTAPE_CACHE=redis://… (docs/scaling.md) did its work and never exited.
      const dir = mkdtempSync(join(tmpdir(), 'ductape-redis-exit-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_PRIVATE_KEY: 'redis-exit-key-0123456789', DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}`, DUCTAPE_CACHE: server.url };
      for (const args of [['apps', 'list', '--json'], ['products', 'list', '--json']]) {
        // Killed (SIGKILL) if it has not exited by then; a finished command takes a second or two.
        const r = await startChild(CLI, args, { env, timeoutMs: 20_000 }).done;
        expect(r.signal, `ductape ${args.join(' ')} did not exit: ${r.stderr}`).toBeNull();
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual([]);
      }
    });
  });
}
