// RedisCache: a response cache shared by every process, TTLs kept in Redis; an unreachable Redis means misses, not failures.
import { createClient, ErrorReply, RESP_TYPES } from 'redis';
import { DuctapeError } from '../errors.js';
import { redactUrl } from '../model/redact.js';
import { decodeEntry, encodeEntry, type Cache, type CachedResponse, type CacheSetOptions, type CacheWarn } from './cache.js';

export interface RedisCacheOptions {
  /** Namespace put before every key, so one Redis can hold other data too. @default 'ductape:cache:' */
  namespace?: string;
  /** Bound on establishing a connection, in ms. @default 1000 */
  connectTimeoutMs?: number;
  /** Bound on one command, in ms; a slower Redis is treated as unreachable. @default 500 */
  commandTimeoutMs?: number;
  /** After a command timeout, operations are misses for this long before Redis is tried again, in ms. @default 2000 */
  cooldownMs?: number;
  /** Longest wait between background reconnect attempts, in ms. @default 2000 */
  maxReconnectDelayMs?: number;
  /** Told once per outage that runs go on uncached. @default console.warn */
  onWarn?: CacheWarn;
}

export const REDIS_CACHE_DEFAULTS = {
  namespace: 'ductape:cache:',
  connectTimeoutMs: 1000,
  commandTimeoutMs: 500,
  cooldownMs: 2000,
  maxReconnectDelayMs: 2000,
} as const;

