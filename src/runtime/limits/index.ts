// The rate limiters of one client: one per connection key, in memory or (with a Redis cache) shared by all processes.
import type { NormalizedRateLimit } from '../../model/rate-limit.js';
import { KeyLimiter, type SharedState } from './limiter.js';
import { RedisLimiterStore } from './redis.js';

export type { Grant } from './limiter.js';
export { KeyLimiter } from './limiter.js';
export { pauseFromResponse } from './feedback.js';

/** What a limit is kept per. `owner` is for connections owned per end user (API.md §13): each owner gets its own. */
export interface LimiterScope {
  workspace: string;
  product: string;
  env: string;
  accessTag: string;
  owner?: string;
}

/**
 * The one place a limiter key is built: every run of one connection (and env) shares a limit, whichever event it runs.
 * NUL-separated so that no tag can forge another's key.
 */
export function limiterKey(s: LimiterScope): string {
  const base = `${s.workspace}\u0000${s.product}\u0000${s.env}\u0000${s.accessTag}`;
  return s.owner === undefined ? base : `${base}\u0000${s.owner}`;
}

// Limiters are swept for idle ones when the map reaches this size (then twice the size that remained).
const SWEEP_FROM = 1024;

export class RateLimits {
  readonly #limiters = new Map<string, KeyLimiter>();
  /** Limiters whose limit changed while runs waited in them: close() must still end those waits. */
  readonly #replaced = new Set<KeyLimiter>();
  #sweepAt = SWEEP_FROM;
  readonly #cacheUrl: string;
  readonly #onWarn: (message: string) => void;
  #redis: RedisLimiterStore | undefined;
  #warned = false;
  #closed = false;

  /** @param cacheUrl the client's `cache` option: a redis:// URL makes limits shared by every process on it. */
  constructor(cacheUrl: string, onWarn: (message: string) => void) {
    this.#cacheUrl = cacheUrl;
    this.#onWarn = onWarn;
  }

  /**
   * The limiter of one connection key. A changed limit (another signature) gets a fresh limiter in this process; with
   * Redis the shared logs (kept per window length) carry on.
   */
  get(key: string, limit: NormalizedRateLimit, signature: string, scope: { product: string; env: string; accessTag: string }): KeyLimiter {
    const hit = this.#limiters.get(key);
    if (hit && hit.signature === signature) return hit;
    const label = `connection "${scope.accessTag}" of product "${scope.product}" in env "${scope.env}"`;
    // Before the new one is added: a fresh limiter is idle, and one swept right away would be used by this run
    // while the next run of its key got another.
    if (this.#limiters.size >= this.#sweepAt) this.#sweep();
    if (hit) {
      // Limits change rarely: the set stays small, and those whose runs have all gone leave it here.
      for (const l of this.#replaced) if (l.isIdle()) this.#replaced.delete(l);
      if (!hit.isIdle()) this.#replaced.add(hit);
    }
    const limiter = new KeyLimiter(limit, label, this.#shared(key), signature);
    this.#limiters.set(key, limiter);
    return limiter;
  }

  /**
   * Per-user connections have one limiter per end user (each with a log sized to its window): without a sweep, every
   * user who ever ran something stayed in memory for the life of the process. Idle limiters go; the sweep runs when
   * the map doubles, so its cost per new limiter stays constant.
   */
  #sweep(): void {
    const now = performance.now();
    for (const [key, limiter] of this.#limiters) if (limiter.isIdle(now)) this.#limiters.delete(key);
    this.#sweepAt = Math.max(SWEEP_FROM, this.#limiters.size * 2);
  }

  close(): Promise<void> {
    this.#closed = true;
    // A run waiting in a limiter that close() forgot went on after it: it sat out its wait, then failed as a
    // misleading NETWORK_ERROR (UND_ERR_DESTROYED, "check the base URL") from the closed pool.
    for (const l of [...this.#limiters.values(), ...this.#replaced]) l.close('The Ductape client was closed while this run waited for a rate limit slot.');
    this.#limiters.clear();
    this.#replaced.clear();
    return this.#redis?.close() ?? Promise.resolve();
  }

  #shared(key: string): SharedState | undefined {
    if (!/^rediss?:\/\//i.test(this.#cacheUrl) || this.#closed) return undefined;
    this.#redis ??= new RedisLimiterStore(this.#cacheUrl, (err) => this.#failed(err));
    return { store: this.#redis, key: this.#redis.key(Buffer.from(key).toString('base64url')), onError: (err) => this.#failed(err) };
  }

  // Once per outage: the process keeps limiting on its own, so the limit then holds per process, not across them.
  #failed(err: unknown): void {
    if (this.#warned || this.#closed) return;
    this.#warned = true;
    this.#onWarn(`Redis is unreachable for rate limits (${(err as Error)?.message ?? err}); each process limits on its own until it is back.`);
    setTimeout(() => (this.#warned = false), 30_000).unref();
  }
}
