// Rate limits end to end (API.md §11): a loopback upstream records when each request arrived.
import { afterEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import type { RateLimitDef } from '../../src/model/rate-limit.js';
import { maxInWindow, startTimedUpstream, type TimedUpstream } from '../helpers/arrivals.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';

let up: TimedUpstream;
let ductape: Ductape;

afterEach(async () => {
  await ductape?.close();
  await up?.close();
});

async function setup(limit: { app?: RateLimitDef; connection?: RateLimitDef }, upstream?: TimedUpstream): Promise<void> {
  up = upstream ?? (await startTimedUpstream());
  ductape = newClient();
  await ductape.apps.create({ tag: 'api', envs: [{ slug: 'prd', base_url: up.url }], ...(limit.app ? { rate_limit: limit.app } : {}) });
  await ductape.apps.actions.create({ app: 'api', event: 'list_items', method: 'GET', path: '/items' });
  await ductape.products.create({ tag: 'shop', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'api' });
  await ductape.products.caches.create({ product: 'shop', tag: 'items', expiry: 60_000 });
  if (limit.connection) await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: limit.connection });
}

/** An upstream whose first answer is a bare 429 with this Retry-After; every later one is 200. */
const first429 = (retryAfter: string) =>
  startTimedUpstream(0, (_req, res, n) => {
    if (n !== 1) return false;
    res.writeHead(429, { 'retry-after': retryAfter });
    res.end();
    return true;
  });

const run = (extra: object = {}) => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'list_items', ...extra });

