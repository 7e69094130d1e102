// Definitions: bad ones are refused with CONFIG_ERROR naming the field, nothing is half written, plans follow changes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let ductape: Ductape;
let upstream: Upstream;
let dir: string;

beforeEach(async () => {
  upstream = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), 'ductape-defs-'));
  ductape = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
  await ductape.apps.create({ tag: 'internal-api', envs: [{ slug: 'dev', base_url: upstream.url }] });
  await ductape.products.create({ tag: 'shop', envs: ['dev', 'prd'] });
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('definitions', () => {
  it.each([
    [{ tag: 'bad tag!' }, 'tag'],
    [{ tag: 'x', envs: [{ slug: 'dev', base_url: 'ftp://files.test' }] }, 'envs[0].base_url'],
    [{ tag: 'x', envs: [{ slug: 'Dev', base_url: 'https://a.test' }] }, 'envs[0].slug'],
    [{ tag: 'x', envs: [{ slug: 'dev', base_url: 'https://a.test?x=1' }] }, 'envs[0].base_url'],
    [{ tag: 'x', envs: [{ slug: 'dev', base_url: 'https://a.test/$Variable{v}' }] }, 'envs[0].base_url'],
    [{ tag: 'x', envs: [{ slug: 'dev', base_url: 'https://{t}.a.test', variables: { t: '$Secret{T}' } }] }, 'envs[0].variables.t'],
    [{ tag: 'x', colour: 'red' }, 'app.colour'],
  ])('refuses app %o with CONFIG_ERROR naming %s', async (input, field) => {
    const err = await errorOf(ductape.apps.create(input as never));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.details.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it.each([
    [{ method: 'FETCH', path: '/a' }, 'method'],
    [{ method: 'GET', path: 'users' }, 'path'],
    [{ method: 'GET', path: '/users/{id}/{id}' }, 'path'],
    [{ method: 'GET', path: '/a', schemas: { query: { type: 'string' } } }, 'schemas.query'],
    [{ method: 'POST', path: '/a', schemas: { body: { type: 'object', properties: { n: { type: 'integer', minimum: 'one' } } } } }, 'schemas.body (application/json)'],
    [{ method: 'GET', path: '/a', parameters: [{ name: 'id', in: 'path' }] }, 'parameters.id'],
  ])('refuses action %o with CONFIG_ERROR naming %s', async (input, field) => {
    const err = await errorOf(ductape.apps.actions.create({ app: 'internal-api', event: 'e', ...(input as object) } as never));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.details.field).toBe(field);
  });

  it('refuses a configure for an unknown env or app env and writes nothing', async () => {
    await ductape.products.apps.connect({ product: 'shop', app: 'internal-api' });
    expect((await errorOf(ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'staging', base_url: upstream.url }))).code).toBe('NOT_FOUND');
    const err = await errorOf(ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'prd', app_env: 'live' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.details.field).toBe('app_env');
    const bad = await errorOf(ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'prd', headers: { 'x-a': 'one\r\nInjected: yes' } }));
    expect(bad.details.field).toBe('headers.x-a');
    // Refused when configured, not at every run as a NETWORK_ERROR from undici.
    const unicode = await errorOf(ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'prd', headers: { 'x-a': 'café…' } }));
    expect([unicode.code, unicode.message]).toEqual(['CONFIG_ERROR', 'Invalid headers.x-a: contains U+2026, which an HTTP header cannot carry (RFC 9110 §5.5); encode the value first (e.g. RFC 8187 or base64).']);
  });

  it('never sends a placeholder in a server URL or server variable as literal text', async () => {
    // Before: configure took server_variables { tenant: '$Secret{T}' } and every run requested /$Secret%7BT%7D/….
    await ductape.apps.envs.upsert({ app: 'internal-api', slug: 'dev', base_url: `${upstream.url}/{tenant}`, variables: { tenant: 't0' } });
    await ductape.apps.actions.create({ app: 'internal-api', event: 'me', method: 'GET', path: '/me' });
    await ductape.products.apps.connect({ product: 'shop', app: 'internal-api' });
    const configure = (more: object) => errorOf(ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'dev', ...more }));
    expect((await configure({ server_variables: { tenant: '$Secret{T}' } })).details.field).toBe('server_variables.tenant');
    expect((await configure({ base_url: `${upstream.url}/$Variable{tenant}` })).details.field).toBe('base_url');
    // One stored before configure refused it fails the run instead of reaching the upstream.
    const store = await openSqliteStore(join(dir, 'ws.db'));
    await store.putConnection('acme', 'shop', 'dev', 'internal-api', { config: { server_variables: { tenant: '$Secret{T}' } }, credentials: null });
    await store.close();
    const err = await errorOf(ductape.actions.run({ env: 'dev', product: 'shop', app: 'internal-api', event: 'me', input: {} }));
    expect([err.code, err.message]).toEqual(['CONFIG_ERROR', expect.stringContaining('holds $Secret{T}, but placeholders are not resolved in server URLs')]);
    expect(upstream.requests).toEqual([]);
  });

  it('leaves the store file unchanged when a definition is refused', async () => {
    await ductape.close();
    const before = readFileSync(join(dir, 'ws.db'));
    ductape = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
    await errorOf(ductape.apps.actions.create({ app: 'internal-api', event: 'x', method: 'GET', path: 'nope' }));
    await errorOf(ductape.apps.create({ tag: 'internal-api' }));
    await ductape.close();
    expect(readFileSync(join(dir, 'ws.db')).equals(before)).toBe(true);
    ductape = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
  });

  it('connects the same app twice under two access tags with their own config', async () => {
    await ductape.apps.actions.create({ app: 'internal-api', event: 'ping', method: 'GET', path: '/ping' });
    await ductape.products.apps.connect({ product: 'shop', app: 'internal-api', access_tag: 'tenant-a' });
    await ductape.products.apps.connect({ product: 'shop', app: 'internal-api', access_tag: 'tenant-b' });
    await ductape.products.apps.configure({ product: 'shop', app: 'tenant-a', env: 'dev', headers: { 'x-tenant': 'a' } });
    await ductape.products.apps.configure({ product: 'shop', app: 'tenant-b', env: 'dev', headers: { 'x-tenant': 'b' } });
    await ductape.actions.run({ env: 'dev', product: 'shop', app: 'tenant-a', event: 'ping' });
    await ductape.actions.run({ env: 'dev', product: 'shop', app: 'tenant-b', event: 'ping' });
    expect(upstream.requests.map((r) => r.headers['x-tenant'])).toEqual(['a', 'b']);
    expect(await ductape.products.apps.list({ product: 'shop' })).toEqual([
      { access_tag: 'tenant-a', app: 'internal-api' },
      { access_tag: 'tenant-b', app: 'internal-api' },
    ]);
  });
});

