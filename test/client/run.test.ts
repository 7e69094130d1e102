// actions.run end to end against real loopback servers: every seed request shape, envs, encoding, errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DuctapeError } from '../../src/index.js';
import type { Ductape } from '../../src/index.js';
import { newClient } from '../helpers/client.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { errorOf as catchError } from '../helpers/errors.js';

let dev: Upstream;
let prd: Upstream;
let ductape: Ductape;


beforeEach(async () => {
  dev = await startUpstream();
  prd = await startUpstream();
  ductape = newClient();
  await ductape.apps.create({
    tag: 'internal-api',
    envs: [
      { slug: 'dev', base_url: `${dev.url}/api` },
      { slug: 'prd', base_url: `${prd.url}/api` },
    ],
  });
  await ductape.apps.actions.create({
    app: 'internal-api',
    event: 'create_customer',
    method: 'POST',
    path: '/customers',
    schemas: {
      body: {
        type: 'object',
        required: ['email'],
        properties: { email: { type: 'string', format: 'email' }, name: { type: 'string' }, amount: { type: 'integer', minimum: 1 } },
      },
    },
  });
  await ductape.apps.actions.create({
    app: 'internal-api',
    event: 'search_contacts',
    method: 'GET',
    path: '/contacts/search',
    schemas: { query: { type: 'object', properties: { email: { type: 'string' }, limit: { type: 'integer', maximum: 100 }, tags: { type: 'array', items: { type: 'string' } } } } },
  });
  await ductape.apps.actions.create({ app: 'internal-api', event: 'fetch_user', method: 'GET', path: '/users/:userId' });
  await ductape.products.create({ tag: 'api-gateway', envs: ['dev', 'prd'] });
  await ductape.products.apps.connect({ product: 'api-gateway', app: 'internal-api' });
});

afterEach(async () => {
  await ductape.close();
  await dev.close();
  await prd.close();
});

