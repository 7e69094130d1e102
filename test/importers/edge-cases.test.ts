// Hand-made specs with constructs real vendors use: each imports, names its events sensibly and runs over loopback.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape } from '../../src/index.js';
import { importSpec } from '../../src/importers/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const edge = (file: string) => fileURLToPath(new URL(`../fixtures/specs/edge/${file}`, import.meta.url));

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

/** Imports a fixture as app `tag` and connects product `p` (env dev) to it with the loopback base URL. */
async function connect(tag: string, file: string, opts: { prefix?: string; auth?: object; variables?: Record<string, string> } = {}) {
  const result = await ductape.apps.import({ app: tag, file: edge(file) });
  await ductape.products.create({ tag: 'p', envs: ['dev'] });
  await ductape.products.apps.connect({ product: 'p', app: tag });
  await ductape.products.apps.configure({
    product: 'p', app: tag, env: 'dev', base_url: `${upstream.url}${opts.prefix ?? ''}`,
    ...(opts.auth ? { auth: opts.auth as never } : {}),
    ...(opts.variables ? { variables: opts.variables } : {}),
  });
  return result;
}

const run = (app: string, event: string, input: Record<string, unknown> = {}) =>
  ductape.actions.run({ env: 'dev', product: 'p', app, event, input });

