// Retries, idempotency keys and timeouts through ductape.actions.run against the fault-injecting server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import type { AppDef } from '../../src/model/app.js';
import { newClient } from '../helpers/client.js';
import { json, rateLimitedUntil, refusedOrigin, startFaultServer, storm, type FaultServer } from '../helpers/fault-server.js';
import { errorOf as failure } from '../helpers/errors.js';

let server: FaultServer;
let ductape: Ductape;

// Tiny backoff windows so retries do not slow the suite; Retry-After tests set their own ceiling.
const FAST = { baseMs: 1, capMs: 5 };

async function define(opts: { app?: Partial<AppDef>; baseUrl?: string } = {}): Promise<void> {
  await ductape.apps.create({ tag: 'vendor', envs: [{ slug: 'prd', base_url: opts.baseUrl ?? server.url }], retry: FAST, ...opts.app });
  await ductape.apps.actions.create({ app: 'vendor', event: 'get_thing', method: 'GET', path: '/things/{id}' });
  await ductape.apps.actions.create({ app: 'vendor', event: 'create_thing', method: 'POST', path: '/things', schemas: { body: { type: 'object' } } });
  await ductape.apps.actions.create({ app: 'vendor', event: 'patch_thing', method: 'PATCH', path: '/things/{id}', schemas: { body: { type: 'object' } } });
  await ductape.apps.actions.create({ app: 'vendor', event: 'put_thing', method: 'PUT', path: '/things/{id}', schemas: { body: { type: 'object' } } });
  await ductape.apps.actions.create({ app: 'vendor', event: 'delete_thing', method: 'DELETE', path: '/things/{id}' });
  await ductape.apps.actions.create({ app: 'vendor', event: 'run_report', method: 'GET', path: '/reports/run', unsafe: true });
  await ductape.apps.actions.create({ app: 'vendor', event: 'slow_thing', method: 'GET', path: '/slow', timeout_ms: 150 });
  await ductape.products.create({ tag: 'shop', envs: ['prd'] });
  await ductape.products.apps.connect({ product: 'shop', app: 'vendor' });
}

type RunArgs = Parameters<Ductape['actions']['execute']>[0];
const base = { env: 'prd', product: 'shop', app: 'vendor' };
const getThing = (extra: Partial<RunArgs> = {}) => ductape.actions.execute({ ...base, event: 'get_thing', input: { params: { id: '1' } }, ...extra });
const createThing = (extra: Partial<RunArgs> = {}) =>
  ductape.actions.execute({ ...base, event: 'create_thing', input: { body: { name: 'widget' } }, ...extra });


beforeEach(async () => {
  server = await startFaultServer();
  ductape = newClient();
});

afterEach(async () => {
  await ductape.close();
  await server.close();
});