describe('actions.run', () => {
  it('sends a JSON body and resolves to the parsed response body', async () => {
    const out = await ductape.actions.run<{ method: string; url: string; headers: Record<string, string>; body: string }>({
      env: 'dev',
      product: 'api-gateway',
      app: 'internal-api',
      event: 'create_customer',
      input: { body: { email: 'john@example.com', name: 'John Doe' } },
    });
    expect(out.method).toBe('POST');
    expect(out.url).toBe('/api/customers');
    expect(out.headers['content-type']).toBe('application/json');
    expect(JSON.parse(out.body)).toEqual({ email: 'john@example.com', name: 'John Doe' });
  });

  it('sends query scalars and arrays as repeated keys', async () => {
    await ductape.actions.run({
      env: 'dev',
      product: 'api-gateway',
      app: 'internal-api',
      event: 'search_contacts',
      input: { query: { email: 'jane@example.com', limit: 10, tags: ['a', 'b'] } },
    });
    expect(dev.requests[0].url).toBe('/api/contacts/search?email=jane%40example.com&limit=10&tags=a&tags=b');
  });

  it('fills route params and sends custom headers', async () => {
    await ductape.actions.run({
      env: 'prd',
      product: 'api-gateway',
      app: 'internal-api',
      event: 'fetch_user',
      input: { headers: { 'X-Request-ID': 'req_abc123' }, params: { userId: '456' } },
    });
    expect(prd.requests[0].url).toBe('/api/users/456');
    expect(prd.requests[0].headers['x-request-id']).toBe('req_abc123');
  });

  it('reaches the dev server in dev and the prd server in prd', async () => {
    const base = { product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '1' } } };
    await ductape.actions.run({ ...base, env: 'dev' });
    await ductape.actions.run({ ...base, env: 'prd' });
    await ductape.actions.run({ ...base, env: 'prd' });
    expect(dev.requests).toHaveLength(1);
    expect(prd.requests).toHaveLength(2);
  });

  it.each([
    ['../admin', '/api/users/..%2Fadmin'],
    ['a/b?x=1#y', '/api/users/a%2Fb%3Fx%3D1%23y'],
  ])('keeps %s inside one path segment', async (value, expected) => {
    await ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: value } } });
    expect(dev.requests[0].url).toBe(expected);
  });

  it('refuses the dot-segment .. as a path value, since URL parsers would climb with it', async () => {
    const err = await catchError(
      ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '..' } } }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(dev.requests).toHaveLength(0);
  });

  it('reports every invalid input issue at once and sends nothing', async () => {
    const err = await catchError(
      ductape.actions.run({
        env: 'dev',
        product: 'api-gateway',
        app: 'internal-api',
        event: 'create_customer',
        input: { body: { email: 'not-an-email', amount: 0 } },
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    const issues = (err as DuctapeError & { issues: { location: string; path: string }[] }).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ location: 'body', path: '/email' }),
        expect.objectContaining({ location: 'body', path: '/amount' }),
      ]),
    );
    const err2 = await catchError(
      ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'search_contacts', input: { query: { limit: 500 } } }),
    );
    expect((err2 as DuctapeError & { issues: unknown[] }).issues).toEqual([expect.objectContaining({ location: 'query', path: '/limit' })]);
    expect(dev.requests).toHaveLength(0);
  });

  it('refuses a run without a required path param with INVALID_INPUT', async () => {
    const err = await catchError(ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: {} }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(err.toJSON())).toContain('/userId');
    expect(dev.requests).toHaveLength(0);
  });

  it.each([
    [{ product: 'nope' }, 'product', 'api-gateway'],
    [{ env: 'staging' }, 'env', 'prd'],
    [{ app: 'stripe' }, 'app', 'internal-api'],
    [{ event: 'create_custmer' }, 'event', 'create_customer'],
  ])('throws NOT_FOUND for an unknown %o, naming what exists', async (override, kind, known) => {
    const err = await catchError(
      ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'create_customer', input: {}, ...override }),
    );
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(known);
    expect(err.details.kind).toBe(kind);
  });

  it('suggests the closest event name', async () => {
    const err = await catchError(ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'create_custmer', input: {} }));
    expect(err.message).toContain('did you mean "create_customer"');
  });

  it.each([404, 500])('turns an upstream %i into UPSTREAM_ERROR with status and body', async (status) => {
    const failing = await startUpstream((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `failed with ${status}` } }));
    });
    try {
      await ductape.products.apps.configure({ product: 'api-gateway', app: 'internal-api', env: 'dev', base_url: failing.url });
      const err = await catchError(
        ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '1' } } }),
      );
      expect(err.code).toBe('UPSTREAM_ERROR');
      expect(err.details.status).toBe(status);
      expect(err.details.body).toEqual({ error: { message: `failed with ${status}` } });
    } finally {
      await failing.close();
    }
  });

  it('sees a definition change at the next run', async () => {
    const run = () => ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '7' } } });
    await run();
    await ductape.products.apps.configure({ product: 'api-gateway', app: 'internal-api', env: 'dev', base_url: `${prd.url}/v2`, headers: { 'x-tenant': 'acme' } });
    await run();
    expect(prd.requests[0].url).toBe('/v2/users/7');
    expect(prd.requests[0].headers['x-tenant']).toBe('acme');
  });

  it('returns the whole envelope from execute', async () => {
    const env = await ductape.actions.execute({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '9' } } });
    expect(env).toMatchObject({ status: 200, attempts: 1, cached: false, request: { method: 'GET', url: `${dev.url}/api/users/9` } });
    expect(env.durationMs).toBeGreaterThan(0);
  });

  it('decodes text and empty bodies', async () => {
    const texty = await startUpstream((req, res) => {
      if (req.url.endsWith('/empty')) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('hello');
      }
    });
    try {
      await ductape.products.apps.configure({ product: 'api-gateway', app: 'internal-api', env: 'dev', base_url: texty.url });
      const base = { env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user' };
      expect(await ductape.actions.run({ ...base, input: { params: { userId: 'text' } } })).toBe('hello');
      expect(await ductape.actions.run({ ...base, input: { params: { userId: 'empty' } } })).toBeNull();
    } finally {
      await texty.close();
    }
  });

  it('records every run in the logs, failures included', async () => {
    await ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'fetch_user', input: { params: { userId: '1' } } });
    await catchError(ductape.actions.run({ env: 'dev', product: 'api-gateway', app: 'internal-api', event: 'create_customer', input: { body: {} } }));
    const logs = await ductape.logs.query({ product: 'api-gateway' });
    expect(logs).toHaveLength(2);
    expect(logs.find((l) => l.ok)).toMatchObject({ event: 'fetch_user', status: 200, attempts: 1, cached: false, actor: 'tester@acme.test' });
    expect(logs.find((l) => !l.ok)).toMatchObject({ event: 'create_customer', errorCode: 'INVALID_INPUT', attempts: 0 });
    expect(await ductape.logs.query({ status: 'error' })).toHaveLength(1);
  });
});
