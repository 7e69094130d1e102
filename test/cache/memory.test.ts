import { describe, expect, it } from 'vitest';
import { MemoryCache, MEMORY_CACHE_DEFAULT_MAX_BYTES } from '../../src/cache/memory.js';
import { entrySize } from '../../src/cache/cache.js';
import { cacheContract, entry } from '../contract/cache.js';

cacheContract('MemoryCache', () => new MemoryCache());

describe('MemoryCache', () => {
  const kb = (n: number) => new Uint8Array(n * 1024).fill(7);

  it('defaults to a 64 MiB bound when maxBytes is not given', () => {
    expect(new MemoryCache().maxBytes).toBe(MEMORY_CACHE_DEFAULT_MAX_BYTES);
    expect(MEMORY_CACHE_DEFAULT_MAX_BYTES).toBe(64 * 1024 * 1024);
  });

  it('evicts the least recently used entries when the byte bound is exceeded', async () => {
    const cache = new MemoryCache({ maxBytes: 10 * 1024 });
    for (const k of ['a', 'b', 'c', 'd']) await cache.set(k, entry(kb(2)), { ttlMs: 60_000 });
    // Touch 'a' so 'b' becomes the least recently used.
    expect(await cache.get('a')).toBeDefined();
    await cache.set('e', entry(kb(2)), { ttlMs: 60_000 });
    await cache.set('f', entry(kb(2)), { ttlMs: 60_000 });
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
    expect(await cache.get('f')).toBeDefined();
    expect(cache.sizeBytes).toBeLessThanOrEqual(10 * 1024);
  });

  it('counts bytes of bodies and headers against the bound', async () => {
    const cache = new MemoryCache({ maxBytes: 1024 * 1024 });
    const value = entry(kb(3), { headers: { 'x-long': 'y'.repeat(500) } });
    await cache.set('k', value, { ttlMs: 60_000 });
    expect(cache.sizeBytes).toBe(entrySize(value));
    expect(cache.sizeBytes).toBeGreaterThan(3 * 1024 + 500);
  });

  it('does not store an entry bigger than the whole bound', async () => {
    const cache = new MemoryCache({ maxBytes: 1024 });
    await cache.set('small', entry('x'), { ttlMs: 60_000 });
    await cache.set('huge', entry(kb(4)), { ttlMs: 60_000 });
    expect(await cache.get('huge')).toBeUndefined();
    expect(await cache.get('small')).toBeDefined();
  });

  it('rejects a maxBytes that is not a positive integer', () => {
    expect(() => new MemoryCache({ maxBytes: 0 })).toThrow(/positive integer/);
    expect(() => new MemoryCache({ maxBytes: 1.5 })).toThrow(/positive integer/);
  });
});
