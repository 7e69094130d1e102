// The fault server is what the retry and cache tests trust, so each of its faults is checked here with undici.
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { rateLimitedUntil, refusedOrigin, startFaultServer, storm } from './fault-server.js';

async function started(...args: Parameters<typeof startFaultServer>) {
  const server = await startFaultServer(...args);
  onTestFinished(() => server.close());
  return server;
}
const errorCode = (e: unknown) => (e as { code?: string }).code;

describe('startFaultServer', () => {
  it('answers scripted steps in order, then the fallback, and records every request', async () => {
    const s = await started({ script: [{ status: 201, body: { id: 1 }, headers: { 'x-a': '1' } }, { status: 204 }] });
    const a = await request(`${s.url}/things?x=1`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' } });
    expect([a.statusCode, a.headers['x-a'], await a.body.json()]).toEqual([201, '1', { id: 1 }]);
    const b = await request(`${s.url}/b`);
    expect(b.statusCode).toBe(204);
    await b.body.dump();
    const c = await request(`${s.url}/c`);
    expect(await c.body.json()).toEqual({ ok: true });
    expect(s.count).toBe(3);
    expect(s.requests[0]).toMatchObject({ method: 'POST', url: '/things?x=1', text: '{"n":1}' });
    expect(s.requests[0].headers['idempotency-key']).toBe('k1');
  });

  it('sends 503 storms with and without Retry-After and a 429 with an HTTP date', async () => {
    const until = new Date(Date.now() + 30_000);
    const s = await started({ script: [...storm(1), ...storm(1, { retryAfter: 2 }), rateLimitedUntil(until)] });
    const r1 = await request(s.url);
    const r2 = await request(s.url);
    const r3 = await request(s.url);
    for (const r of [r1, r2, r3]) await r.body.dump();
    expect([r1.statusCode, r1.headers['retry-after']]).toEqual([503, undefined]);
    expect([r2.statusCode, r2.headers['retry-after']]).toEqual([503, '2']);
    expect([r3.statusCode, r3.headers['retry-after']]).toEqual([429, until.toUTCString()]);
  });

  it('resets the connection without answering', async () => {
    const s = await started({ script: [{ fault: 'reset' }] });
    await expect(request(s.url)).rejects.toSatisfy((e) => ['UND_ERR_SOCKET', 'ECONNRESET'].includes(errorCode(e) ?? ''));
    expect(s.count).toBe(1);
  });

  it('resets mid-body after sending headers and half the body', async () => {
    const s = await started({ script: [{ fault: 'reset-mid-body', body: { items: Array.from({ length: 100 }, (_, i) => i) } }] });
    const r = await request(s.url);
    expect(r.statusCode).toBe(200);
    await expect(r.body.text()).rejects.toBeTruthy();
  });

  it('sends a complete response whose JSON is cut', async () => {
    const s = await started({ script: [{ fault: 'truncate-json', body: { a: 'hello', b: [1, 2, 3] } }] });
    const r = await request(s.url);
    const text = await r.body.text();
    expect(r.headers['content-type']).toBe('application/json');
    expect(text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('sends headers slowly, and the body slowly, so client timeouts fire', async () => {
    const s = await started({ script: [{ headersDelayMs: 2_000, body: 'late' }, { bodyDelayMs: 2_000, body: 'late body' }] });
    const agent = new Agent({ headersTimeout: 100, bodyTimeout: 100 });
    onTestFinished(() => agent.close());
    await expect(request(s.url, { dispatcher: agent })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    const r = await request(s.url, { dispatcher: agent });
    expect(r.statusCode).toBe(200);
    await expect(r.body.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('trickles a slow body in pieces that still arrive whole', async () => {
    const s = await started({ script: [{ bodyDelayMs: 10, bodyChunks: 4, body: 'abcdefgh' }] });
    const r = await request(s.url);
    expect(await r.body.text()).toBe('abcdefgh');
  });

  it('refuses connections after refuse() (pooled ones too) and serves again after resume()', async () => {
    const s = await started();
    const agent = new Agent();
    onTestFinished(() => agent.close());
    await (await request(s.url, { dispatcher: agent })).body.dump();
    await s.refuse();
    await expect(request(s.url, { dispatcher: agent })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await s.resume();
    expect((await request(s.url, { dispatcher: agent })).statusCode).toBe(200);
  });

  it('gives an origin where connections are refused', async () => {
    await expect(request(await refusedOrigin())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('computes answers with a handler when given one', async () => {
    const s = await started({ handler: (req, n) => ({ status: 200, body: { n, path: req.url } }) });
    expect(await (await request(`${s.url}/x`)).body.json()).toEqual({ n: 0, path: '/x' });
    expect(await (await request(`${s.url}/y`)).body.json()).toEqual({ n: 1, path: '/y' });
  });

  it('never answers a hanging request until closed', async () => {
    const s = await startFaultServer({ script: [{ fault: 'hang' }] });
    const pending = request(s.url).then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(s.count).toBe(1);
    await s.close();
    expect(await pending).toBe('closed');
  });
});
