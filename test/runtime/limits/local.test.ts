// The in-process limiter state and the feedback rules, with explicit clocks (no I/O, no waiting).
import { describe, expect, it } from 'vitest';
import { checkRateLimit, normalizeRateLimit } from '../../../src/model/rate-limit.js';
import { pauseFromResponse, resetMs } from '../../../src/runtime/limits/feedback.js';
import { FULL, GRANTED, LocalSlots, WindowLog } from '../../../src/runtime/limits/local.js';
import { limiterKey } from '../../../src/runtime/limits/index.js';

describe('WindowLog', () => {
  it('counts a request from its start until perMs after it ended', () => {
    const log = new WindowLog(2, 1000);
    expect(log.waitMs(0, 0)).toBe(0);
    expect(log.waitMs(0, 1)).toBe(0);
    expect(log.waitMs(0, 2)).toBe(FULL); // two in flight: only an end can free a slot
    log.end(100);
    expect(log.waitMs(150, 1)).toBe(950); // the first ended at 100, so it counts until 1100
    log.end(300);
    expect(log.waitMs(1100, 0)).toBe(0);
    expect(log.waitMs(1100, 1)).toBe(200);
  });

  it('is a sliding window: a burst at the end of one second and the start of the next is refused', () => {
    const log = new WindowLog(2, 1000);
    log.end(900);
    log.end(950);
    expect(log.waitMs(1001, 0)).toBe(899); // a fixed window would have allowed two more at 1001
  });
});

describe('LocalSlots', () => {
  const limit = (over: object) => normalizeRateLimit('rate_limit', { requests: 2, per_ms: 100, ...over });

  it('checks every window and records a request in all of them', () => {
    const s = new LocalSlots(normalizeRateLimit('rate_limit', [{ requests: 2, per_ms: 100 }, { requests: 3, per_ms: 1000 }]));
    expect(s.take(0)).toBe(GRANTED);
    s.release(0);
    expect(s.take(1)).toBe(GRANTED);
    s.release(1);
    expect(s.take(2)).toBe(98); // the short window is full
    expect(s.take(100)).toBe(GRANTED);
    s.release(100);
    expect(s.take(200)).toBe(800); // the short window has room, the long one does not
  });

  it('caps requests in flight and frees a slot on release', () => {
    const s = new LocalSlots(limit({ requests: 100, concurrency: 1 }));
    expect(s.take(0)).toBe(GRANTED);
    expect(s.take(1)).toBe(FULL);
    s.release(1);
    expect(s.take(2)).toBe(GRANTED);
  });

  it('holds everything back while paused, and a shorter pause never cuts a longer one', () => {
    const s = new LocalSlots(limit({}));
    s.pause(2000, 0);
    s.pause(500, 0);
    expect(s.take(10)).toBe(1990);
    expect(s.take(2000)).toBe(GRANTED);
  });
});

describe('rate_limit definitions', () => {
  it('merges an array of windows: the tightest concurrency and max wait win', () => {
    const n = normalizeRateLimit('rate_limit', [
      { requests: 100, per_ms: 10_000, concurrency: 8 },
      { requests: 10_000, per_ms: 86_400_000, concurrency: 4, max_wait_ms: 5000 },
    ]);
    expect(n).toMatchObject({ windows: [{ requests: 100, perMs: 10_000 }, { requests: 10_000, perMs: 86_400_000 }], concurrency: 4, maxWaitMs: 5000 });
  });

  it.each([
    [{ requests: 10 }, 'requests and per_ms go together'],
    [{ requests: 0, per_ms: 1000 }, 'rate_limit.requests'],
    [{ requests: 1.5, per_ms: 1000 }, 'rate_limit.requests'],
    [{ requests: 10, per_ms: 1000, burst: 3 }, 'rate_limit.burst'],
    [[], 'non-empty array'],
    [{ max_wait_ms: 10 }, 'needs at least one window'],
    [{ requests: 1, per_ms: 1, headers: { remaining: 'bad header' } }, 'rate_limit.headers.remaining'],
    ['10/s', 'expected an object'],
  ])('refuses %j with a CONFIG_ERROR naming the field', (raw, text) => {
    expect(() => checkRateLimit('rate_limit', raw)).toThrow(expect.objectContaining({ code: 'CONFIG_ERROR', message: expect.stringContaining(text) }));
  });
});

describe('pauseFromResponse', () => {
  const names = { remainingHeader: 'x-ratelimit-remaining', resetHeader: 'x-ratelimit-reset' };
  const now = 1_700_000_000_000;

  it.each([
    [429, { 'retry-after': '2' }, 2000],
    [503, { 'retry-after': '1' }, 1000],
    [200, { 'retry-after': '2' }, undefined], // Retry-After means something else on other statuses
    [200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' }, 3000],
    [200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) }, 5000],
    [200, { 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '3' }, undefined],
    [429, { 'x-ratelimit-reset': '4' }, 4000],
    [429, {}, undefined],
    // Only a number says "none left".
    [200, { 'x-ratelimit-remaining': '', 'x-ratelimit-reset': '3' }, undefined],
    [200, { 'x-ratelimit-remaining': 'n/a', 'x-ratelimit-reset': '3' }, undefined],
    [200, { 'x-ratelimit-remaining': '-1', 'x-ratelimit-reset': '3' }, 3000],
  ])('status %i with %j pauses %s ms', (status, headers, ms) => {
    expect(pauseFromResponse(status, headers, names, now)).toBe(ms);
  });

  it('reads configured header names', () => {
    expect(pauseFromResponse(200, { 'ratelimit-left': '0', 'ratelimit-wait': '2' }, { remainingHeader: 'ratelimit-left', resetHeader: 'ratelimit-wait' }, now)).toBe(2000);
  });

  it('reads a reset as epoch seconds only when it is large', () => {
    expect(resetMs('60', now)).toBe(60_000);
    expect(resetMs('garbage', now)).toBeUndefined();
    // Epoch milliseconds: 5 s from now, not 55,000 years (capped at a day).
    expect(resetMs(String(now + 5000), now)).toBe(5000);
  });
});

describe('limiterKey', () => {
  it('separates connections and, when given, owners', () => {
    const base = { workspace: 'w', product: 'p', env: 'prd', accessTag: 'stripe' };
    expect(limiterKey(base)).not.toBe(limiterKey({ ...base, env: 'dev' }));
    expect(limiterKey({ ...base, owner: 'u1' })).not.toBe(limiterKey({ ...base, owner: 'u2' }));
  });
});
