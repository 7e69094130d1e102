// Limiter state shared by every process on one Redis: the same sliding logs, kept in sorted sets and checked atomically.
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import type { NormalizedRateLimit } from '../../model/rate-limit.js';
import { FULL, GRANTED } from './local.js';

// One script call decides and records a start for all windows at once, so two processes can never both take the last
// slot. Time comes from Redis (TIME), the one clock every process shares; Redis 7 replicates a script's effects, which
// is what allows TIME in a writing script. The rules are local.ts's: a request counts in a window from its start
// until per_ms after it ended. While in flight its window entries are scored at its lease expiry, so a process that
// dies mid-request frees its slots after the lease instead of never.
//   KEYS: pause, in flight (member → lease expiry), then one sorted set per window (member → end or lease expiry)
//   ARGV: member, concurrency (0 = none), lease ms, then requests and per_ms per window
const EXTEND = `
local function extend(k, ms) if redis.call('PTTL', k) < ms then redis.call('PEXPIRE', k, ms) end end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const TAKE = `${EXTEND}
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return paused end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local conc = tonumber(ARGV[2])
local full = conc > 0 and redis.call('ZCARD', KEYS[2]) >= conc
local wait = 0
for i = 3, #KEYS do
  local requests = tonumber(ARGV[2 * i - 2])
  local per = tonumber(ARGV[2 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - per)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= requests then
    local e = redis.call('ZRANGE', KEYS[i], count - requests, count - requests, 'WITHSCORES')
    if redis.call('ZSCORE', KEYS[2], e[1]) then
      full = true
    else
      local w = tonumber(e[2]) + per - now
      if w < 1 then w = 1 end
      if w > wait then wait = w end
    end
  end
end
if wait > 0 then return wait end
if full then return -1 end
local lease = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + lease, ARGV[1])
extend(KEYS[2], lease)
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], now + lease, ARGV[1])
  extend(KEYS[i], lease + tonumber(ARGV[2 * i - 1]))
end
return 0
`;
//   KEYS: in flight, then the windows; ARGV: member, then per_ms per window
const RELEASE = `${EXTEND}
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1])
  extend(KEYS[i], tonumber(ARGV[i]))
end
return 0
`;
// A take whose answer never came (Redis too slow) may still run later and hold a slot nobody will release: this one,
// sent after it on the same connection and so run after it, removes that start from every set (it never happened).
//   KEYS: in flight, then the windows; ARGV: member
const CANCEL = `
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 0
`;
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 0
`;
const sha = (s: string) => createHash('sha1').update(s).digest('hex');
const TAKE_SHA = sha(TAKE);
const PAUSE_SHA = sha(PAUSE);
const RELEASE_SHA = sha(RELEASE);

export const REDIS_LIMITER_DEFAULTS = {
  namespace: 'ductape:limit:',
  connectTimeoutMs: 1000,
  /** A slower Redis is treated as unreachable (the process limits on its own meanwhile). */
  commandTimeoutMs: 500,
  /** After a take failed, takes skip Redis this long (the process limits on its own), then try it again. */
  skipAfterFailureMs: 1000,
} as const;

type Client = ReturnType<typeof createClient>;

/** One Redis connection for every limiter of a client. Each call either answers or throws (callers fall back). */
export class RedisLimiterStore {
  readonly #client: Client;
  /** The first connection attempt; commands wait for it once (bounded), never again: a down Redis must cost nothing. */
  #first: Promise<void> | undefined;
  #closed = false;
  /** performance.now() ms until which takes do not ask Redis (it failed or timed out just before). */
  #skipUntil = 0;

