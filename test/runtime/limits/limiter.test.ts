// KeyLimiter over a shared store that answers slowly: max_wait_ms bounds the wait for a slot, not the time to ask.
import { describe, expect, it } from 'vitest';
import { normalizeRateLimit } from '../../../src/model/rate-limit.js';
import { KeyLimiter } from '../../../src/runtime/limits/limiter.js';
import { FULL, GRANTED } from '../../../src/runtime/limits/local.js';
import type { RedisLimiterStore } from '../../../src/runtime/limits/redis.js';

/** A shared store whose every answer takes `delayMs` (a Redis still connecting, or far away). */
function slowStore(delayMs: number, answer: () => number) {
  const asked: number[] = [];
  const store = {
    take: async () => {
      asked.push(performance.now());
      await new Promise((r) => setTimeout(r, delayMs));
      return answer();
    },
    release: async () => {},
    pause: async () => {},
  } as unknown as RedisLimiterStore;
  return { store, asked };
}

const limiterOver = (store: RedisLimiterStore, maxWaitMs: number) =>
  new KeyLimiter(normalizeRateLimit('rate_limit', { requests: 5, per_ms: 1000, max_wait_ms: maxWaitMs }), 'shop/prd/api', { store, key: 'k', onError: () => {} }, 'sig');

describe('KeyLimiter with a slow shared store', () => {
  it('grants a free slot that the store reports after max_wait_ms has passed', async () => {
    const { store, asked } = slowStore(80, () => GRANTED);
    const limiter = limiterOver(store, 0);
    const grant = await limiter.acquire(performance.now() + 0, 30_000);
    expect(grant).toBeDefined();
    expect(asked).toHaveLength(1);
    grant.release();
  });

  it('still refuses at once when the store answers that no slot is free', async () => {
    const { store } = slowStore(80, () => FULL);
    const limiter = limiterOver(store, 0);
    const t = performance.now();
    await expect(limiter.acquire(t + 0, 30_000)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    // Refused on the first answer (about 80 ms), not after polling on.
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('refuses with the wait the store announced when the window is full beyond the deadline', async () => {
    const { store } = slowStore(50, () => 400);
    const limiter = limiterOver(store, 10);
    const err = await Promise.resolve(limiter.acquire(performance.now() + 10, 30_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 400 } });
  });
});
