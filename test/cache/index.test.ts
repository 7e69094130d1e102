import { describe, expect, it } from 'vitest';
import { MemoryCache, openCache, RedisCache } from '../../src/cache/index.js';
import { refusedPort } from '../helpers/ports.js';

describe('openCache', () => {
  it('opens a MemoryCache for "memory" with the given bound', async () => {
    const cache = openCache('memory', { memory: { maxBytes: 4096 } });
    expect(cache).toBeInstanceOf(MemoryCache);
    expect((cache as MemoryCache).maxBytes).toBe(4096);
    await cache.close();
  });

  it('opens a RedisCache for a redis:// URL without waiting for the connection', async () => {
    const warnings: string[] = [];
    const cache = openCache(`redis://127.0.0.1:${await refusedPort()}`, { redis: { connectTimeoutMs: 100 }, onWarn: (m) => warnings.push(m) });
    expect(cache).toBeInstanceOf(RedisCache);
    expect(await cache.get('k')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    await cache.close();
  });

  it('rejects anything else with CONFIG_ERROR naming the accepted forms, without echoing a password', () => {
    expect(() => openCache('memcached://u:hunter22@h:11211')).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERROR', message: expect.stringMatching(/'memory'.*redis:\/\//) }),
    );
    try {
      openCache('memcached://u:hunter22@h:11211');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter22');
    }
  });
});