describe('retry stage: which failures are retried', () => {
  it('succeeds with attempts: 3 when a GET with retries: 3 meets two 503s and then a 200', async () => {
    await define();
    server.enqueue(...storm(2), json(200, { id: '1' }));
    const res = await getThing({ retries: 3 });
    expect(res).toMatchObject({ status: 200, data: { id: '1' }, attempts: 3, cached: false });
    expect(server.count).toBe(3);
    expect(server.requests.every((r) => r.method === 'GET' && r.url === '/things/1')).toBe(true);
  });

  it('gives up after 1 + retries attempts and reports UPSTREAM_ERROR with attempts and retryable', async () => {
    await define();
    server.enqueue(...storm(10));
    const err = await failure(getThing({ retries: 3 }));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, attempts: 4, retryable: true, body: { error: 'unavailable' } });
    expect(server.count).toBe(4);
  });

  it.each([408, 425, 429, 500, 502, 504])('retries a GET after %i', async (status) => {
    await define();
    server.enqueue({ status, body: { error: 'x' } }, json(200, { ok: 1 }));
    expect(await getThing({ retries: 1 })).toMatchObject({ status: 200, attempts: 2 });
  });

  it.each([400, 401, 404, 409, 422, 501])('does not retry a GET after %i', async (status) => {
    await define();
    server.enqueue({ status, body: { error: 'x' } }, json(200, { ok: 1 }));
    const err = await failure(getThing({ retries: 3 }));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status, attempts: 1, retryable: false });
    expect(server.count).toBe(1);
  });

  it('makes one attempt when neither the call nor the app asks for retries', async () => {
    await define({ app: { retry: undefined } });
    server.enqueue(...storm(1), json(200, {}));
    expect(await failure(getThing())).toMatchObject({ code: 'UPSTREAM_ERROR', attempts: 1 });
  });

  it("uses the app's default policy, which retries on the call override", async () => {
    await define({ app: { retry: { ...FAST, retries: 2 } } });
    server.enqueue(...storm(2), json(200, { ok: true }));
    expect(await getThing()).toMatchObject({ attempts: 3, data: { ok: true } });
    server.enqueue(...storm(1), json(200, { ok: true }));
    expect(await failure(getThing({ retries: 0 }))).toMatchObject({ code: 'UPSTREAM_ERROR', attempts: 1 });
  });

  it('retries a GET whose connection was reset mid-body', async () => {
    await define();
    server.enqueue({ fault: 'reset-mid-body', body: { items: Array.from({ length: 50 }, (_, i) => i) } }, json(200, { ok: true }));
    expect(await getThing({ retries: 2 })).toMatchObject({ data: { ok: true }, attempts: 2 });
  });

  it('answers a complete response with cut JSON once, as the text that arrived (nothing to retry)', async () => {
    await define();
    server.enqueue({ fault: 'truncate-json', body: { id: 'abc', items: [1, 2, 3] } });
    const res = await getThing({ retries: 3 });
    expect(res.attempts).toBe(1);
    expect(typeof res.data).toBe('string');
    expect(JSON.stringify({ id: 'abc', items: [1, 2, 3] }).startsWith(res.data as string)).toBe(true);
  });

  it('reports NETWORK_ERROR (never sent, retryable) after retrying a refused connection', async () => {
    server = await startFaultServer();
    await define({ baseUrl: await refusedOrigin() });
    const err = await failure(getThing({ retries: 2 }));
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', errno: 'ECONNREFUSED', reachedServer: false, attempts: 3, retryable: true });
    expect(err.message).toMatch(/never sent/);
  });
});

