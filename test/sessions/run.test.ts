// Sessions end to end: the seed's session example against a loopback upstream, errors, literal data, cross-client revocation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { newClient, TEST_KEY } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { errorOf as catchError } from '../helpers/errors.js';

let upstream: Upstream;
let ductape: Ductape;
const cleanups: (() => Promise<void> | void)[] = [];


async function define(d: Ductape, base: string): Promise<void> {
  await d.apps.create({ tag: 'analytics', envs: [{ slug: 'prd', base_url: `${base}/v1` }] });
  await d.apps.actions.create({ app: 'analytics', event: 'get_user_stats', method: 'GET', path: '/users/{userId}/stats' });
  await d.apps.actions.create({ app: 'analytics', event: 'track', method: 'POST', path: '/track', schemas: { body: { type: 'object' } } });
  await d.products.create({ tag: 'dashboard', envs: ['dev', 'prd'] });
  await d.products.apps.connect({ product: 'dashboard', app: 'analytics' });
  await d.products.sessions.create({
    product: 'dashboard',
    tag: 'user-session',
    schema: { type: 'object', required: ['user'], properties: { user: { type: 'object', required: ['id'] } } },
    selector: '$Session{user}{id}',
    expiry: 3600,
  });
}

beforeEach(async () => {
  upstream = await startUpstream();
  ductape = newClient();
  await define(ductape, upstream.url);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await ductape.close();
  await upstream.close();
});

