// openCache: picks the cache store from the `cache` option ('memory' or a redis:// URL).
import { ConfigError } from '../errors.js';
import { redactUrl } from '../model/redact.js';
import type { Cache, CacheWarn } from './cache.js';
import { MemoryCache, type MemoryCacheOptions } from './memory.js';
import { RedisCache, type RedisCacheOptions } from './redis.js';

export type { Cache, CachedResponse, CacheSetOptions, CacheWarn } from './cache.js';
export { MemoryCache, MEMORY_CACHE_DEFAULT_MAX_BYTES } from './memory.js';
export { RedisCache, REDIS_CACHE_DEFAULTS } from './redis.js';
export { cacheKey, cacheKeyPrefix, canonicalUrl, type CacheKeyParts } from './key.js';
export { createCoalescer, type Coalescer } from './coalesce.js';

export interface OpenCacheOptions {
  memory?: MemoryCacheOptions;
  redis?: Omit<RedisCacheOptions, 'onWarn'>;
  /** Where warnings go (an unreachable Redis). @default console.warn */
  onWarn?: CacheWarn;
}

/**
 * Opens the cache store named by `url`: `'memory'` (per process) or `'redis://…'` / `'rediss://…'` (shared).
 * Opening Redis never waits for or fails on the connection; operations miss until it is reachable.
 * @example const cache = openCache(process.env.DUCTAPE_CACHE ?? 'memory', { onWarn: (m) => log.warn(m) });
 */
export function openCache(url: string, options: OpenCacheOptions = {}): Cache {
  if (url === 'memory') return new MemoryCache(options.memory);
  if (/^rediss?:\/\//i.test(url)) return new RedisCache(url, { ...options.redis, onWarn: options.onWarn });
  throw new ConfigError(
    `Unknown cache "${redactUrl(url.replace(/\/\/[^/?#]*@/, '//'))}". Use 'memory' (the default) or a Redis URL such as 'redis://localhost:6379'.`,
    { option: 'cache' },
  );
}