describe('retry stage: state-changing requests', () => {
  it('does not retry a POST without an idempotency key after a 500', async () => {
    await define();
    server.enqueue({ status: 500, body: { error: 'boom' } }, json(201, { id: 'x' }));
    const err = await failure(createThing({ retries: 3 }));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status: 500, attempts: 1, retryable: false });
    expect(err.message).toMatch(/idempotency key/);
    expect(server.count).toBe(1);
  });

  it('retries a POST after a refused connection, which never reached the server', async () => {
    await define({ baseUrl: await refusedOrigin() });
    const err = await failure(createThing({ retries: 3 }));
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', reachedServer: false, attempts: 4 });
  });

  it('retries a POST that is refused first and then reaches the server once it listens again', async () => {
    await define({ app: { retry: { baseMs: 400, capMs: 400 } } });
    // A first run compiles the plan, so the refused run's first attempt goes out at once.
    await createThing();
    await server.refuse();
    // The server comes back while the run waits between attempts; no earlier attempt reached it.
    const run = createThing({ retries: 20 });
    setTimeout(() => void server.resume(), 150);
    const res = await run;
    expect(res.status).toBe(200);
    expect(res.attempts).toBeGreaterThan(1);
    expect(server.count).toBe(2);
  });

  it('does not retry a POST whose connection was reset after it was sent', async () => {
    await define();
    server.enqueue({ fault: 'reset' }, json(201, { id: 'x' }));
    const err = await failure(createThing({ retries: 3 }));
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', reachedServer: true, attempts: 1, retryable: false });
    expect(server.count).toBe(1);
  });

  it.each([429, 503])('retries a POST after %i (the server did not act on it)', async (status) => {
    await define();
    server.enqueue({ status, body: {} }, json(201, { id: 'x' }));
    expect(await createThing({ retries: 1 })).toMatchObject({ status: 201, attempts: 2 });
  });

  it('treats PATCH like POST, and PUT and DELETE as idempotent (RFC 9110)', async () => {
    await define();
    server.enqueue({ status: 500, body: {} });
    expect(await failure(ductape.actions.execute({ ...base, event: 'patch_thing', input: { params: { id: '1' }, body: {} }, retries: 2 }))).toMatchObject({
      attempts: 1,
    });
    server.enqueue({ status: 500, body: {} }, json(200, {}));
    expect(await ductape.actions.execute({ ...base, event: 'put_thing', input: { params: { id: '1' }, body: {} }, retries: 2 })).toMatchObject({ attempts: 2 });
    server.enqueue({ status: 502, body: {} }, { status: 204 });
    expect(await ductape.actions.execute({ ...base, event: 'delete_thing', input: { params: { id: '1' } }, retries: 2 })).toMatchObject({ attempts: 2, data: null });
  });

  it('does not retry a GET the action marks unsafe after a 500', async () => {
    await define();
    server.enqueue({ status: 500, body: {} }, json(200, {}));
    expect(await failure(ductape.actions.execute({ ...base, event: 'run_report', retries: 3 }))).toMatchObject({ attempts: 1 });
  });
});

describe('retry stage: idempotency keys', () => {
  const keyOf = (i: number) => server.requests[i].headers['idempotency-key'];

  it('sends the same generated key on every attempt of a POST, and a new key on the next run', async () => {
    await define({ app: { idempotency_header: 'Idempotency-Key' } });
    server.enqueue({ status: 500, body: {} }, { fault: 'reset' }, json(201, { id: 'x' }));
    expect(await createThing({ retries: 3 })).toMatchObject({ status: 201, attempts: 3 });
    expect(server.count).toBe(3);
    expect(keyOf(0)).toMatch(/^[0-9a-f-]{36}$/);
    expect([keyOf(1), keyOf(2)]).toEqual([keyOf(0), keyOf(0)]);
    await createThing();
    expect(keyOf(3)).toMatch(/^[0-9a-f-]{36}$/);
    expect(keyOf(3)).not.toBe(keyOf(0));
  });

  it("keeps the caller's own key on every attempt", async () => {
    await define({ app: { idempotency_header: 'Idempotency-Key' } });
    server.enqueue({ status: 502, body: {} }, json(201, {}));
    await ductape.actions.execute({ ...base, event: 'create_thing', input: { body: {}, headers: { 'Idempotency-Key': 'order-77' } }, retries: 1 });
    expect([keyOf(0), keyOf(1)]).toEqual(['order-77', 'order-77']);
  });

  it('adds a key when the action declares an Idempotency-Key header param, even without the app setting', async () => {
    await define();
    await ductape.apps.actions.create({
      app: 'vendor',
      event: 'charge',
      method: 'POST',
      path: '/charges',
      schemas: { body: { type: 'object' } },
      parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
    });
    server.enqueue({ status: 500, body: {} }, json(201, {}));
    expect(await ductape.actions.execute({ ...base, event: 'charge', input: { body: {} }, retries: 1 })).toMatchObject({ attempts: 2 });
    expect(keyOf(0)).toMatch(/^[0-9a-f-]{36}$/);
    expect(keyOf(1)).toBe(keyOf(0));
  });

  it('sends no key on a GET', async () => {
    await define({ app: { idempotency_header: 'Idempotency-Key' } });
    await getThing();
    expect(keyOf(0)).toBeUndefined();
  });
});