describe('rate limits', () => {
  it('200 concurrent runs under 10 per second never put 11 in one second, and all succeed', async () => {
    await setup({ connection: { requests: 10, per_ms: 1000 } });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => run()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(up.arrivals).toHaveLength(200);
    expect(maxInWindow(up.arrivals, 1000)).toBeLessThanOrEqual(10);
  }, 60_000);

  it('serves waiting runs in the order they asked', async () => {
    await setup({ connection: { concurrency: 1 } });
    await ductape.apps.actions.create({ app: 'api', event: 'get_item', method: 'GET', path: '/items/{id}' });
    await Promise.all(Array.from({ length: 30 }, (_, i) => ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'get_item', input: { params: { id: String(i) } } })));
    expect(up.requests.map((r) => r.url)).toEqual(Array.from({ length: 30 }, (_, i) => `/items/${i}`));
  });

  it('holds two windows at once (the app default applies to the connection)', async () => {
    await setup({ app: [{ requests: 4, per_ms: 300 }, { requests: 6, per_ms: 1500 }] });
    await Promise.all(Array.from({ length: 14 }, () => run()));
    expect(maxInWindow(up.arrivals, 300)).toBeLessThanOrEqual(4);
    expect(maxInWindow(up.arrivals, 1500)).toBeLessThanOrEqual(6);
  }, 30_000);

  it('concurrency: 2 never has 3 requests in flight', async () => {
    await setup({ connection: { concurrency: 2 } }, await startTimedUpstream(30));
    await Promise.all(Array.from({ length: 20 }, () => run()));
    expect(up.maxInFlight()).toBe(2);
  });

  it('concurrency counts a streamed answer (execute({ stream: true })) until its body has ended', async () => {
    let inFlight = 0;
    let most = 0;
    const upstream = await startTimedUpstream(0, (_req, res) => {
      most = Math.max(most, ++inFlight);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let chunks = 0;
      const timer = setInterval(() => {
        if (++chunks < 4) return void res.write('x'.repeat(100));
        clearInterval(timer);
        inFlight--;
        res.end();
      }, 50);
      return true;
    });
    await setup({ connection: { concurrency: 1 } }, upstream);
    const download = async () => {
      const { data } = await ductape.actions.execute({ env: 'prd', product: 'shop', app: 'api', event: 'list_items', stream: true });
      let n = 0;
      for await (const c of data as AsyncIterable<Uint8Array>) n += c.length;
      return n;
    };
    expect(await Promise.all([download(), download(), download()])).toEqual([300, 300, 300]);
    expect(most).toBe(1);
    // A stream destroyed unread frees its slot too.
    const { data } = await ductape.actions.execute({ env: 'prd', product: 'shop', app: 'api', event: 'list_items', stream: true });
    (data as { destroy(): void }).destroy();
    await expect(download()).resolves.toBe(300);
  });

  it('a 429 with Retry-After: 2 pauses the connection for about 2 s', async () => {
    const upstream = await startTimedUpstream(0, (_req, res, n) => {
      if (n !== 1) return false;
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
      res.end('{"error":"slow down"}');
      return true;
    });
    await setup({ connection: { requests: 1000, per_ms: 1000 } }, upstream);
    const err = await errorOf(run());
    expect(err).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 2000 });
    const second = await ductape.actions.execute({ env: 'prd', product: 'shop', app: 'api', event: 'list_items' });
    expect(second.status).toBe(200);
    const paused = up.arrivals[1] - up.arrivals[0];
    expect(paused).toBeGreaterThanOrEqual(1900);
    expect(paused).toBeLessThan(10_000);
    const [log] = await ductape.logs.query({ limit: 1 });
    expect(log.waitMs).toBeGreaterThan(1500);
  });

  it('a retry after a 429 waits out the pause like any other request', async () => {
    await setup({ connection: { requests: 1000, per_ms: 1000 } }, await first429('1'));
    await expect(run({ retries: 1 })).resolves.toEqual({ n: 2 });
    expect(up.arrivals[1] - up.arrivals[0]).toBeGreaterThanOrEqual(950);
  });

  it("does not sit out a retry wait that the 429's pause would refuse anyway: the upstream's answer comes at once", async () => {
    // Retry waits are capped (retryAfterCeilingMs, 60 s by default) but the pause is not: a Retry-After of 120 s made
    // the run sleep 60 s, then the limiter (still paused 60 s, more than max_wait_ms) refused it.
    await setup({ connection: { requests: 1000, per_ms: 1000, max_wait_ms: 1000 } }, await first429('5'));
    await ductape.apps.update({ app: 'api', retry: { retryAfterCeilingMs: 300 } });
    const err = await errorOf(run({ retries: 1 }));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 5000, attempts: 1 });
    expect(err.details.local).toBeUndefined();
    expect(up.arrivals).toHaveLength(1);
  });

  it('X-RateLimit-Remaining: 0 with a reset pauses until the reset (header names are configurable)', async () => {
    const upstream = await startTimedUpstream(0, (_req, res, n) => {
      if (n !== 1) return false;
      res.writeHead(200, { 'content-type': 'application/json', 'ratelimit-left': '0', 'ratelimit-reset-in': '1' });
      res.end('{"n":1}');
      return true;
    });
    await setup({ connection: { requests: 1000, per_ms: 1000, headers: { remaining: 'RateLimit-Left', reset: 'RateLimit-Reset-In' } } }, upstream);
    await run();
    await run();
    expect(up.arrivals[1] - up.arrivals[0]).toBeGreaterThanOrEqual(950);
  });

  it('fails with RATE_LIMITED and retryAfterMs when the wait would pass max_wait_ms', async () => {
    await setup({ connection: { requests: 1, per_ms: 5000, max_wait_ms: 100 } });
    await run();
    const err = await errorOf(run());
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.details.retryAfterMs).toBeGreaterThan(3000);
    expect(err.details.retryAfterMs).toBeLessThanOrEqual(5000);
    expect(err.message).toMatch(/rate limit of connection "api" of product "shop" in env "prd"/);
    expect(up.arrivals).toHaveLength(1);
    const [log] = await ductape.logs.query({ limit: 1 });
    expect(log).toMatchObject({ ok: false, errorCode: 'RATE_LIMITED' });
  });

  it('a run stuck behind a concurrency cap gives up at max_wait_ms', async () => {
    await setup({ connection: { concurrency: 1, max_wait_ms: 200 } }, await startTimedUpstream(1500));
    const first = run();
    const err = await errorOf(run());
    expect(err).toMatchObject({ code: 'RATE_LIMITED' });
    expect(err.details.retryAfterMs).toBeGreaterThanOrEqual(1);
    await first;
  });

  it("names timeout.run, not max_wait_ms, when the run's own deadline ends its wait", async () => {
    await setup({ connection: { requests: 1, per_ms: 3000, concurrency: 1 } }, await startTimedUpstream(0, (req, res) => {
      if (!req.url.includes('slow')) return false;
      setTimeout(() => res.end('{}'), 600);
      return true;
    }));
    await run();
    // A full window: the wait is known, and longer than the run's deadline allows.
    const windowed = await errorOf(run({ timeout: { run: 200 } }));
    expect(windowed.code).toBe('RATE_LIMITED');
    expect(windowed.message).toMatch(/more than this run may wait \(its timeout\.run is 200 ms\)/);
    expect(windowed.message).toMatch(/give the run a longer timeout\.run/);
    expect(windowed.message).not.toMatch(/max_wait_ms/);
    // A concurrency cap: no known wait; the run gives up when its deadline passes.
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: { concurrency: 1 } });
    await ductape.apps.actions.create({ app: 'api', event: 'slow', method: 'GET', path: '/slow' });
    const slow = ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'slow' });
    const capped = await errorOf(run({ timeout: { run: 100 } }));
    expect(capped.message).toMatch(/has no slot within this run's timeout\.run \(100 ms\)/);
    expect(capped.message).not.toMatch(/max_wait_ms/);
    await slow;
  });

  it('does not announce, as retryAfterMs, a wait that has already ended', async () => {
    await setup({ connection: [{ requests: 1, per_ms: 300, max_wait_ms: 50 }, { concurrency: 1 }] }, await startTimedUpstream(0, (req, res) => {
      if (!req.url.includes('slow')) return false;
      setTimeout(() => res.end('{}'), 600);
      return true;
    }));
    await run();
    expect((await errorOf(run())).details.retryAfterMs).toBeGreaterThan(100);
    await new Promise((r) => setTimeout(r, 400));
    await ductape.apps.actions.create({ app: 'api', event: 'slow', method: 'GET', path: '/slow' });
    const slow = ductape.actions.run({ env: 'prd', product: 'shop', app: 'api', event: 'slow' });
    // Stuck behind the request in flight: that 300 ms wait ended long ago and says nothing about this one.
    const capped = await errorOf(run());
    expect(capped.message).toMatch(/within max_wait_ms \(50 ms\)/);
    expect(capped.details.retryAfterMs).toBeLessThan(100);
    await slow;
  });

  it('cache hits do not count against the limit', async () => {
    await setup({ connection: { requests: 1, per_ms: 60_000, max_wait_ms: 50 } });
    await run({ cache: 'items' });
    for (let i = 0; i < 5; i++) await expect(run({ cache: 'items' })).resolves.toEqual({ n: 1 });
    expect(up.arrivals).toHaveLength(1);
  });

  it('limits each connection separately, and null removes a connection limit', async () => {
    await setup({ connection: { requests: 1, per_ms: 60_000, max_wait_ms: 0 } });
    await ductape.products.create({ tag: 'other', envs: ['prd'] });
    await ductape.products.apps.connect({ product: 'other', app: 'api' });
    await run();
    await expect(ductape.actions.run({ env: 'prd', product: 'other', app: 'api', event: 'list_items' })).resolves.toEqual({ n: 2 });
    expect((await errorOf(run())).code).toBe('RATE_LIMITED');
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: null });
    await expect(run()).resolves.toEqual({ n: 3 });
  });

  it('apps.update sets and removes the app default', async () => {
    await setup({});
    const updated = await ductape.apps.update({ app: 'api', rate_limit: { requests: 1, per_ms: 60_000, max_wait_ms: 0 } });
    expect(updated.rate_limit).toEqual({ requests: 1, per_ms: 60_000, max_wait_ms: 0 });
    await run();
    expect((await errorOf(run())).code).toBe('RATE_LIMITED');
    expect((await ductape.apps.update({ app: 'api', rate_limit: null })).rate_limit).toBeUndefined();
    await run();
    expect((await errorOf(ductape.apps.update({ app: 'api', rate_limit: { requests: 1 } } as never))).code).toBe('CONFIG_ERROR');
    expect((await errorOf(ductape.apps.update({ app: 'api', envs: [] } as never))).code).toBe('CONFIG_ERROR');
  });

  it('close() ends runs waiting for a slot', async () => {
    await setup({ connection: { requests: 1, per_ms: 10_000 } });
    await run();
    const waiting = errorOf(run());
    await new Promise((r) => setTimeout(r, 50));
    await ductape.close();
    expect((await waiting).code).toBe('NETWORK_ERROR');
  });

  it('close() also ends runs waiting under a limit that has changed since they started waiting', async () => {
    await setup({ connection: { requests: 1, per_ms: 10_000 } });
    await run();
    const waiting = errorOf(run());
    await new Promise((r) => setTimeout(r, 50));
    await ductape.products.apps.configure({ product: 'shop', app: 'api', env: 'prd', rate_limit: { requests: 5, per_ms: 10_000 } });
    await run(); // the new limit has its own limiter
    await ductape.close();
    const err = await waiting;
    // Not a NETWORK_ERROR from the closed pool 10 s later ("UND_ERR_DESTROYED … check the base URL").
    expect(err.message).toMatch(/closed while this run waited for a rate limit slot/);
    expect(up.arrivals).toHaveLength(2);
  });
});
