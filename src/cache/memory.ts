// MemoryCache: an in-process response cache, LRU-bounded by bytes, with a TTL per entry.
import { LRUCache } from 'lru-cache';
import { entrySize, type Cache, type CachedResponse, type CacheSetOptions } from './cache.js';

export interface MemoryCacheOptions {
  /**
   * Upper bound on the bytes held (bodies plus headers). The least recently used entries go first;
   * an entry larger than the whole bound is not stored.
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number;
}

export const MEMORY_CACHE_DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  readonly maxBytes: number;
  #lru: LRUCache<string, CachedResponse>;
  #closed = false;

  constructor(options: MemoryCacheOptions = {}) {
    const maxBytes = options.maxBytes ?? MEMORY_CACHE_DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`MemoryCache maxBytes must be a positive integer (bytes), got ${String(options.maxBytes)}.`);
    }
    this.maxBytes = maxBytes;
    this.#lru = new LRUCache<string, CachedResponse>({
      maxSize: maxBytes,
      sizeCalculation: entrySize,
      // Expired entries are dropped lazily on read and by LRU pressure; no timer per entry.
      ttlAutopurge: false,
      allowStale: false,
    });
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    return this.#lru.get(key);
  }

  async set(key: string, value: CachedResponse, options: CacheSetOptions): Promise<void> {
    const ttl = Math.floor(options.ttlMs);
    if (!(ttl >= 1) || this.#closed) return;
    this.#lru.set(key, value, { ttl });
  }

  async delete(key: string): Promise<void> {
    this.#lru.delete(key);
  }

  async clear(prefix: string): Promise<number> {
    let removed = 0;
    // Collect first: deleting while iterating an LRU walk is not safe.
    const doomed = [...this.#lru.keys()].filter((k) => k.startsWith(prefix));
    for (const key of doomed) if (this.#lru.delete(key)) removed++;
    return removed;
  }

  /** Bytes currently held (as counted against maxBytes). */
  get sizeBytes(): number {
    return this.#lru.calculatedSize;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#lru.clear();
  }
}
