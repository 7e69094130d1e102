// The Cache interface every store implements, and the stored shape of one cached upstream response.

/**
 * One cached upstream answer: the raw response, before decoding.
 * Bytes (not parsed data) are stored so that every hit decodes into fresh objects (one caller mutating its
 * result can never change another's), the size is exact for the byte-bounded LRU, and Redis stores it as-is.
 */
export interface CachedResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
  /** Epoch ms when it was stored (lets callers report an entry's age). */
  storedAt: number;
  /**
   * The product cache's expiry when it was stored, in ms. A hit is refused when the cache's expiry is now shorter and
   * the entry older than it (the entry itself lives for the expiry it was stored with).
   */
  expiryMs?: number;
}

export interface CacheSetOptions {
  /** How long the entry lives, in ms (a product cache's `expiry`). Values < 1 are not stored. */
  ttlMs: number;
}

/**
 * A response cache. Implementations: `MemoryCache` (one process) and `RedisCache` (shared).
 * get/set/delete always resolve: a store that cannot be reached answers misses and no-ops instead of failing a run.
 * clear may reject (NETWORK_ERROR) when it cannot do its job, since a silent no-op would leave the entries in place.
 * Keys come from `cacheKey()` in key.ts and start with `cacheKeyPrefix()`, which `clear()` takes.
 */
export interface Cache {
  readonly kind: 'memory' | 'redis';
  /** The entry, or undefined on a miss (or when the store is unreachable). Treat the result as read-only. */
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse, options: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every entry whose key starts with `prefix` (e.g. one product cache); resolves to how many were removed. */
  clear(prefix: string): Promise<number>;
  /** Releases timers and connections. Later calls behave as misses and no-ops. */
  close(): Promise<void>;
}

/** Called once per outage (not per operation) when a shared store cannot be reached. */
export type CacheWarn = (message: string, details?: Record<string, unknown>) => void;

// Wire form used by RedisCache: [u32 meta length][meta JSON][body bytes]. Meta is small; the body stays binary.
export function encodeEntry(value: CachedResponse): Buffer {
  const meta = Buffer.from(JSON.stringify({ s: value.status, h: value.headers, t: value.storedAt, x: value.expiryMs }));
  const out = Buffer.allocUnsafe(4 + meta.length + value.body.byteLength);
  out.writeUInt32BE(meta.length, 0);
  meta.copy(out, 4);
  out.set(value.body, 4 + meta.length);
  return out;
}

/** Inverse of encodeEntry; undefined for anything malformed (a foreign or corrupted value is just a miss). */
export function decodeEntry(raw: Uint8Array): CachedResponse | undefined {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf.length < 4) return undefined;
  const metaLength = buf.readUInt32BE(0);
  if (4 + metaLength > buf.length) return undefined;
  try {
    const meta = JSON.parse(buf.subarray(4, 4 + metaLength).toString('utf8')) as { s: unknown; h: unknown; t: unknown; x?: unknown };
    if (typeof meta.s !== 'number' || typeof meta.t !== 'number' || !meta.h || typeof meta.h !== 'object') return undefined;
    return {
      status: meta.s,
      headers: meta.h as CachedResponse['headers'],
      body: new Uint8Array(buf.subarray(4 + metaLength)),
      storedAt: meta.t,
      ...(typeof meta.x === 'number' ? { expiryMs: meta.x } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Approximate footprint of an entry in bytes (body plus headers), for the byte-bounded LRU. */
export function entrySize(value: CachedResponse): number {
  let size = value.body.byteLength + 64;
  for (const [name, v] of Object.entries(value.headers)) {
    size += name.length + (Array.isArray(v) ? v.reduce((n, s) => n + s.length, 0) : String(v).length);
  }
  return size;
}