describe('retry stage: Retry-After', () => {
  const gap = (i: number) => server.requests[i + 1].at - server.requests[i].at;

  it('waits as long as Retry-After (seconds) asks, within ±10%', async () => {
    await define();
    server.enqueue(...storm(1, { retryAfter: 1 }), json(200, { ok: true }));
    expect(await getThing({ retries: 1 })).toMatchObject({ attempts: 2 });
    expect(gap(0)).toBeGreaterThanOrEqual(900);
    expect(gap(0)).toBeLessThanOrEqual(1100);
  });

  it('waits until a 429 Retry-After HTTP date, within ±10%', async () => {
    await define();
    let expected = 0;
    const s = await startFaultServer({
      handler: (_req, n) => {
        if (n > 0) return json(200, { ok: true });
        const step = rateLimitedUntil(new Date(Date.now() + 1_500));
        // HTTP dates have whole seconds: the wait the client should make is to the truncated second.
        expected = Date.parse((step as { headers: Record<string, string> }).headers['retry-after']) - Date.now();
        return step;
      },
    });
    await ductape.products.apps.configure({ product: 'shop', app: 'vendor', env: 'prd', base_url: s.url });
    try {
      expect(await getThing({ retries: 1 })).toMatchObject({ attempts: 2 });
      const waited = s.requests[1].at - s.requests[0].at;
      expect(waited).toBeGreaterThanOrEqual(expected * 0.9);
      expect(waited).toBeLessThanOrEqual(expected * 1.1 + 20);
    } finally {
      await s.close();
    }
  });

  it("caps Retry-After at the app's ceiling", async () => {
    await define({ app: { retry: { ...FAST, retryAfterCeilingMs: 300 } } });
    server.enqueue(...storm(1, { retryAfter: 3600 }), json(200, { ok: true }));
    expect(await getThing({ retries: 1 })).toMatchObject({ attempts: 2 });
    expect(gap(0)).toBeGreaterThanOrEqual(270);
    expect(gap(0)).toBeLessThanOrEqual(330);
  });

  it('reports RATE_LIMITED with retryAfterMs when the last attempt got 429', async () => {
    await define({ app: { retry: { ...FAST, retryAfterCeilingMs: 10 } } });
    server.enqueue(...storm(3, { status: 429, retryAfter: 30 }));
    const err = await failure(getThing({ retries: 2 }));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 30_000, attempts: 3 });
  });
});