  constructor(url: string, onError: (err: unknown) => void) {
    this.#client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: REDIS_LIMITER_DEFAULTS.connectTimeoutMs, reconnectStrategy: (n: number) => Math.min(50 * 2 ** Math.min(n, 10), 2000) },
    });
    this.#client.on('error', onError);
    // As in cache/redis.ts: a socket still being opened when close() destroyed the client would connect and stay open.
    this.#client.on('connect', () => {
      if (this.#closed) this.#client.destroy();
    });
    this.#first = new Promise<void>((resolve) => {
      this.#client.once('ready', resolve);
      this.#client.once('error', resolve);
      setTimeout(resolve, REDIS_LIMITER_DEFAULTS.connectTimeoutMs).unref();
    }).then(() => {
      this.#first = undefined;
    });
    // connect() stays pending while the client reconnects in the background; the events above say how it went.
    this.#client.connect().catch(onError);
  }

  /** GRANTED, ms until a window or pause frees, or FULL. `leaseMs` bounds how long a dead process holds a concurrency slot. */
  async take(key: string, limit: NormalizedRateLimit, member: string, leaseMs: number): Promise<number> {
    // Runs wait in line for takes: a Redis that hangs would make each of them wait its full command timeout, and the
    // line would crawl at two runs a second into RATE_LIMITED. One take tries Redis again after a short while.
    if (performance.now() < this.#skipUntil) throw new Error('Redis failed or did not answer a moment ago');
    const keys = [`${key}:pause`, `${key}:inflight`, ...limit.windows.map((w) => `${key}:w${w.perMs}`)];
    const args = [member, String(limit.concurrency ?? 0), String(Math.ceil(leaseMs))];
    for (const w of limit.windows) args.push(String(w.requests), String(w.perMs));
    let r: number;
    try {
      r = Number(await this.#script(TAKE, TAKE_SHA, keys, args));
    } catch (err) {
      this.#skipUntil = performance.now() + REDIS_LIMITER_DEFAULTS.skipAfterFailureMs;
      // A take that timed out may still run when Redis wakes up, and hold its slot (and window entries) until the
      // lease ends: with concurrency 2, two such takes blocked every process for 35 s after Redis came back.
      this.#cancel(keys.slice(1), member).catch(() => undefined);
      throw err;
    }
    return r > 0 ? r : r === 0 ? GRANTED : FULL;
  }

  /** The request ended: it leaves the in-flight set and counts in each window until per_ms from now. */
  async release(key: string, limit: NormalizedRateLimit, member: string): Promise<void> {
    const keys = [`${key}:inflight`, ...limit.windows.map((w) => `${key}:w${w.perMs}`)];
    await this.#script(RELEASE, RELEASE_SHA, keys, [member, ...limit.windows.map((w) => String(w.perMs))]);
  }

  async pause(key: string, ms: number): Promise<void> {
    await this.#script(PAUSE, PAUSE_SHA, [`${key}:pause`], [String(Math.max(1, Math.ceil(ms)))]);
  }

  key(parts: string): string {
    return REDIS_LIMITER_DEFAULTS.namespace + parts;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#client.isReady) await withTimeout(this.#client.close(), REDIS_LIMITER_DEFAULTS.commandTimeoutMs).catch(() => undefined);
    if (this.#client.isOpen) this.#client.destroy();
  }

  /**
   * Undoes a take whose answer was not awaited (see CANCEL); `keys`: in flight, then the windows. EVAL, not EVALSHA:
   * it is sent while Redis does not answer, and a NOSCRIPT that came back after our timeout could not be retried.
   */
  async #cancel(keys: string[], member: string): Promise<void> {
    await this.#command(['EVAL', CANCEL, String(keys.length), ...keys, member]);
  }

  async #script(script: string, hash: string, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.#command(['EVALSHA', hash, String(keys.length), ...keys, ...args]);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return this.#command(['EVAL', script, String(keys.length), ...keys, ...args]);
    }
  }

  async #command(args: string[]): Promise<unknown> {
    if (this.#first) await this.#first;
    if (this.#closed || !this.#client.isReady) throw new Error('Redis is not connected');
    return withTimeout(this.#client.sendCommand(args), REDIS_LIMITER_DEFAULTS.commandTimeoutMs);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