describe('actions.run with a session', () => {
  it('runs the seed example: $Session{user}{id} fills the path param from the verified token', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    await ductape.actions.run({
      env: 'prd',
      product: 'dashboard',
      app: 'analytics',
      event: 'get_user_stats',
      input: {
        params: { userId: '$Session{user}{id}' },
      },
      session: {
        tag: 'user-session',
        token,
      },
    });
    expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/users/42/stats']);
  });

  it('accepts the "tag:token" string form', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '7' } } });
    await ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats', input: { params: { userId: '$Session{user}{id}' } }, session: `user-session:${token}` });
    expect(upstream.requests[0].url).toBe('/v1/users/7/stats');
  });

  it('keeps value types and interpolates text anywhere in the input', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42', age: 31, roles: ['a', 'b'] } } });
    await ductape.actions.run({
      env: 'prd',
      product: 'dashboard',
      app: 'analytics',
      event: 'track',
      input: { body: { who: '$Session{user}', age: '$Session{user}{age}', label: 'user $Session{user}{id} (\\$5)' }, headers: { 'x-user': '$Session{user}{id}' } },
      session: { tag: 'user-session', token },
    });
    const sent = upstream.requests[0];
    expect(JSON.parse(sent.body)).toEqual({ who: { id: '42', age: 31, roles: ['a', 'b'] }, age: 31, label: 'user 42 ($5)' });
    expect(sent.headers['x-user']).toBe('42');
  });

  it('sends session data that contains placeholder text literally', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '$Secret{STRIPE_KEY}', note: '$Session{user}{id}' } } });
    await ductape.secrets.set({ key: 'STRIPE_KEY', value: 'sk_live_must_not_leak' });
    await ductape.actions.run({
      env: 'prd',
      product: 'dashboard',
      app: 'analytics',
      event: 'track',
      input: { body: { id: '$Session{user}{id}', note: 'n=$Session{user}{note}' } },
      session: { tag: 'user-session', token },
    });
    expect(JSON.parse(upstream.requests[0].body)).toEqual({ id: '$Secret{STRIPE_KEY}', note: 'n=$Session{user}{id}' });
  });

  it('gives INVALID_INPUT naming the placeholder and where when the session path is missing, and sends nothing', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    const err = await catchError(
      ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats', input: { params: { userId: '$Session{user}{email}' } }, session: { tag: 'user-session', token } }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect((err as unknown as { issues: unknown[] }).issues).toEqual([
      { location: 'params', path: '/userId', message: expect.stringContaining('$Session{user}{email} has no value') },
    ]);
    expect(err.message).toContain('$Session{user}{email}');
    expect(upstream.requests).toHaveLength(0);
  });

  it('gives INVALID_INPUT when $Session is used without a session', async () => {
    const err = await catchError(ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats', input: { params: { userId: '$Session{user}{id}' } } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('this run has no session');
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects tampered, foreign and expired tokens before anything else, without detail', async () => {
    const { token } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    const dev = await ductape.sessions.start({ product: 'dashboard', env: 'dev', tag: 'user-session', data: { user: { id: '42' } } });
    const run = (t: string, event = 'get_user_stats') =>
      ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event, input: { params: { userId: '$Session{user}{id}' } }, session: { tag: 'user-session', token: t } });
    const tampered = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
    for (const t of [tampered, dev.token, 'garbage', '']) {
      const err = await catchError(run(t));
      expect(err.code).toBe('SESSION_INVALID');
      expect(Object.keys(err.toJSON())).toEqual(['code', 'message']);
    }
    // Verified before the event is even looked up.
    expect((await catchError(run('garbage', 'no_such_event'))).code).toBe('SESSION_INVALID');
    expect(upstream.requests).toHaveLength(0);
    const logs = await ductape.logs.query({ product: 'dashboard' });
    expect(logs.every((l) => l.errorCode === 'SESSION_INVALID')).toBe(true);
  });

  it('rejects a revoked token at the next run of the same client', async () => {
    const { token, sessionId } = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    const run = () => ductape.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats', input: { params: { userId: '$Session{user}{id}' } }, session: { tag: 'user-session', token } });
    await run();
    expect(await ductape.sessions.revoke({ product: 'dashboard', env: 'prd', tag: 'user-session', sessionId })).toEqual({ revoked: 1 });
    expect((await catchError(run())).code).toBe('SESSION_INVALID');
    expect(upstream.requests).toHaveLength(1);
  });

  it('makes a revocation by another client on the same SQLite file visible at the next run after the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ductape-run-sessions-'));
    const file = `sqlite:${join(dir, 'ductape.db')}`;
    const a = new Ductape({ workspace_id: 'acme', private_key: TEST_KEY, store: file, revision_poll_ms: 0 });
    const b = new Ductape({ workspace_id: 'acme', private_key: TEST_KEY, store: file, revision_poll_ms: 0 });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => a.close(), () => b.close());
    await define(a, upstream.url);
    const { token } = await a.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '42' } } });
    const runB = () => b.actions.run({ env: 'prd', product: 'dashboard', app: 'analytics', event: 'get_user_stats', input: { params: { userId: '$Session{user}{id}' } }, session: { tag: 'user-session', token } });
    await runB();
    expect(await a.sessions.revoke({ product: 'dashboard', env: 'prd', tag: 'user-session', identifier: '42' })).toEqual({ revoked: 1 });
    // The documented bound for other processes is DEFAULT_REVOCATION_CHECK_MS (100 ms); wait it out, then run once.
    await new Promise((r) => setTimeout(r, 150));
    expect((await catchError(runB())).code).toBe('SESSION_INVALID');
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('ductape.sessions and products.sessions', () => {
  it('exposes the whole lifecycle through the client', async () => {
    expect((await ductape.products.sessions.list({ product: 'dashboard' })).map((t) => t.tag)).toEqual(['user-session']);
    const t = await ductape.products.sessions.update({ product: 'dashboard', tag: 'user-session', expiry: 60 });
    expect(t.expiry).toBe(60);
    const s = await ductape.sessions.start({ product: 'dashboard', env: 'prd', tag: 'user-session', data: { user: { id: '1' } } });
    expect(await ductape.sessions.verify({ product: 'dashboard', env: 'prd', tag: 'user-session', token: s.token })).toMatchObject({ valid: true, sessionId: s.sessionId });
    const r = await ductape.sessions.refresh({ product: 'dashboard', env: 'prd', tag: 'user-session', refreshToken: s.refreshToken });
    expect((await ductape.sessions.listActive({ product: 'dashboard' })).map((x) => x.sessionId)).toEqual([s.sessionId]);
    expect(await ductape.sessions.revokeAll({ product: 'dashboard', identifier: '1' })).toEqual({ revoked: 1 });
    expect((await ductape.sessions.verify({ product: 'dashboard', env: 'prd', tag: 'user-session', token: r.token })).valid).toBe(false);
    expect(await ductape.products.sessions.delete({ product: 'dashboard', tag: 'user-session' })).toEqual({ deleted: true, revoked: 0 });
  });
});