describe('plans', () => {
  it('reads nothing from the store once warm', async () => {
    await ductape.apps.actions.create({ app: 'internal-api', event: 'ping', method: 'GET', path: '/ping/{id}', schemas: { query: { type: 'object', properties: { n: { type: 'integer' } } } } });
    await ductape.products.apps.connect({ product: 'shop', app: 'internal-api' });
    await ductape.products.apps.configure({ product: 'shop', app: 'internal-api', env: 'dev', headers: { 'x-a': '1' } });
    const run = () => ductape.actions.run({ env: 'dev', product: 'shop', app: 'internal-api', event: 'ping', input: { params: { id: '1' }, query: { n: 2 } } });
    await run();
    // Swap every store read for a failure: warm runs must not notice.
    const { SqlStore } = await import('../../src/store/sql-store.js');
    const proto = SqlStore.prototype as unknown as Record<string, unknown>;
    const reads = ['getProduct', 'getApp', 'getAction', 'getConnection', 'getComponents', 'getRecord', 'listRecords', 'listProducts', 'listApps', 'listEvents'];
    const saved = reads.map((m) => [m, proto[m]] as const);
    for (const m of reads) proto[m] = () => Promise.reject(new Error(`store read ${m} on the hot path`));
    try {
      for (let i = 0; i < 20; i++) await run();
    } finally {
      for (const [m, f] of saved) proto[m] = f;
    }
    expect(upstream.requests).toHaveLength(21); // the first run and 20 warm runs
  });
});
