// `ductape serve` as a real process on loopback: every route, every error status of API.md §6, key scopes, a key
// revoked through one process refused by a second within 1 s, SIGTERM draining, and the OpenAPI document checked by
// @readme/openapi-parser and by Prism replaying the requests this file sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ductape } from '../../src/index.js';
import { createServerApp, routeList } from '../../src/server/app.js';
import { KeyRing } from '../../src/server/auth.js';
import { refusedPort } from '../helpers/ports.js';
import { startPrism } from '../helpers/prism.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const PRIVATE_KEY = 'serve-test-key-0123456789';
const DEEP = 20_000;
let dir: string;
let env: Record<string, string>;
let upstream: Upstream;
let serve: ServeProcess;
const keys: Record<'admin' | 'shop' | 'other', string> = { admin: '', shop: '', other: '' };

interface Sent {
  method: string;
  path: string;
  body?: unknown;
  auth?: string;
  headers?: Record<string, string>;
  status: number;
}
const sent: Sent[] = [];

async function call(method: string, path: string, opts: { body?: unknown; key?: string | null; raw?: string; base?: string; headers?: Record<string, string> } = {}) {
  const key = opts.key === undefined ? keys.admin : opts.key;
  const headers: Record<string, string> = { ...opts.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const text = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (text !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch((opts.base ?? serve.url) + path, { method, headers, body: text });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  sent.push({ method, path, body: opts.body, auth: headers.authorization, headers: opts.headers, status: res.status });
  return { status: res.status, headers: res.headers, body: body as any };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ductape-serve-'));
  upstream = await startUpstream(async (req, res) => {
    const path = req.url.split('?')[0];
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (path.startsWith('/users/')) return json(200, { id: path.slice(7), tenant: req.headers['x-tenant'] ?? null });
    if (path === '/fail') return json(400, { error: 'card_declined' });
    if (path === '/limited') return json(429, { error: 'slow down' }, { 'retry-after': '2' });
    if (path === '/token') return json(401, { error: 'invalid_client' });
    // JSON nested deeper than JSON.stringify can write (it recurses once per level).
    if (path === '/deep') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"a":'.repeat(DEEP) + '[]' + '}'.repeat(DEEP));
      return;
    }
    if (path === '/bin') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([0, 1, 2, 255]));
      return;
    }
    if (path === '/slow' || path === '/drain') {
      await new Promise((r) => setTimeout(r, path === '/slow' ? 3000 : 1500));
      return json(200, { done: true });
    }
    json(404, { error: 'no route' });
  });
  const dead = await refusedPort();
  env = { DUCTAPE_WORKSPACE: 'acme', DUCTAPE_USER: 'serve@acme.test', DUCTAPE_PRIVATE_KEY: PRIVATE_KEY, DUCTAPE_STORE: `sqlite:${join(dir, 'ws.db')}` };

  const d = new Ductape({ workspace_id: 'acme', user_id: 'setup@acme.test', private_key: PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
  await d.apps.create({ tag: 'api', envs: [{ slug: 'dev', base_url: upstream.url }, { slug: 'prd', base_url: upstream.url }] });
  for (const [event, method, path] of [
    ['fetch_user', 'GET', '/users/{userId}'],
    ['fail', 'POST', '/fail'],
    ['limited', 'GET', '/limited'],
    ['slow', 'GET', '/slow'],
    ['drain', 'GET', '/drain'],
    ['bin', 'GET', '/bin'],
    ['deep', 'GET', '/deep'],
  ]) {
    await d.apps.actions.create({ app: 'api', event, method, path });
  }
  await d.apps.create({ tag: 'dead', envs: [{ slug: 'dev', base_url: `http://127.0.0.1:${dead}` }] });
  await d.apps.actions.create({ app: 'dead', event: 'ping', method: 'GET', path: '/ping' });
  await d.apps.actions.create({ app: 'api', event: 'me', method: 'GET', path: '/users/me' });
  await d.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
  await d.products.create({ tag: 'other', envs: ['dev'] });
  await d.products.apps.connect({ product: 'shop', app: 'api' });
  await d.products.apps.connect({ product: 'shop', app: 'dead' });
  await d.products.apps.connect({ product: 'shop', app: 'api', access_tag: 'oauth' });
  await d.products.apps.connect({ product: 'shop', app: 'api', access_tag: 'broken' });
  await d.products.apps.configure({ product: 'shop', app: 'api', env: 'dev', headers: { 'x-tenant': 'acme' } });
  await d.products.apps.configure({
    product: 'shop',
    app: 'oauth',
    env: 'dev',
    auth: { type: 'oauth2', grant: 'client_credentials', token_url: `${upstream.url}/token`, client_id: 'id', client_secret: 'sk_oauth_secret_123' },
  });
  await d.products.apps.configure({ product: 'shop', app: 'broken', env: 'dev', headers: { 'x-v': '$Variable{missing}' } });
  await d.products.sessions.create({ product: 'shop', tag: 'user-session', sample: { user: { id: '1' } }, selector: '$Session{user}{id}', expiry: 1 });
  keys.admin = (await d.keys.create({ name: 'admin', role: 'admin' })).key;
  keys.shop = (await d.keys.create({ name: 'shop-dev', role: 'run', product: 'shop', env: 'dev' })).key;
  keys.other = (await d.keys.create({ name: 'other', role: 'run', product: 'other' })).key;
  await d.close();
  serve = await startServe(env, ['--max-body-bytes', '65536']);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (input: Record<string, unknown>, key = keys.shop) => call('POST', '/v1/actions/run', { body: { env: 'dev', product: 'shop', ...input }, key });

describe('ductape serve', () => {
  it('answers health, readiness and a valid OpenAPI 3.1 document without a key', async () => {
    expect((await call('GET', '/healthz', { key: null })).status).toBe(200);
    expect((await call('GET', '/readyz', { key: null })).body).toEqual({ ready: true });
    const doc = (await call('GET', '/v1/openapi.json', { key: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc));
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('runs an action for a run key and answers the envelope', async () => {
    const r = await run({ app: 'api', event: 'fetch_user', input: { params: { userId: '42' } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 200, data: { id: '42', tenant: 'acme' }, attempts: 1, cached: false, request: { method: 'GET', url: `${upstream.url}/users/42` } });
    expect(r.body.durationMs).toEqual(expect.any(Number));
  });

  it('answers a binary body as base64', async () => {
    const r = await run({ app: 'api', event: 'bin' });
    expect(r.body).toMatchObject({ status: 200, encoding: 'base64', data: Buffer.from([0, 1, 2, 255]).toString('base64') });
  });

  it('relays an answer nested deeper than JSON.stringify can write, and refuses such input with 400', async () => {
    const r = await run({ app: 'api', event: 'deep' });
    expect(r.status).toBe(200);
    let data = r.body.data;
    let levels = 0;
    while (data && !Array.isArray(data)) [data, levels] = [data.a, levels + 1];
    expect([levels, data]).toEqual([DEEP, []]);

    let nested: unknown = {};
    for (let i = 0; i < 300; i++) nested = { n: nested };
    const deepInput = await call('POST', '/v1/sessions/start', { body: { product: 'shop', env: 'dev', tag: 'user-session', data: { user: { id: '7' }, nested } }, key: keys.shop });
    expect([deepInput.status, deepInput.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    expect(deepInput.body.error.message).toContain('/data/nested/n/n/n/n/n/n: holds values nested more than 256 levels deep');
  });

  it('refuses requests without a key, with an unknown key, and out of scope', async () => {
    const none = await call('GET', '/v1/apps', { key: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect((await call('GET', '/v1/apps', { key: 'dtk_not_a_key' })).status).toBe(401);
    const foreign = await run({ app: 'api', event: 'fetch_user', input: { params: { userId: '1' } } }, keys.other);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('FORBIDDEN');
    expect((await run({ env: 'prd', app: 'api', event: 'fetch_user', input: { params: { userId: '1' } } })).status).toBe(403);
    expect((await call('GET', '/v1/apps', { key: keys.shop })).status).toBe(403);
    // A query parameter of one value given twice is refused, whichever comes first: no guess at which the scope means.
    for (const query of ['product=shop&env=dev&product=other', 'product=other&env=dev&product=shop']) {
      const twice = await call('GET', `/v1/connections?${query}`, { key: keys.shop });
      expect([twice.status, twice.body.error.issues]).toEqual([400, [{ location: 'query', path: '/product', message: 'is given 2 times; it takes one value' }]]);
    }
    expect((await call('GET', '/v1/connections?product=shop&env=dev', { key: keys.shop })).body).toEqual([]);
    // Without env (optional there: every env) the refusal said 'not "undefined"'.
    const everyEnv = await call('GET', '/v1/connections?product=shop', { key: keys.shop });
    expect([everyEnv.status, everyEnv.body.error.message]).toEqual([403, 'This run key is for env "dev" of product "shop", not every env: give env "dev".']);
  });

  it('maps every error code to its status (API.md §6)', async () => {
    const bad = await run({ app: 'api' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    expect(bad.body.error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ location: 'body', path: '/event' })]));
    expect((await call('POST', '/v1/actions/run', { raw: '{oops', key: keys.shop })).status).toBe(400);

    const missing = await run({ app: 'api', event: 'nope' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);

    const invalid = await run({ app: 'api', event: 'fetch_user', input: { params: { userId: '1' } }, session: 'user-session:garbage' });
    expect([invalid.status, invalid.body.error.code]).toEqual([401, 'SESSION_INVALID']);
    const started = await call('POST', '/v1/sessions/start', { body: { product: 'shop', env: 'dev', tag: 'user-session', data: { user: { id: '7' } } }, key: keys.shop });
    expect(started.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2200));
    const expired = await run({ app: 'api', event: 'fetch_user', input: { params: { userId: '1' } }, session: { tag: 'user-session', token: started.body.token } });
    expect([expired.status, expired.body.error.code]).toEqual([401, 'SESSION_EXPIRED']);

    const upstreamError = await run({ app: 'api', event: 'fail' });
    expect([upstreamError.status, upstreamError.body.error.code]).toEqual([424, 'UPSTREAM_ERROR']);
    expect(upstreamError.body.error).toMatchObject({ status: 400, body: { error: 'card_declined' } });
    expect(upstreamError.body.error.headers['content-type']).toBe('application/json');

    const authFailed = await run({ app: 'oauth', event: 'me' });
    expect([authFailed.status, authFailed.body.error.code]).toEqual([424, 'AUTH_FAILED']);
    expect(JSON.stringify(authFailed.body)).not.toContain('sk_oauth_secret_123');

    const limited = await run({ app: 'api', event: 'limited' });
    expect([limited.status, limited.body.error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(limited.headers.get('retry-after')).toBe('2');

    const network = await run({ app: 'dead', event: 'ping' });
    expect([network.status, network.body.error.code]).toEqual([502, 'NETWORK_ERROR']);

    const timeout = await run({ app: 'api', event: 'slow', timeout: 300 });
    expect([timeout.status, timeout.body.error.code]).toEqual([504, 'TIMEOUT']);

    const config = await run({ app: 'broken', event: 'fetch_user', input: { params: { userId: '1' } } });
    expect([config.status, config.body.error.code]).toEqual([500, 'CONFIG_ERROR']);

    const unknownRoute = await call('GET', '/v1/nope');
    expect([unknownRoute.status, unknownRoute.body.error.code]).toEqual([404, 'NOT_FOUND']);
    // Every request but the public ones carries a key, known route or not.
    const unknownNoKey = await call('GET', '/v1/nope', { key: null });
    expect([unknownNoKey.status, unknownNoKey.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('bounds request bodies', async () => {
    const r = await call('POST', '/v1/apps', { raw: JSON.stringify({ tag: 'big', description: 'x'.repeat(100_000) }) });
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_INPUT']);
    // Without a Content-Length (chunked), the body is counted as it arrives.
    const chunk = new TextEncoder().encode('x'.repeat(10_000));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"tag":"big","description":"'));
        for (let i = 0; i < 10; i++) controller.enqueue(chunk);
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
      },
    });
    const chunked = await fetch(serve.url + '/v1/apps', { method: 'POST', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(400);
    expect(((await chunked.json()) as { error: { message: string } }).error.message).toContain('larger than 65536 bytes');
  });

  it('serves every definition operation under /v1', async () => {
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, { body });
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(200);
      return r.body;
    };
    const spec = { openapi: '3.0.3', info: { title: 'Tmp', version: '1' }, servers: [{ url: upstream.url }], paths: { '/users/{id}': { get: { operationId: 'getUser', parameters: [{ name: 'id', in: 'path', required: true, schema: { $ref: '#/components/schemas/Id' } }] } } }, components: { schemas: { Id: { type: 'string', minLength: 1 } } } };
    await ok('POST', '/v1/apps', { tag: 'tmp', envs: [{ slug: 'dev', base_url: upstream.url }] });
    expect((await ok('POST', '/v1/apps/tmp/import', { spec })).created).toEqual(['get_user']);
    // A file path would read the server's disk: refused over HTTP.
    const local = await call('POST', '/v1/apps/tmp/import', { body: { file: '/etc/passwd' } });
    expect([local.status, local.body.error.issues]).toEqual([400, [{ location: 'body', path: '/file', message: 'is not accepted over HTTP' }]]);
    // An issue names where the field came from: here the query string.
    const badQuery = await call('GET', '/v1/logs?limit=many');
    expect([badQuery.status, badQuery.body.error.issues]).toEqual([400, [{ location: 'query', path: '/limit', message: expect.stringContaining('expected a whole number') }]]);
    expect((await ok('GET', '/v1/apps')).map((a: { tag: string }) => a.tag)).toContain('tmp');
    expect((await ok('GET', '/v1/apps/tmp')).tag).toBe('tmp');
    expect((await ok('PATCH', '/v1/apps/tmp', { name: 'Temporary', timeout_ms: 5000 })).name).toBe('Temporary');
    await ok('PUT', '/v1/apps/tmp/envs/prd', { base_url: upstream.url });
    expect((await ok('GET', '/v1/apps/tmp/envs')).map((e: { slug: string }) => e.slug)).toEqual(expect.arrayContaining(['dev', 'prd']));
    await ok('POST', '/v1/apps/tmp/actions', { event: 'ping', method: 'GET', path: '/users/ping' });
    await ok('PUT', '/v1/apps/tmp/actions/ping', { method: 'GET', path: '/users/pong', summary: 'Pong' });
    expect((await ok('GET', '/v1/apps/tmp/actions')).map((a: { event: string }) => a.event).sort()).toEqual(['get_user', 'ping']);
    expect((await ok('GET', '/v1/apps/tmp/actions/ping')).path).toBe('/users/pong');
    const schema = await ok('GET', '/v1/apps/tmp/actions/get_user/schema');
    expect(schema.properties.params.properties.id).toEqual({ type: 'string', minLength: 1 });
    const described = await ok('GET', '/v1/apps/tmp/actions/get_user/describe');
    expect(described.example).toEqual({ params: { id: expect.any(String) } });
    expect((await ok('PATCH', '/v1/apps/tmp/actions/get_user', { allow_unknown_params: true })).allow_unknown_params).toBe(true);
    await ok('POST', '/v1/apps/tmp/actions/ping/rename', { to: 'pong' });
    expect(await ok('DELETE', '/v1/apps/tmp/actions/pong')).toEqual({ deleted: true });

    await ok('POST', '/v1/products', { tag: 'tmpp', envs: ['dev'] });
    expect((await ok('GET', '/v1/products')).map((p: { tag: string }) => p.tag)).toContain('tmpp');
    await ok('POST', '/v1/products/tmpp/envs', { env: 'prd' });
    expect((await ok('GET', '/v1/products/tmpp')).envs).toEqual(['dev', 'prd']);
    await ok('POST', '/v1/products/tmpp/apps', { app: 'tmp' });
    expect(await ok('GET', '/v1/products/tmpp/apps')).toEqual([{ access_tag: 'tmp', app: 'tmp' }]);
    const configured = await ok('PUT', '/v1/products/tmpp/apps/tmp/envs/dev', { auth: { type: 'bearer', token: 'sk_live_configured_123' } });
    expect(JSON.stringify(configured)).not.toContain('sk_live_configured_123');
    await ok('POST', '/v1/products/tmpp/caches', { tag: 'c1', expiry: 60000 });
    expect(await ok('GET', '/v1/products/tmpp/caches')).toEqual([{ tag: 'c1', expiry: 60000 }]);
    expect(await ok('POST', '/v1/caches/clear', { product: 'tmpp', tag: 'c1' })).toEqual({ cleared: 0 });
    expect(await ok('DELETE', '/v1/products/tmpp/caches/c1')).toEqual({ deleted: true });

    await ok('POST', '/v1/products/tmpp/sessions', { tag: 's', sample: { user: { id: '1' } }, selector: '$Session{user}{id}' });
    expect((await ok('GET', '/v1/products/tmpp/sessions')).map((t: { tag: string }) => t.tag)).toEqual(['s']);
    expect((await ok('PATCH', '/v1/products/tmpp/sessions/s', { expiry: 600 })).expiry).toBe(600);
    expect((await ok('GET', '/v1/products/tmpp/sessions/s')).expiry).toBe(600);
    const scope = { product: 'tmpp', env: 'dev', tag: 's' };
    const session = await ok('POST', '/v1/sessions/start', { ...scope, data: { user: { id: '9' } } });
    expect(await ok('POST', '/v1/sessions/verify', { ...scope, token: session.token })).toMatchObject({ valid: true, data: { user: { id: '9' } } });
    const refreshed = await ok('POST', '/v1/sessions/refresh', { ...scope, refreshToken: session.refreshToken });
    expect((await ok('GET', '/v1/sessions?product=tmpp')).length).toBe(1);
    expect(await ok('POST', '/v1/sessions/revoke', { ...scope, sessionId: refreshed.sessionId })).toEqual({ revoked: 1 });
    expect((await ok('POST', '/v1/sessions/revoke-all', { product: 'tmpp' })).revoked).toBe(0);
    expect((await ok('DELETE', '/v1/products/tmpp/sessions/s')).deleted).toBe(true);

    expect((await ok('PUT', '/v1/secrets/TMP_KEY', { value: 'sk_tmp_value_123', envs: ['dev'] })).key).toBe('TMP_KEY');
    const secrets = await ok('GET', '/v1/secrets');
    expect(JSON.stringify(secrets)).not.toContain('sk_tmp_value_123');
    expect(await ok('DELETE', '/v1/secrets/TMP_KEY?envs=dev')).toEqual({ deleted: 1 });
    // The key came from the path: its issue said location "body" (docs/serve.md: "params" for a field of the path).
    const badKey = await call('PUT', '/v1/secrets/a%2Fb', { body: { value: 'x' } });
    expect([badKey.status, badKey.body.error.issues]).toEqual([400, [{ location: 'params', path: '/key', message: expect.stringContaining('must be ASCII letters') }]]);
    expect(badKey.body.error.message).toMatch(/^Cannot set secret "a\/b": params\/key: must be ASCII letters/);
    // A body field the path gives was dropped without a word: PUT /v1/secrets/A with {"key":"B"} set A.
    const twoKeys = await call('PUT', '/v1/secrets/TMP_A', { body: { key: 'TMP_B', value: 'x', envs: ['dev'] } });
    expect([twoKeys.status, twoKeys.body.error.issues]).toEqual([400, [{ location: 'body', path: '/key', message: 'is given by the path (/v1/secrets/{key}); leave it out' }]]);
    expect(JSON.stringify(await ok('GET', '/v1/secrets'))).not.toMatch(/TMP_[AB]/);

    const rows = await ok('GET', '/v1/logs?product=shop&app=api&status=200&limit=5');
    expect(rows[0]).toMatchObject({ product: 'shop', app: 'api', status: 200 });
    expect(await ok('GET', '/v1/connections?product=tmpp')).toEqual([]);
    expect((await call('POST', '/v1/connections/authorize', { body: { product: 'tmpp', env: 'dev', app: 'tmp', owner: '1' } })).body.error.code).toBeDefined();
    expect((await call('POST', '/v1/connections/complete', { body: { state: 'nope', code: 'nope' } })).body.error.code).toBeDefined();
    expect((await call('POST', '/v1/connections/revoke', { body: { product: 'tmpp', env: 'dev', app: 'tmp', owner: '1' } })).status).toBe(404);
    expect((await call('GET', '/v1/oauth/callback?error=access_denied', { key: null })).status).toBe(400);

    const created = await ok('POST', '/v1/keys', { name: 'tmp', role: 'run', product: 'shop' });
    expect(created.key).toMatch(/^dtk_/);
    expect((await ok('GET', '/v1/keys')).map((k: { id: string }) => k.id)).toContain(created.id);
    expect((await ok('DELETE', `/v1/keys/${created.id}`)).revoked_at).toEqual(expect.any(String));

    expect(await ok('DELETE', '/v1/products/tmpp/apps/tmp')).toEqual({ disconnected: true });
    expect(await ok('DELETE', '/v1/products/tmpp')).toEqual({ deleted: true });
    expect(await ok('DELETE', '/v1/apps/tmp')).toEqual({ deleted: true });
  });

  it('serves the dashboard page and its script without a key, and MCP over POST /mcp', async () => {
    const page = await call('GET', '/', { key: null });
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=UTF-8']);
    expect(page.body).toContain('<script');
    // The page holds an admin key: only its own script runs, it talks only to this server, and it cannot be framed.
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'; connect-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect([page.headers.get('x-frame-options'), page.headers.get('x-content-type-options'), page.headers.get('referrer-policy')]).toEqual(['DENY', 'nosniff', 'no-referrer']);
    const script = await call('GET', '/dashboard.js', { key: null });
    expect([script.status, script.headers.get('content-type'), script.headers.get('x-content-type-options')]).toEqual([200, 'text/javascript; charset=utf-8', 'nosniff']);
    // MCP clients send both media types; the server answers JSON (stateless, one response per request).
    const mcp = await call('POST', '/mcp?apps=api', { key: keys.shop, headers: { accept: 'application/json, text/event-stream' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} } });
    expect(mcp.status, JSON.stringify(mcp.body)).toBe(200);
    // A client of the 2025 protocol revisions (no MCP-Protocol-Version header) gets the response as one SSE event.
    const type = mcp.headers.get('content-type');
    const reply = type === 'text/event-stream' ? JSON.parse(/^data: (.*)$/m.exec(mcp.body)![1]) : mcp.body;
    expect(reply, String(type)).toMatchObject({ jsonrpc: '2.0', id: 1 });
    expect(reply.result.tools.map((t: { name: string }) => t.name)).toContain('api__fetch_user');
    // MCP clients open a GET stream after initializing and DELETE their session on close: a stateless server answers
    // 405 (which clients accept), not 404 (which the SDK's client reported as "Failed to open SSE stream").
    for (const method of ['GET', 'DELETE']) {
      const other = await call(method, '/mcp', { key: keys.shop, headers: { accept: 'text/event-stream' } });
      expect([other.status, other.headers.get('allow'), other.body.jsonrpc]).toEqual([405, 'POST', '2.0']);
    }
    expect((await call('GET', '/mcp', { key: null })).status).toBe(401);
  });

  it('lists exactly the routes the server answers in its OpenAPI document, has called each, and Prism accepts every request it sent', async () => {
    const doc = (await call('GET', '/v1/openapi.json', { key: null })).body;
    // The server's own route table (the same app `ductape serve` runs), so a route added without a description fails here.
    const local = new Ductape({ workspace_id: 'routes', private_key: PRIVATE_KEY, store: ':memory:', revision_poll_ms: 0 });
    try {
      const rt = await local.services.runtime();
      const app = createServerApp(local, { keys: new KeyRing(rt.store, rt.workspace), maxBodyBytes: 1024, version: '0' });
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
      expect(documented.sort()).toEqual(routeList(app));
      // No middleware: each request matches one handler, which hono calls without composing a chain (the hot path).
      expect(app.routes.filter((r) => r.method === 'ALL')).toEqual([]);
    } finally {
      await local.close();
    }
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((m) => ({ method: m.toUpperCase(), path, re: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`) })));
    const hit = (r: { method: string; re: RegExp }) => sent.some((s) => s.method === r.method && r.re.test(s.path.split('?')[0]));
    expect(routes.filter((r) => !hit(r)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Every status a route answered is one its description lists: POST /mcp's 404 (an unknown product, env, app or
    // event) was missing, and so was the 503 STORE_ERROR any route reading the store may answer.
    const mcpBody = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
    await call('POST', '/mcp?events=no_such_event', { key: keys.shop, headers: { accept: 'application/json, text/event-stream' }, body: mcpBody });
    // The MCP transport's own refusals: an Accept without both media types (406), a body not sent as JSON (415).
    await call('POST', '/mcp', { key: keys.shop, headers: { accept: 'text/plain' }, body: mcpBody });
    await call('POST', '/mcp', { key: keys.shop, headers: { accept: 'application/json, text/event-stream', 'content-type': 'text/plain' }, raw: JSON.stringify(mcpBody) });
    const undocumented = sent.flatMap((s) => {
      const r = routes.find((x) => x.method === s.method && x.re.test(s.path.split('?')[0]));
      const responses = r && (doc.paths[r.path][r.method.toLowerCase()].responses as Record<string, unknown>);
      return responses && !(String(s.status) in responses) ? [`${s.method} ${s.path} → ${s.status}`] : [];
    });
    expect(undocumented).toEqual([]);
    const storeless = ['/healthz', '/readyz', '/v1/openapi.json', '/', '/dashboard.js', '/v1/oauth/callback'];
    for (const r of routes.filter((x) => !storeless.includes(x.path) && !(x.path === '/mcp' && x.method !== 'POST'))) {
      expect(doc.paths[r.path][r.method.toLowerCase()].responses, `${r.method} ${r.path}`).toHaveProperty('503');
    }
    expect(doc.paths['/mcp'].post.parameters).toContainEqual(expect.objectContaining({ name: 'max_result_bytes', schema: { type: 'integer', minimum: 256 } }));

    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const prism = await startPrism(file);
    try {
      // The requests the server accepted as well-formed (not refused as such: 400, 401, 405, 406, 415): Prism must accept them too.
      const wellFormed = sent.filter((s) => ![400, 401, 405, 406, 415].includes(s.status) && !s.path.startsWith('/v1/nope'));
      expect(wellFormed.length).toBeGreaterThan(40);
      for (const s of wellFormed) {
        const headers: Record<string, string> = { ...s.headers, ...(s.auth ? { authorization: s.auth } : {}) };
        if (s.body !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(prism.url + s.path, { method: s.method, headers, body: s.body === undefined ? undefined : JSON.stringify(s.body) });
        const violations = res.headers.get('sl-violations');
        const text = await res.text();
        expect({ request: `${s.method} ${s.path}`, status: res.status, violations }, text.slice(0, 500)).toEqual({ request: `${s.method} ${s.path}`, status: res.status < 400 ? res.status : 'accepted', violations: null });
      }
    } finally {
      await prism.stop();
    }
  }, 240_000);

  it('refuses a key revoked through one process on a second process within 1 s', async () => {
    const second = await startServe(env);
    try {
      const created = await call('POST', '/v1/keys', { body: { name: 'rotating', role: 'admin' } });
      const key = created.body.key as string;
      // A key created by one process is in force on the others within 1 s.
      const deadline = Date.now() + 1000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) status = (await call('GET', '/v1/apps', { key, base: second.url })).status;
      expect(status).toBe(200);
      expect((await call('DELETE', `/v1/keys/${created.body.id}`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1000));
      const refused = await call('GET', '/v1/apps', { key, base: second.url });
      expect([refused.status, refused.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 180_000);

  it('drains on SIGTERM: finishes the run in flight, flushes its log and exits 0', async () => {
    const inFlight = run({ app: 'api', event: 'drain' });
    while (!upstream.requests.some((r) => r.url === '/drain')) await new Promise((r) => setTimeout(r, 20));
    const exit = serve.stop();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ done: true });
    expect(await exit).toBe(0);
    const d = new Ductape({ workspace_id: 'acme', private_key: PRIVATE_KEY, store: env.DUCTAPE_STORE, revision_poll_ms: 0 });
    try {
      expect((await d.logs.query({ event: 'drain' }))[0]).toMatchObject({ event: 'drain', status: 200, actor: 'serve@acme.test' });
    } finally {
      await d.close();
    }
  }, 60_000);
});