describe('send stage: timeouts', () => {
  it('fails with TIMEOUT (headers) when the answer does not start within the call timeout', async () => {
    await define();
    server.enqueue({ headersDelayMs: 3_000, body: 'late' });
    const err = await failure(getThing({ timeout: 150 }));
    expect(err).toMatchObject({ code: 'TIMEOUT', phase: 'headers', timeoutMs: 150, attempts: 1, retryable: true });
  });

  it('retries a GET after a timeout and succeeds when the next answer is quick', async () => {
    await define();
    server.enqueue({ headersDelayMs: 3_000, body: 'late' }, json(200, { ok: true }));
    expect(await getThing({ timeout: 1_000, retries: 2 })).toMatchObject({ data: { ok: true }, attempts: 2 });
  });

  it('does not retry a POST that timed out waiting for headers (it reached the server)', async () => {
    await define();
    server.enqueue({ headersDelayMs: 3_000, body: 'late' }, json(201, {}));
    expect(await failure(createThing({ timeout: 150, retries: 2 }))).toMatchObject({ code: 'TIMEOUT', attempts: 1, retryable: false });
  });

  it('fails with TIMEOUT (body) when the body stalls longer than timeout.body', async () => {
    await define();
    server.enqueue({ bodyDelayMs: 3_000, body: 'slow body' });
    expect(await failure(getThing({ timeout: { body: 150 } }))).toMatchObject({ code: 'TIMEOUT', phase: 'body', timeoutMs: 150 });
  });

  it('bounds the whole attempt even when every body chunk arrives in time', async () => {
    await define();
    server.enqueue({ bodyDelayMs: 100, bodyChunks: 20, body: 'x'.repeat(2_000) });
    expect(await failure(getThing({ timeout: { attempt: 400, body: 1_000 } }))).toMatchObject({ code: 'TIMEOUT', phase: 'body', timeoutMs: 400 });
  });

  it("uses the action's timeout, the app's when the action has none, and the call's over both", async () => {
    await define({ app: { timeout_ms: 200 } });
    server.enqueue({ headersDelayMs: 600, body: 'a' }, { headersDelayMs: 600, body: 'b' }, { headersDelayMs: 300, body: 'c' });
    expect(await failure(ductape.actions.execute({ ...base, event: 'slow_thing' }))).toMatchObject({ code: 'TIMEOUT', timeoutMs: 150 });
    expect(await failure(getThing())).toMatchObject({ code: 'TIMEOUT', timeoutMs: 200 });
    expect(await ductape.actions.execute({ ...base, event: 'slow_thing', timeout: 5_000 })).toMatchObject({ data: 'c' });
  });

  it('stops retrying at the run deadline instead of waiting past it', async () => {
    await define();
    server.enqueue(...storm(5, { retryAfter: 2 }));
    const err = await failure(getThing({ retries: 5, timeout: { run: 500 } }));
    expect(err).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, attempts: 1 });
    // The caller did pass retries: the message says why none was made instead of telling them to pass retries.
    expect(err.message).toMatch(/not retried again: the wait before the next attempt .* would pass the run's deadline \(timeout\.run\)/);
    expect(err.message).not.toMatch(/pass retries/);
  });

  it('ends an attempt at the run deadline when it is shorter than the attempt timeout', async () => {
    await define();
    server.enqueue({ headersDelayMs: 3_000, body: 'late' });
    expect(await failure(getThing({ timeout: { attempt: 10_000, run: 200 } }))).toMatchObject({ code: 'TIMEOUT', attempts: 1 });
  });

  it('rejects malformed timeout options, naming the accepted keys', async () => {
    await define();
    await expect(getThing({ timeout: -1 })).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
    await expect(getThing({ timeout: { total: 5 } as never })).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringMatching(/"run".*attempt, headers, body, run/) });
    // The same bound as the call's timeout for app and action defaults (a timer holds at most 2^31-1 ms).
    const tooLong = { app: 'vendor', event: 'forever', method: 'GET', path: '/forever', timeout_ms: 2 ** 31 } as const;
    await expect(ductape.apps.actions.create(tooLong)).rejects.toMatchObject({ code: 'CONFIG_ERROR', field: 'timeout_ms' });
    await expect(ductape.apps.update({ app: 'vendor', timeout_ms: 2 ** 31 })).rejects.toMatchObject({ code: 'CONFIG_ERROR', field: 'timeout_ms' });
  });
});

describe('app retry policy', () => {
  it("refuses a policy the runs could not honour: retries past the call's 20, negative or timer-overflowing waits", async () => {
    // They were stored: a negative retryAfterCeilingMs made every Retry-After wait 0, and retries: 100 allowed 101
    // attempts where the call option stops at 20.
    for (const [retry, field] of [
      [{ retries: 21 }, 'retry.retries'],
      [{ baseMs: -5 }, 'retry.baseMs'],
      [{ retryAfterCeilingMs: -1 }, 'retry.retryAfterCeilingMs'],
      [{ capMs: 2 ** 31 }, 'retry.capMs'],
    ] as const) {
      const err = await failure(ductape.apps.create({ tag: 'vendor', envs: [{ slug: 'prd', base_url: server.url }], retry }));
      expect(err).toMatchObject({ code: 'CONFIG_ERROR', field });
    }
    await define({ app: { retry: { retries: 20, baseMs: 0, capMs: 0, retryAfterCeilingMs: 0 } } });
  });
});