type Client = ReturnType<typeof createClient>;

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  readonly #client: Client;
  readonly #bytes: ReturnType<Client['withTypeMapping']>;
  readonly #ns: string;
  readonly #commandTimeoutMs: number;
  readonly #cooldownMs: number;
  readonly #onWarn: CacheWarn;
  readonly #where: string;
  /** The first connection attempt; operations wait for it (bounded) so a fresh client does not miss needlessly. */
  #firstConnect: Promise<void> | undefined;
  /** Counter bumped by every clear(), in Redis so that every process sees it. */
  readonly #epochKey: string;
  /** Clear epoch seen by the latest unanswered miss of each key. */
  readonly #missEpochs = new Map<string, string>();
  #downUntil = 0;
  #warned = false;
  #closed = false;

  constructor(url: string, options: RedisCacheOptions = {}) {
    const o = { ...REDIS_CACHE_DEFAULTS, ...stripUndefined(options) };
    this.#ns = o.namespace;
    // Outside every cache key: keys start with a version segment (cache/key.ts), never with a NUL.
    this.#epochKey = `${o.namespace}\u0000clear-epoch`;
    this.#commandTimeoutMs = o.commandTimeoutMs;
    this.#cooldownMs = o.cooldownMs;
    this.#onWarn = options.onWarn ?? ((message) => console.warn(message));
    // Credentials end at the last '@' before the host, as URL parsing reads them: a raw '@' may be in the password.
    this.#where = redactUrl(url.replace(/\/\/[^/?#]*@/, '//'));
    this.#client = createClient({
      url,
      // Commands fail at once while disconnected instead of queueing behind a reconnect that may never come.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: o.connectTimeoutMs,
        // Keep trying in the background for as long as the cache is open; runs never wait for it.
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), o.maxReconnectDelayMs),
      },
    });
    this.#bytes = this.#client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    // The first attempt settles on ready, on its first error (a refused port fails at once) or at the connect timeout.
    let settleFirst!: () => void;
    this.#firstConnect = new Promise<void>((resolve) => (settleFirst = resolve)).then(() => {
      this.#firstConnect = undefined;
    });
    const timer = setTimeout(settleFirst, o.connectTimeoutMs);
    timer.unref();
    // Without an 'error' listener node-redis would throw the socket error into the process.
    this.#client.on('error', (err: Error) => {
      settleFirst();
      this.#down(err);
    });
    // A socket node-redis was still opening when close() destroyed the client connects afterwards and stays open,
    // holding the process: every CLI command with DUCTAPE_CACHE=redis://… finished its work and never exited.
    this.#client.on('connect', () => {
      if (this.#closed) this.#client.destroy();
    });
    this.#client.on('ready', () => {
      settleFirst();
      clearTimeout(timer);
      this.#warned = false;
      this.#downUntil = 0;
    });
    // connect() stays pending while the client keeps reconnecting in the background; its outcome is in the events.
    this.#client.connect().catch((err: unknown) => this.#down(err));
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    // The clear epoch comes back with the entry (one round trip); a miss remembers it for the set that may follow.
    const reply = await this.#run(() => this.#bytes.sendCommand(['MGET', this.#ns + key, this.#epochKey]));
    if (!Array.isArray(reply)) return undefined;
    const [raw, epoch] = reply as (Uint8Array | null)[];
    if (raw instanceof Uint8Array) return decodeEntry(raw);
    // The first miss wins: a later one must not vouch for an answer fetched before a clear it did not see.
    if (!this.#missEpochs.has(key)) {
      if (this.#missEpochs.size >= MAX_PENDING_MISSES) this.#missEpochs.delete(this.#missEpochs.keys().next().value!);
      this.#missEpochs.set(key, epoch ? Buffer.from(epoch).toString() : '');
    }
    return undefined;
  }

  async set(key: string, value: CachedResponse, options: CacheSetOptions): Promise<void> {
    const epoch = this.#missEpochs.get(key);
    this.#missEpochs.delete(key);
    const ttl = Math.floor(options.ttlMs);
    if (!(ttl >= 1)) return;
    // PX keeps the expiry in Redis itself, so every process sees the same lifetime.
    if (epoch === undefined) {
      await this.#run(() => this.#client.sendCommand(['SET', this.#ns + key, encodeEntry(value), 'PX', String(ttl)]));
      return;
    }
    // An answer fetched after a miss is stored only if no clear (in any process) happened since that miss: otherwise
    // a run that began before caches.clear would put back what it removed (API.md §6).
    await this.#run(() =>
      this.#client.sendCommand(['EVAL', SET_IF_NOT_CLEARED, '2', this.#ns + key, this.#epochKey, encodeEntry(value), epoch, String(ttl)]),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#run(() => this.#client.sendCommand(['UNLINK', this.#ns + key]));
  }

  /**
   * Unlike get/set, clear rejects (NETWORK_ERROR) when Redis cannot be reached: a silent no-op would leave the
   * entries the caller asked to remove, and they would be served again once Redis is back.
   */
  async clear(prefix: string): Promise<number> {
    await this.#firstConnect;
    if (this.#closed || !this.#client.isReady) {
      throw new DuctapeError('NETWORK_ERROR', `Could not clear the cache: Redis at ${this.#where} is unreachable. Retry when it is back.`);
    }
    // First the epoch, then the sweep: an in-flight answer that misses the sweep is refused by set() instead.
    await this.#clearCommand(['INCR', this.#epochKey]);
    let removed = 0;
    const match = globEscape(this.#ns + prefix) + '*';
    let cursor = '0';
    do {
      const [next, found] = (await this.#clearCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', '500'])) as [string, string[]];
      cursor = String(next);
      // The epoch lives in the namespace too; sweeping it would undo the INCR above.
      const keys = found.map(String).filter((k) => k !== this.#epochKey);
      if (keys.length) removed += Number(await this.#clearCommand(['UNLINK', ...keys]));
    } while (cursor !== '0');
    return removed;
  }

  /**
   * One command of clear(), bounded like every other command: a Redis that accepts connections but never answers
   * (paused, swapping, stuck in a long script) left caches.clear pending forever. A failure is NETWORK_ERROR.
   */
  async #clearCommand(args: string[]): Promise<unknown> {
    try {
      return await withTimeout(this.#client.sendCommand(args), this.#commandTimeoutMs);
    } catch (err) {
      if (err instanceof CommandTimeout) this.#downUntil = Date.now() + this.#cooldownMs;
      this.#down(err);
      const why = err instanceof CommandTimeout ? `did not answer within ${this.#commandTimeoutMs} ms` : 'failed';
      throw new DuctapeError('NETWORK_ERROR', `Could not clear the cache: Redis at ${this.#where} ${why} (${args[0]}). Retry when it answers again.`, {}, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#client.isReady) {
      await withTimeout(this.#client.close(), this.#commandTimeoutMs).catch(() => undefined);
    }
    // destroy() also stops a reconnect loop that close() would wait on.
    if (this.#client.isOpen) this.#client.destroy();
  }

  /** Runs one command within the command timeout; any failure is a miss (undefined) plus one warning per outage. */
  async #run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (this.#firstConnect) await this.#firstConnect;
    if (this.#closed || !this.#client.isReady || Date.now() < this.#downUntil) {
      if (!this.#closed) this.#down(new Error('not connected'));
      return undefined;
    }
    try {
      return await withTimeout(command(), this.#commandTimeoutMs);
    } catch (err) {
      // A hung Redis (not a closed one) would cost every run the full timeout; skip it for a while instead.
      if (err instanceof CommandTimeout) this.#downUntil = Date.now() + this.#cooldownMs;
      this.#down(err);
      return undefined;
    }
  }

  #down(err: unknown): void {
    if (this.#warned || this.#closed) return;
    this.#warned = true;
    const cause = err instanceof Error ? err.message : String(err);
    // A Redis that answers with an error (full at maxmemory, a wrong password, a read-only replica) is reachable: saying
    // "unreachable" sent people to check the network, and the client's warning (message only) dropped the reason.
    const message =
      err instanceof ErrorReply
        ? `Redis cache at ${this.#where} answered with an error (${cause}); runs continue without caching until it accepts commands again.`
        : `Redis cache at ${this.#where} is unreachable; runs continue without caching until it is back.`;
    this.#onWarn(message, { cause });
  }
}

/**
 * Bound on remembered misses (about one per key whose answer is being fetched); beyond it the oldest is forgotten,
 * and its answer, should it still come, is stored without the check.
 */
const MAX_PENDING_MISSES = 10_000;

// KEYS: entry, clear epoch. ARGV: value, epoch seen at the miss, ttl ms. Atomic in Redis, so a clear cannot slip between.
const SET_IF_NOT_CLEARED = `if (redis.call('GET', KEYS[2]) or '') == ARGV[2] then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end return 0`;

class CommandTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommandTimeout(`Redis command took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  // The losing command may still reject later (e.g. when the socket drops); that must not become unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Redis MATCH patterns treat * ? [ ] \ specially; a prefix must match literally. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