describe('importSpec on edge-case OpenAPI documents', () => {
  it('imports no actions and skips every webhook when a 3.1 document has only webhooks', async () => {
    const app = await importSpec({ file: edge('webhooks-only-3.1.yaml') });
    expect(app.format).toBe('openapi-3.1');
    expect(app.actions).toEqual([]);
    expect(app.skipped.map((s) => s.operation)).toEqual(['webhook orderCreated (POST)', 'webhook orderShipped (POST)']);
    expect(app.components.schemas.Order).toEqual({ type: 'object', properties: { id: { type: 'string' } } });
  });

  it('imports no actions but keeps servers and security when paths is empty', async () => {
    const app = await importSpec({ file: edge('empty-paths-3.0.yaml') });
    expect(app.actions).toEqual([]);
    expect(app.skipped).toEqual([]);
    expect(app.envs).toEqual([{ slug: 'api', base_url: 'https://api.nothing.example/v1' }]);
    expect(app.security).toEqual([{ key: [] }]);
  });

  it('names kitchen-sink 3.1 operations from odd operationIds and suffixes duplicates', async () => {
    const app = await importSpec({ file: edge('kitchen-sink-3.1.yaml') });
    expect(app.actions.map((a) => `${a.event} ${a.method} ${a.path}`)).toEqual([
      'list_orders GET /orders',
      'orders_create POST /orders',
      'get_order GET /orders/{orderId}',
      'get_order_2 DELETE /orders/{orderId}',
      'bestellungen_uber GET /orders/{orderId}/receipt',
      'get_search GET /search', // an operationId with no Latin letters falls back to method and path
    ]);
    expect(app.warnings.some((w) => w.includes('"get_order_2"'))).toBe(true);
    expect(app.warnings.some((w) => w.includes('callbacks') && w.includes('"orders_create"'))).toBe(true);
    expect(app.skipped).toEqual([]);
  });

  it('ignores Accept, Content-Type and Authorization header parameters and merges headers case-insensitively', async () => {
    const app = await importSpec({ file: edge('kitchen-sink-3.1.yaml') });
    const list = app.actions.find((a) => a.event === 'list_orders')!;
    const create = app.actions.find((a) => a.event === 'orders_create')!;
    expect(list.parameters.filter((p) => p.in === 'header').map((p) => p.name)).toEqual(['x-tenant']);
    expect(create.parameters.map((p) => p.name)).toEqual(['X-Tenant', 'Idempotency-Key']);
    expect(app.idempotency_header).toBe('Idempotency-Key');
  });

  it('keeps content parameters, oneOf/anyOf parameter schemas, $ref siblings and drops x- extensions', async () => {
    const app = await importSpec({ file: edge('kitchen-sink-3.1.yaml') });
    const list = app.actions.find((a) => a.event === 'list_orders')!;
    const filter = list.parameters.find((p) => p.name === 'filter')!;
    expect(filter.contentType).toBe('application/json');
    expect(filter.style).toBeUndefined();
    expect(list.parameters.find((p) => p.name === 'status')!.schema).toHaveProperty('oneOf');
    expect(list.parameters.find((p) => p.name === 'sort')!.schema).toHaveProperty('anyOf');
    const total = (app.components.schemas.NewOrder as { properties: Record<string, unknown> }).properties.total;
    expect(total).toEqual({ $ref: 'components#/schemas/Money', description: 'Order total, computed when absent', required: ['currency'] });
    expect(JSON.stringify(app)).not.toMatch(/"x-(rate|codegen|money|token|region|server|response|body|error)/);
    expect(app.actions.find((a) => a.event === 'bestellungen_uber')!.server).toBe('https://receipts.files.kitchen.example/r');
    expect(app.actions.find((a) => a.event === 'get_order_2')!.security).toEqual([]);
  });

  it('reads Swagger 2.0 without host or schemes, with basePath "/" and recursive body definitions', async () => {
    const app = await importSpec({ file: edge('swagger-no-host.yaml') });
    expect(app.envs).toEqual([{ slug: 'default', base_url: '/' }]);
    expect(app.actions.map((a) => a.event)).toEqual(['upload_file', 'create_folder', 'get_folders_id', 'patch_folders_id']);
    const folder = app.components.schemas.Folder as { properties: Record<string, unknown> };
    expect(folder.properties.parent).toEqual({ $ref: 'components#/schemas/Folder' });
    expect(folder.properties['x-secret']).toEqual({ type: 'string' }); // a property named x-…, not an extension
    const upload = app.actions.find((a) => a.event === 'upload_file')!;
    expect(upload.body?.default).toBe('multipart/form-data');
    expect(Object.keys(upload.body!.media)).toEqual(['multipart/form-data']);
  });

  it.each([
    [{ host: 'https://api.acme.test', basePath: '/v1' }, 'https://api.acme.test/v1'],
    [{ host: 'http://api.acme.test/', basePath: 'v2' }, 'http://api.acme.test/v2'],
    [{ host: 'http://api.acme.test', schemes: ['https'] }, 'https://api.acme.test'],
    [{ host: 'api.acme.test:8443', basePath: '/', schemes: ['http'] }, 'http://api.acme.test:8443'],
  ])('reads a Swagger host written with its scheme, or a basePath without its leading slash: %j', async (fields, url) => {
    // Before: https://https://api.acme.test (a URL whose host is "https") and https://api.acme.testv2.
    const app = await importSpec({ spec: { swagger: '2.0', info: { title: 'Hosts', version: '1' }, paths: {}, ...fields } });
    expect(app.envs.map((e) => e.base_url)).toEqual([url]);
  });

  it('sends a Swagger body parameter of an operation that consumes only a form type as that form, not as JSON', async () => {
    const body = { name: 'body', in: 'body', schema: { type: 'object', properties: { grant_type: { type: 'string' } } } };
    const op = (consumes?: string[]) => ({ ...(consumes ? { consumes } : {}), parameters: [body], responses: { 200: { description: 'ok' } } });
    const app = await importSpec({
      spec: {
        swagger: '2.0',
        info: { title: 'Token', version: '1' },
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        paths: { '/token': { post: op(['application/x-www-form-urlencoded']) }, '/shared': { post: op() }, '/bare': { post: { ...op([]) } } },
      },
    });
    const [token, shared, bare] = app.actions.map((a) => a.body!);
    expect(Object.keys(token.media)).toEqual(['application/x-www-form-urlencoded']);
    expect(token.default).toBe('application/x-www-form-urlencoded');
    expect(Object.keys(shared.media)).toEqual(['application/json']); // the shared form type is for formData operations
    expect(Object.keys(bare.media)).toEqual(['application/json']);
  });

  it('drops Swagger Content-Type (the body owns it) and Authorization (auth owns it); keeps a single-valued Accept with its value', async () => {
    const app = await importSpec({ file: edge('swagger-no-host.yaml') });
    const create = app.actions.find((a) => a.event === 'create_folder')!;
    expect(create.parameters.map((p) => p.name)).toEqual(['X-Request-Id', 'Accept']);
    expect(create.parameters[1]).toMatchObject({ in: 'header', required: false, value: 'application/json' });
    expect(app.warnings.some((w) => w.includes('Authorization') && w.includes('"create_folder"'))).toBe(true);
  });
});

describe('importSpec on edge-case Postman collections', () => {
  it('reads folders three deep, folder-level bearer auth, string URLs and valueless query keys', async () => {
    const app = await importSpec({ file: edge('nested.postman_collection.json') });
    expect(app.actions.map((a) => a.event)).toEqual(['list_roles_of_a_user', 'grant_role', 'get_user', 'health', 'search', 'public_status']);
    expect(app.envs).toEqual([{ slug: 'api', base_url: 'https://api.nested.example/api/v2' }]);
    expect(app.auth_schemes).toEqual({ apikey: { type: 'apiKey', in: 'query', name: 'api_key' }, bearer: { type: 'http', scheme: 'bearer' } });
    const roles = app.actions[0];
    expect(roles.group).toEqual(['Admin', 'Users', 'Roles']);
    expect(roles.security).toEqual([{ bearer: [] }]);
    expect(roles.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:userId', 'query:include_inherited', 'query:page']);
    expect(app.actions.find((a) => a.event === 'health')!.security).toEqual([{ apikey: [] }]);
    expect(app.actions.find((a) => a.event === 'public_status')).toMatchObject({ server: 'https://status.nested.example', security: [] });
    expect(app.variables.apiKey).toEqual({}); // looks secret: declared without its value
  });

  it('reads a v2.0 export with a warning, object auth settings, string paths and string headers', async () => {
    const app = await importSpec({ file: edge('v20.postman_collection.json') });
    expect(app.warnings[0]).toContain('v2.0');
    expect(app.actions.map((a) => a.event)).toEqual(['create_note', 'get_note', 'replace_note']);
    expect(app.envs).toEqual([{ slug: 'default', base_url: 'http://{host}', variables: { host: 'notes.example.com' } }]);
    expect(app.actions[1].security).toEqual([{ apikey: [] }]);
    const replace = app.actions[2];
    expect(replace.body?.default).toBe('text/plain');
    expect(replace.parameters.find((p) => p.name === 'X-Client')).toMatchObject({ in: 'header', value: 'legacy-app' });
    expect(replace.parameters.find((p) => p.name === 'X-Debug')).toBeUndefined(); // `//` disables a v2.0 header line
  });
});

describe('edge-case imports run over loopback', () => {
  it('resolves a base URL variable whose value uses other variables, from the connection server variables', async () => {
    const app = await importSpec({ file: edge('templated-base.postman_collection.json') });
    expect(app.envs).toEqual([{ slug: 'default', base_url: '{scheme}://{host}/v3', variables: { scheme: 'https', host: 'eu.regional.example' } }]);
    await ductape.apps.import({ app: 'regional', file: edge('templated-base.postman_collection.json') });
    await ductape.products.create({ tag: 'p', envs: ['default'] });
    await ductape.products.apps.connect({ product: 'p', app: 'regional' });
    await ductape.products.apps.configure({ product: 'p', app: 'regional', env: 'default', server_variables: { scheme: 'http', host: `127.0.0.1:${upstream.port}` } });
    await ductape.actions.run({ env: 'default', product: 'p', app: 'regional', event: 'ping', input: {} });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/v3/ping']);
  });

  it('runs an operation with its own relative server against the env origin, and says how to fix a relative env', async () => {
    const ok = { 200: { description: 'ok' } };
    const spec = {
      openapi: '3.0.3',
      info: { title: 'Relative', version: '1' },
      servers: [{ url: '/api/v3' }],
      paths: { '/a': { get: { operationId: 'a', responses: ok } }, '/up': { post: { operationId: 'up', servers: [{ url: '/upload' }], responses: ok } } },
    };
    await ductape.apps.import({ app: 'rel', spec });
    await ductape.products.create({ tag: 'p', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'p', app: 'rel' });
    // Before: `up` failed with a raw TypeError (Invalid URL) while `a` got a CONFIG_ERROR.
    for (const event of ['a', 'up']) {
      await expect(run('rel', event)).rejects.toMatchObject({ code: 'CONFIG_ERROR', message: expect.stringContaining('Base URL "/api/v3"') });
    }
    await ductape.apps.envs.upsert({ app: 'rel', slug: 'default', base_url: `${upstream.url}/api/v3` });
    await run('rel', 'a');
    await run('rel', 'up');
    expect(upstream.requests.map((r) => r.url)).toEqual(['/api/v3/a', '/upload/up']);
  });

  it('sends JSON-in-query content parameters, styled arrays and required headers of a 3.1 spec', async () => {
    await connect('kitchen', 'kitchen-sink-3.1.yaml', { prefix: '/v2', auth: { type: 'bearer', token: 'tok_1' } });
    await run('kitchen', 'list_orders', {
      query: { filter: { status: 'open', min_total: 5 }, status: ['open', 'closed'], sort: '-total' },
      headers: { 'x-tenant': 'acme' },
    });
    const req = upstream.requests[0];
    expect(req.method).toBe('GET');
    expect(req.url).toBe(`/v2/orders?filter=${encodeURIComponent('{"status":"open","min_total":5}')}&status=open&status=closed&sort=-total`);
    expect(req.headers['x-tenant']).toBe('acme');
    expect(req.headers.authorization).toBe('Bearer tok_1');
  });

  it('validates and sends an allOf body with one Content-Type and the connection Authorization', async () => {
    await connect('kitchen', 'kitchen-sink-3.1.yaml', { prefix: '/v2', auth: { type: 'bearer', token: 'tok_1' } });
    await expect(run('kitchen', 'orders_create', { body: { items: [{ sku: 'a', qty: 1 }] }, headers: { 'X-Tenant': 'acme' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const body = { items: [{ sku: 'a', qty: 2 }], channel: 'web', total: { amount: 10, currency: 'EUR' } };
    await run('kitchen', 'orders_create', { body, headers: { 'X-Tenant': 'acme', 'Idempotency-Key': '7f3c2a1e-2b4d-4c6e-8f10-1a2b3c4d5e6f' } });
    expect(upstream.requests).toHaveLength(1);
    const req = upstream.requests[0];
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer tok_1');
    expect(JSON.parse(req.body)).toEqual(body);
  });

  it('runs a path-item $ref operation and a duplicate-named one with their path parameter', async () => {
    await connect('kitchen', 'kitchen-sink-3.1.yaml', { prefix: '/v2', auth: { type: 'bearer', token: 'tok_1' } });
    await run('kitchen', 'get_order', { params: { orderId: 'ord_1a' } });
    await run('kitchen', 'get_order_2', { params: { orderId: 'ord_2b' } });
    await expect(run('kitchen', 'get_order', { params: { orderId: 'nope' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(upstream.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v2/orders/ord_1a', 'DELETE /v2/orders/ord_2b']);
    expect(upstream.requests[1].headers.authorization).toBeUndefined(); // security: [] on the delete
  });

  it('sends a Swagger multipart upload with a file and other fields, and a recursive JSON body', async () => {
    await connect('files', 'swagger-no-host.yaml');
    await run('files', 'upload_file', { body: { file: { data: Buffer.from('hello'), filename: 'a.txt', contentType: 'text/plain' }, folder: 'docs', overwrite: true } });
    const up = upstream.requests[0];
    expect(up.url).toBe('/files');
    expect(up.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(up.body).toContain('filename="a.txt"');
    expect(up.body).toContain('hello');
    expect(up.body).toMatch(/name="folder"\r\n\r\ndocs\r\n/);
    expect(up.body).toMatch(/name="overwrite"\r\n\r\ntrue\r\n/);

    const tree = { name: 'root', children: [{ name: 'a', children: [{ name: 'b' }] }], parent: { name: 'up' } };
    await run('files', 'create_folder', { body: tree, headers: { 'X-Request-Id': 'r1' } });
    const create = upstream.requests[1];
    expect(create.headers['content-type']).toBe('application/json');
    expect(JSON.parse(create.body)).toEqual(tree);
    await expect(run('files', 'create_folder', { body: { children: [{}] } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    await run('files', 'patch_folders_id', { params: { id: 7 }, body: { name: 'n e', color: 'red' } });
    expect(upstream.requests[2]).toMatchObject({ method: 'PATCH', url: '/folders/7' });
    expect(upstream.requests[2].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(upstream.requests[2].body))).toEqual({ name: 'n e', color: 'red' });
  });

  it('runs nested Postman requests under a base URL path prefix with query and bearer auth', async () => {
    await connect('nested', 'nested.postman_collection.json', {
      prefix: '/api/v2', auth: { type: 'bearer', token: 'admin_tok' }, variables: { workspace: 'ws_9' },
    });
    await run('nested', 'list_roles_of_a_user', { params: { userId: 'u_1' }, query: { include_inherited: '', page: 3 } });
    await run('nested', 'grant_role', { params: { userId: 'u_1', role: 'editor' }, body: { role: 'editor' } });
    await run('nested', 'get_user', { params: { userId: 'u_2' } });
    const [roles, grant, user] = upstream.requests;
    expect(roles.url).toBe('/api/v2/users/u_1/roles?include_inherited=&page=3');
    expect(roles.headers.authorization).toBe('Bearer admin_tok');
    expect(grant).toMatchObject({ method: 'PUT', url: '/api/v2/users/u_1/roles/editor', body: '{"role":"editor"}' });
    expect(grant.headers.accept).toBe('application/json');
    expect(grant.headers['content-type']).toBe('application/json');
    expect(user.url).toBe('/api/v2/workspaces/ws_9/users/u_2');
  });

  it('sends the collection api key in the query for requests outside the bearer folder', async () => {
    await connect('nested', 'nested.postman_collection.json', {
      prefix: '/api/v2', auth: { type: 'apiKey', in: 'query', name: 'api_key', value: 'k_1' },
    });
    await run('nested', 'health');
    await run('nested', 'search', { body: { q: 'red shoes' }, query: { flag: '' } });
    const [health, search] = upstream.requests;
    expect(health.url).toBe('/api/v2/health?api_key=k_1');
    expect(search.method).toBe('POST');
    expect(search.url).toMatch(/^\/api\/v2\/search\?/);
    expect(new URL(search.url, 'http://x').searchParams.get('api_key')).toBe('k_1');
    expect(search.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(search.body))).toEqual({ q: 'red shoes' });
  });

  it('runs a v2.0 export with a templated host and a string header', async () => {
    await connect('old', 'v20.postman_collection.json', { auth: { type: 'basic', username: 'u', password: 'p' } });
    await run('old', 'create_note', { body: { text: 'hi' }, query: { draft: 'true' } });
    await run('old', 'replace_note', { params: { id: 'n1' }, body: 'plain words' });
    const [create, replace] = upstream.requests;
    expect(create).toMatchObject({ method: 'POST', url: '/notes?draft=true', body: '{"text":"hi"}' });
    expect(create.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(replace).toMatchObject({ method: 'PUT', url: '/notes/n1', body: 'plain words' });
    expect(replace.headers['content-type']).toMatch(/^text\/plain/);
    expect(replace.headers['x-client']).toBe('legacy-app');
    expect(replace.headers['x-debug']).toBeUndefined();
  });
});
