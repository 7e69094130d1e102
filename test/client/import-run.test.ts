// Imported actions run end to end: OpenAPI servers and Postman values ({{var}} → connection variables).
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const spec = (p: string) => fileURLToPath(new URL(`../fixtures/specs/${p}`, import.meta.url));
let upstream: Upstream;
let ductape: Ductape;

beforeEach(async () => {
  upstream = await startUpstream();
  ductape = newClient();
});
afterEach(async () => {
  await ductape.close();
  await upstream.close();
});

describe('imported actions', () => {
  it('sends Postman header and query values, filling {{variables}} from the connection', async () => {
    await ductape.apps.import({ app: 'shop', file: spec('shop/shop.postman_collection.json') });
    await ductape.products.create({ tag: 'store', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'store', app: 'shop' });
    await ductape.products.apps.configure({ product: 'store', app: 'shop', env: 'dev', base_url: upstream.url, variables: { cursor: 'c_42' } });
    await ductape.actions.run({ env: 'dev', product: 'store', app: 'shop', event: 'list_products', input: { query: { limit: 5 } } });
    const req = upstream.requests[0];
    expect(req.url).toBe('/products?limit=5&cursor=c_42');
    expect(req.headers['x-version']).toBe('2024-01'); // the collection variable's value, as the app variable default
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['x-debug']).toBeUndefined(); // disabled in the collection
  });

  it('lets the caller override a Postman value', async () => {
    await ductape.apps.import({ app: 'shop', file: spec('shop/shop.postman_collection.json') });
    await ductape.products.create({ tag: 'store', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'store', app: 'shop' });
    await ductape.products.apps.configure({ product: 'store', app: 'shop', env: 'dev', base_url: upstream.url, variables: { cursor: 'c_42' } });
    await ductape.actions.run({ env: 'dev', product: 'store', app: 'shop', event: 'list_products', input: { query: { cursor: 'mine' }, headers: { 'X-Version': '2025-02' } } });
    expect(upstream.requests[0].url).toBe('/products?cursor=mine');
    expect(upstream.requests[0].headers['x-version']).toBe('2025-02');
  });

  it('sends a Postman request on a second origin to that origin, with the collection variables of its URL', async () => {
    // Before: `http://{{host}}:{{port}}` became the server `http://{host}:{port}` without the collection's values, so
    // the run failed with CONFIG_ERROR; and `{{files}}` (no value) left the request without a server, so it went to
    // the other origin's URL (/v2/upload).
    const spec = {
      info: { name: 'Two origins', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [
        { key: 'baseUrl', value: `${upstream.url}/v2/` },
        { key: 'host', value: '127.0.0.1' },
        { key: 'port', value: String(upstream.port) },
        { key: 'files', value: '' },
      ],
      item: [
        { name: 'List items', request: { method: 'GET', url: '{{baseUrl}}/items' } },
        { name: 'Get item', request: { method: 'GET', url: '{{baseUrl}}/items/:id' } },
        { name: 'Token', request: { method: 'POST', url: 'http://{{host}}:{{port}}/oauth/token' } },
        { name: 'Upload', request: { method: 'PUT', url: '{{files}}/upload' } },
      ],
    };
    const report = await ductape.apps.import({ app: 'two', spec });
    expect(report.warnings).toEqual([expect.stringContaining('server_variables: { files:')]);
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    await ductape.products.apps.connect({ product: 'p', app: 'two' });
    const run = (event: string) => ductape.actions.run({ env: 'local', product: 'p', app: 'two', event, input: {} });
    await run('list_items');
    await run('token');
    await expect(run('upload')).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('server_variables: { files:') });
    await ductape.products.apps.configure({ product: 'p', app: 'two', env: 'local', server_variables: { files: `${upstream.url}/f` } });
    await run('upload');
    expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v2/items', 'POST /oauth/token', 'PUT /f/upload']);
  });

  it('sends a Postman file body under the request\'s own Content-Type', async () => {
    // Before: every file body was application/octet-stream, whatever the request's Content-Type said.
    const file = (name: string, type?: string) => ({
      name,
      request: { method: 'POST', header: type ? [{ key: 'Content-Type', value: type }] : [], body: { mode: 'file', file: { src: 'a' } }, url: `{{baseUrl}}/${name}` },
    });
    const spec = {
      info: { name: 'Files', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: upstream.url }],
      item: [file('png', 'image/png'), file('csv', 'text/csv'), file('bin')],
    };
    await ductape.apps.import({ app: 'files', spec });
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    await ductape.products.apps.connect({ product: 'p', app: 'files' });
    for (const event of ['png', 'csv', 'bin']) await ductape.actions.run({ env: 'local', product: 'p', app: 'files', event, input: { body: Buffer.from('a,b') } });
    expect(upstream.requests.map((r) => [r.url, r.headers['content-type'], r.body])).toEqual([
      ['/png', 'image/png', 'a,b'],
      ['/csv', 'text/csv', 'a,b'],
      ['/bin', 'application/octet-stream', 'a,b'],
    ]);
  });

  it('sends the raw auth headers a connection configures for a Postman auth type Ductape cannot compute', async () => {
    // Before: such requests got security: [], which withholds raw templates too, so the headers the import warning
    // told users to configure were never sent; and a bearer form configured for the app was dropped without a word.
    const spec = {
      info: { name: 'Digest', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: upstream.url }],
      auth: { type: 'digest', digest: [{ key: 'username', value: 'u' }] },
      item: [{ name: 'Report', request: { method: 'GET', url: '{{baseUrl}}/report' } }],
    };
    const report = await ductape.apps.import({ app: 'dg', spec });
    expect(report.warnings).toEqual([expect.stringContaining('configure raw auth headers on the connection')]);
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    await ductape.products.apps.connect({ product: 'p', app: 'dg' });
    const run = () => ductape.actions.run({ env: 'local', product: 'p', app: 'dg', event: 'report', input: {} });
    await ductape.products.apps.configure({ product: 'p', app: 'dg', env: 'local', auth: { type: 'bearer', token: 't' } });
    await expect(run()).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('digest (http digest)') });
    await ductape.products.apps.configure({ product: 'p', app: 'dg', env: 'local', auth: { headers: { Authorization: 'Digest username="u"' } } });
    await run();
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Digest username="u"']);
  });

  it('sends a Postman API key under the key its variables name, and names a key no header can carry', async () => {
    // Before: the key `{{keyHeader}}` stayed the header name `{{keyHeader}}`, and that name or `Api Key` made every run
    // fail with NETWORK_ERROR "check the base URL" (undici refused the header name).
    const spec = (key: string) => ({
      info: { name: 'Keys', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: upstream.url }, { key: 'keyHeader', value: 'X-Key' }],
      auth: { type: 'apikey', apikey: [{ key: 'key', value: key }, { key: 'value', value: '{{apiKey}}' }] },
      item: [{ name: 'Me', request: { method: 'GET', url: '{{baseUrl}}/me' } }],
    });
    await ductape.apps.import({ app: 'k1', spec: spec('{{keyHeader}}') });
    const report = await ductape.apps.import({ app: 'k2', spec: spec('Api Key') });
    expect(report.warnings).toEqual([expect.stringContaining('"Api Key" is not a valid header name')]);
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    for (const app of ['k1', 'k2']) {
      await ductape.products.apps.connect({ product: 'p', app });
      await ductape.products.apps.configure({ product: 'p', app, env: 'local', auth: { type: 'apiKey', value: 'K-1' } });
    }
    const run = (app: string) => ductape.actions.run({ env: 'local', product: 'p', app, event: 'me', input: {} });
    await run('k1');
    await expect(run('k2')).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('"Api Key", which is not a valid header name') });
    await ductape.products.apps.configure({ product: 'p', app: 'k2', env: 'local', auth: { type: 'apiKey', name: 'X-Api-Key', value: 'K-2', scheme: 'apikey' } });
    await run('k2');
    expect(upstream.requests.map((r) => [r.headers['x-key'], r.headers['x-api-key']])).toEqual([['K-1', undefined], [undefined, 'K-2']]);
  });

  it('asks for a base URL variable the collection gives no value, instead of filling in an empty string', async () => {
    // Before: the env's variable defaulted to '', so {{baseUrl}} worth `<upstream>/{{version}}` sent GET /items
    // (not /v2/items) and `https://{{region}}.api.test` went to https://.api.test.
    const spec = {
      info: { name: 'Versioned', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: `${upstream.url}/{{version}}` }, { key: 'version', value: '' }],
      item: [{ name: 'Items', request: { method: 'GET', url: '{{baseUrl}}/items' } }],
    };
    const report = await ductape.apps.import({ app: 'ver', spec });
    expect(report.warnings).toEqual([expect.stringContaining('uses {{version}}, which the collection gives no value')]);
    expect((await ductape.apps.fetch({ app: 'ver' })).envs).toEqual([{ slug: 'local', base_url: `${upstream.url}/{version}` }]);
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    await ductape.products.apps.connect({ product: 'p', app: 'ver' });
    const run = () => ductape.actions.run({ env: 'local', product: 'p', app: 'ver', event: 'items', input: {} });
    await expect(run()).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('needs a value for {version}') });
    await ductape.products.apps.configure({ product: 'p', app: 'ver', env: 'local', server_variables: { version: 'v2' } });
    await run();
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v2/items']);
  });

  it('fills a Postman :path variable worth {{variable}} from that variable, as Postman does', async () => {
    // Before: `:id` worth `{{userId}}` was a required parameter with the example "{{userId}}": runs without params.id
    // failed with INVALID_INPUT, though Postman sends the variable's value.
    const spec = {
      info: { name: 'Vars', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      variable: [{ key: 'baseUrl', value: upstream.url }, { key: 'userId', value: 'u_42' }],
      item: [
        {
          name: 'Posts',
          request: {
            method: 'GET',
            url: { raw: '{{baseUrl}}/users/:id/posts/:postId', host: ['{{baseUrl}}'], path: ['users', ':id', 'posts', ':postId'], variable: [{ key: 'id', value: '{{userId}}' }, { key: 'postId', value: '{{$randomInt}}' }] },
          },
        },
      ],
    };
    await ductape.apps.import({ app: 'vars', spec });
    const [id, postId] = (await ductape.apps.actions.fetch({ app: 'vars', event: 'posts' })).parameters;
    expect([id, postId]).toMatchObject([{ name: 'id', required: false, value: '$Variable{userId}', schema: { type: 'string' } }, { name: 'postId', required: true, schema: { type: 'string' } }]);
    expect(postId.schema).toEqual({ type: 'string' }); // no "{{$randomInt}}" example
    await ductape.products.create({ tag: 'p', envs: ['local'] });
    await ductape.products.apps.connect({ product: 'p', app: 'vars' });
    await ductape.actions.run({ env: 'local', product: 'p', app: 'vars', event: 'posts', input: { params: { postId: '7' } } });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/users/u_42/posts/7']);
  });

  it('runs an imported OpenAPI operation against the configured base URL', async () => {
    await ductape.apps.import({ app: 'todo', file: spec('todo/todo-openapi3.yaml') });
    const actions = await ductape.apps.actions.list({ app: 'todo' });
    expect(actions.length).toBeGreaterThan(0);
    await ductape.products.create({ tag: 'p', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'p', app: 'todo' });
    await ductape.products.apps.configure({ product: 'p', app: 'todo', env: 'dev', base_url: `${upstream.url}/v1` });
    const get = actions.find((a) => a.method === 'GET' && a.path.includes('{'))!;
    const name = /\{([^}]+)\}/.exec(get.path)![1];
    await expect(ductape.actions.run({ env: 'dev', product: 'p', app: 'todo', event: get.event, input: { params: { [name]: 'a b/c' } } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await ductape.actions.run({ env: 'dev', product: 'p', app: 'todo', event: get.event, input: { params: { [name]: '17' } } });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].url).toBe(`/v1${get.path.replace(`{${name}}`, '17')}`);
  });
});
