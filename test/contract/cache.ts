// The behaviour every Cache implementation shares; run by test/cache/memory.test.ts and test/cache/redis.test.ts.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Cache, CachedResponse } from '../../src/cache/cache.js';

export function entry(body: string | Uint8Array, over: Partial<CachedResponse> = {}): CachedResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    storedAt: 1_700_000_000_000,
    ...over,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function cacheContract(name: string, makeCache: () => Promise<Cache> | Cache): void {
  describe(`${name} (cache contract)`, () => {
    async function open(): Promise<Cache> {
      const cache = await makeCache();
      onTestFinished(() => cache.close());
      return cache;
    }
    // Each test writes under its own prefix so a shared backend (one Redis) cannot leak between tests.
    let n = 0;
    const ns = () => `t${Date.now().toString(36)}-${n++}/`;

    it('misses when the key was never set', async () => {
      const cache = await open();
      expect(await cache.get(`${ns()}nothing`)).toBeUndefined();
    });

    it('returns what was set: status, headers (lists too), body bytes and storedAt', async () => {
      const cache = await open();
      const key = `${ns()}a`;
      const value = entry('{"ok":true}', { status: 203, headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] } });
      await cache.set(key, value, { ttlMs: 60_000 });
      const got = await cache.get(key);
      expect(got?.status).toBe(203);
      expect(got?.headers).toEqual(value.headers);
      expect(Buffer.from(got!.body).toString()).toBe('{"ok":true}');
      expect(got?.storedAt).toBe(value.storedAt);
      expect(got?.expiryMs).toBeUndefined();
    });

    it('keeps the expiry an entry was stored under (a hit under a since-shortened expiry is refused by its age)', async () => {
      const cache = await open();
      const key = `${ns()}x`;
      await cache.set(key, entry('v', { expiryMs: 86_400_000 }), { ttlMs: 60_000 });
      expect((await cache.get(key))?.expiryMs).toBe(86_400_000);
    });

    it('keeps every byte value and empty bodies intact', async () => {
      const cache = await open();
      const prefix = ns();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await cache.set(`${prefix}bin`, entry(all), { ttlMs: 60_000 });
      await cache.set(`${prefix}empty`, entry(new Uint8Array(0), { status: 204 }), { ttlMs: 60_000 });
      expect([...(await cache.get(`${prefix}bin`))!.body]).toEqual([...all]);
      const empty = await cache.get(`${prefix}empty`);
      expect(empty?.status).toBe(204);
      expect(empty?.body.byteLength).toBe(0);
    });

    it('replaces an entry when the same key is set again', async () => {
      const cache = await open();
      const key = `${ns()}k`;
      await cache.set(key, entry('one'), { ttlMs: 60_000 });
      await cache.set(key, entry('two'), { ttlMs: 60_000 });
      expect(Buffer.from((await cache.get(key))!.body).toString()).toBe('two');
    });

    it('forgets an entry when its ttl has passed', async () => {
      const cache = await open();
      const key = `${ns()}short`;
      await cache.set(key, entry('soon gone'), { ttlMs: 400 });
      expect(await cache.get(key)).toBeDefined();
      await sleep(900);
      expect(await cache.get(key)).toBeUndefined();
    });

    it('does not store an entry when the ttl is below 1 ms', async () => {
      const cache = await open();
      const key = `${ns()}zero`;
      await cache.set(key, entry('x'), { ttlMs: 0 });
      await cache.set(key, entry('x'), { ttlMs: -5 });
      expect(await cache.get(key)).toBeUndefined();
    });

    it('deletes one key when asked and leaves the others', async () => {
      const cache = await open();
      const prefix = ns();
      await cache.set(`${prefix}a`, entry('a'), { ttlMs: 60_000 });
      await cache.set(`${prefix}b`, entry('b'), { ttlMs: 60_000 });
      await cache.delete(`${prefix}a`);
      await cache.delete(`${prefix}never-there`);
      expect(await cache.get(`${prefix}a`)).toBeUndefined();
      expect(await cache.get(`${prefix}b`)).toBeDefined();
    });

    it('clears exactly the keys under a prefix, treating glob characters literally', async () => {
      const cache = await open();
      const base = ns();
      const target = `${base}v1/acme/catalog/list*[x]?/`;
      const sibling = `${base}v1/acme/catalog/list-other/`;
      for (let i = 0; i < 25; i++) await cache.set(`${target}${i}`, entry(String(i)), { ttlMs: 60_000 });
      await cache.set(`${sibling}0`, entry('keep'), { ttlMs: 60_000 });
      // '*' in the prefix must not act as a wildcard reaching the sibling.
      await cache.set(`${base}v1/acme/catalog/listANYTHING[x]?/0`, entry('keep'), { ttlMs: 60_000 });
      expect(await cache.clear(target)).toBe(25);
      expect(await cache.get(`${target}3`)).toBeUndefined();
      expect(await cache.get(`${sibling}0`)).toBeDefined();
      expect(await cache.get(`${base}v1/acme/catalog/listANYTHING[x]?/0`)).toBeDefined();
      expect(await cache.clear(target)).toBe(0);
    });

    it('answers many concurrent reads and writes consistently', async () => {
      const cache = await open();
      const prefix = ns();
      await Promise.all(Array.from({ length: 200 }, (_, i) => cache.set(`${prefix}${i}`, entry(`v${i}`), { ttlMs: 60_000 })));
      const got = await Promise.all(Array.from({ length: 200 }, (_, i) => cache.get(`${prefix}${i}`)));
      expect(got.map((g) => Buffer.from(g!.body).toString())).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    });

    it('misses and ignores writes after close instead of throwing', async () => {
      const cache = await makeCache();
      const key = `${ns()}closed`;
      await cache.set(key, entry('x'), { ttlMs: 60_000 });
      await cache.close();
      await expect(cache.get(key)).resolves.toBeUndefined();
      await expect(cache.set(key, entry('y'), { ttlMs: 60_000 })).resolves.toBeUndefined();
      await expect(cache.delete(key)).resolves.toBeUndefined();
      await expect(cache.close()).resolves.toBeUndefined();
    });
  });
}
