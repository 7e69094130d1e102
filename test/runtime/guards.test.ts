import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ductape, InvalidInputError } from '../../src/index.js';
import { errorOf } from '../helpers/errors.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

const invalid = async (p: Promise<unknown>) => (await errorOf(p)) as InvalidInputError;

const spec = {
  openapi: '3.0.3',
  info: { title: 'Guards', version: '1' },
  servers: [{ url: 'https://api.example.test' }],
  paths: {
    '/items': {
      get: {
        operationId: 'list_items',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer' } },
          { name: 'starting_after', in: 'query', schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'ok' } },
      },
      post: { operationId: 'create_item', requestBody: { content: { 'application/json': { schema: { type: 'object' } } } }, responses: { '200': { description: 'ok' } } },
    },
    '/items/{id}': {
      get: { operationId: 'get_item', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } },
      delete: { operationId: 'delete_item', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } },
    },
  },
};

describe('input guards', () => {
  let ductape: Ductape;
  let upstream: Upstream;
  const run = (event: string, input: Record<string, unknown>) => ductape.actions.run({ env: 'dev', product: 'p', app: 'api', event, input });

  beforeEach(async () => {
    upstream = await startUpstream();
    ductape = newClient();
    await ductape.apps.import({ app: 'api', spec });
    await ductape.products.create({ tag: 'p', envs: ['dev'] });
    await ductape.products.apps.connect({ product: 'p', app: 'api' });
    await ductape.products.apps.configure({ product: 'p', app: 'api', env: 'dev', base_url: upstream.url });
  });
  afterEach(async () => {
    await ductape.close();
    await upstream.close();
  });

  it('refuses a misspelt query key with a did-you-mean, before anything is sent', async () => {
    const err = await invalid(run('list_items', { query: { limt: 5 } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([{ location: 'query', path: '/limt', message: expect.stringContaining('(did you mean "limit"?)') }]);
    expect(err.message).toContain('api.list_items');
    expect(upstream.requests).toHaveLength(0);
  });

  it('reports every unknown key at once, with the declared names', async () => {
    const err = await invalid(run('get_item', { params: { id: '1', idd: '2' }, query: { x: 1 } }));
    expect(err.issues.map((i: { location: string; path: string }) => `${i.location}${i.path}`)).toEqual(['query/x', 'params/idd']);
    expect(err.issues[0].message).toContain('it declares none');
    expect(err.issues[1].message).toContain('did you mean "id"?');
  });

  it('refuses a body on a GET and on an action that declares none', async () => {
    const onGet = await invalid(run('list_items', { body: { limit: 5 } }));
    expect(onGet.issues).toEqual([{ location: 'body', path: '', message: expect.stringContaining('GET requests carry no body') }]);
    const onDelete = await invalid(run('delete_item', { params: { id: '1' }, body: { hard: true } }));
    expect(onDelete.issues[0].message).toContain('declares no request body');
    expect(upstream.requests).toHaveLength(0);
  });

  it('lets declared keys, undeclared headers and bodies the action takes through', async () => {
    await run('list_items', { query: { limit: 5 }, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    await run('create_item', { body: { name: 'a' } });
    expect(upstream.requests.map((r) => r.url)).toEqual(['/items?limit=5', '/items']);
    expect(upstream.requests[0].headers.traceparent).toMatch(/^00-/);
  });

  it('sends unknown keys for an action that opts out, and keeps the setting across a re-import', async () => {
    await ductape.apps.actions.configure({ app: 'api', event: 'list_items', allow_unknown_params: true });
    await ductape.apps.import({ app: 'api', spec });
    expect((await ductape.apps.actions.fetch({ app: 'api', event: 'list_items' })).allow_unknown_params).toBe(true);
    await run('list_items', { query: { limit: 1, extra: 'yes' } });
    expect(upstream.requests[0].url).toBe('/items?limit=1&extra=yes');
    // A body on a GET is still refused: the opt-out is about parameter names only.
    expect((await invalid(run('list_items', { body: {} }))).code).toBe('INVALID_INPUT');
  });

  it('guards the query of a hand-made action only when it declares one', async () => {
    await ductape.apps.actions.create({ app: 'api', event: 'free', method: 'GET', path: '/free' });
    await ductape.apps.actions.create({ app: 'api', event: 'strict', method: 'GET', path: '/strict', schemas: { query: { type: 'object', properties: { q: { type: 'string' } } } } });
    await run('free', { query: { anything: 1 } });
    expect((await invalid(run('strict', { query: { qq: 'x' } }))).issues[0].message).toContain('did you mean "q"?');
  });

  it('refuses stream: true on run and names execute', async () => {
    const err = await invalid(ductape.actions.run({ env: 'dev', product: 'p', app: 'api', event: 'list_items', stream: true } as never));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('actions.execute');
  });
});
