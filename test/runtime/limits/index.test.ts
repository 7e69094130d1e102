// RateLimits: one limiter per connection key (and per end user on per-user connections), idle ones dropped.
import { describe, expect, it } from 'vitest';
import { normalizeRateLimit } from '../../../src/model/rate-limit.js';
import { limiterKey, RateLimits, type Grant } from '../../../src/runtime/limits/index.js';

const scope = { product: 'dash', env: 'prd', accessTag: 'crm' };
const keyOf = (owner: string) => limiterKey({ workspace: 'acme', ...scope, owner });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function take(limits: RateLimits, owner: string, limit = normalizeRateLimit('rate_limit', { requests: 100, per_ms: 50 })): Grant {
  const grant = limits.get(keyOf(owner), limit, 'sig', scope).acquire(performance.now() + 1000, 30_000);
  if (grant instanceof Promise) throw new Error('expected a free slot');
  return grant;
}

describe('RateLimits', () => {
  it('does not keep a limiter for every end user who ever ran something (idle ones are dropped)', async () => {
    const limits = new RateLimits('memory', () => {});
    const tight = normalizeRateLimit('rate_limit', { requests: 1, per_ms: 60_000, max_wait_ms: 0 });
    const first = limits.get(keyOf('first'), normalizeRateLimit('rate_limit', { requests: 100, per_ms: 50 }), 'sig', scope);
    take(limits, 'first').release();
    const busy = take(limits, 'busy'); // in flight all along
    const busyLimiter = limits.get(keyOf('busy'), first.limit, 'sig', scope);
    take(limits, 'recent', tight).release(); // its window lasts a minute
    await sleep(60); // the 50 ms windows are over
    for (let i = 0; i < 3000; i++) take(limits, `user-${i}`).release();
    // Idle: dropped (a new limiter now stands for that user, deciding as the old one would).
    expect(limits.get(keyOf('first'), first.limit, 'sig', scope)).not.toBe(first);
    // Not idle: kept, and still limiting.
    expect(limits.get(keyOf('busy'), first.limit, 'sig', scope)).toBe(busyLimiter);
    const recent = limits.get(keyOf('recent'), tight, 'sig', scope);
    await expect(Promise.resolve(recent.acquire(performance.now(), 30_000))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    busy.release();
    await limits.close();
  });
});
